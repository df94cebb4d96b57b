#include "core/arena.h"

#include <cstdlib>

namespace lunet::core {

void* Arena::grow(size_t n, size_t align) noexcept {
  size_t need = n + align + sizeof(Block);
  size_t size = need > blockSize_ ? need : blockSize_;
  auto* b = static_cast<Block*>(std::malloc(size));
  if (b == nullptr) std::abort();
  total_ += size;
  char* base = reinterpret_cast<char*>(b) + sizeof(Block);
  char* end = reinterpret_cast<char*>(b) + size;
  // Big one-off allocations go in their own block and keep the current one.
  if (need > blockSize_ / 2 && cur_ != nullptr) {
    b->next = blocks_ ? blocks_->next : nullptr;
    if (blocks_) {
      blocks_->next = b;
    } else {
      blocks_ = b;
    }
    uintptr_t p = (reinterpret_cast<uintptr_t>(base) + align - 1) & ~(uintptr_t(align) - 1);
    return reinterpret_cast<void*>(p);
  }
  b->next = blocks_;
  blocks_ = b;
  cur_ = base;
  end_ = end;
  uintptr_t p = (reinterpret_cast<uintptr_t>(cur_) + align - 1) & ~(uintptr_t(align) - 1);
  cur_ = reinterpret_cast<char*>(p + n);
  return reinterpret_cast<void*>(p);
}

void Arena::addCleanup(void (*fn)(void*), void* data) noexcept {
  auto* c = static_cast<Cleanup*>(alloc(sizeof(Cleanup), alignof(Cleanup)));
  c->fn = fn;
  c->data = data;
  c->next = cleanups_;
  cleanups_ = c;
}

void Arena::reset() noexcept {
  while (cleanups_ != nullptr) {
    Cleanup* c = cleanups_;
    cleanups_ = c->next;
    c->fn(c->data);
  }
  while (blocks_ != nullptr) {
    Block* b = blocks_;
    blocks_ = b->next;
    std::free(b);
  }
  cur_ = end_ = nullptr;
  total_ = 0;
}

}  // namespace lunet::core
