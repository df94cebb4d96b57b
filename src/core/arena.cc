#include "core/arena.h"

#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#define LUNET_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LUNET_ASAN 1
#endif
#endif
#ifdef LUNET_ASAN
#include <sanitizer/asan_interface.h>
#define LUNET_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define LUNET_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define LUNET_POISON(p, n) ((void)(p), (void)(n))
#define LUNET_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace lunet::core {

void* FreeList::get() noexcept {
  if (head_ == nullptr) {
    return ::operator new(size_);  // OOM: terminate (noexcept)
  }
  Node* n = head_;
  LUNET_UNPOISON(n, size_);
  head_ = n->next;
  count_--;
  return n;
}

void FreeList::put(void* p) noexcept {
  if (p == nullptr) return;
  if (count_ >= max_) {
    ::operator delete(p);
    return;
  }
  auto* n = static_cast<Node*>(p);
  n->next = head_;
  head_ = n;
  count_++;
  LUNET_POISON(p, size_);
}

void FreeList::trim(size_t keep) noexcept {
  while (count_ > keep && head_ != nullptr) {
    Node* n = head_;
    LUNET_UNPOISON(n, size_);
    head_ = n->next;
    count_--;
    ::operator delete(n);
  }
}

namespace {

constexpr size_t kPooledBlock = 4096;

// Arena blocks of the default size. Enough for the requests of a few
// hundred concurrent connections; bursts beyond that go back to the heap.
FreeList& blockPool() noexcept {
  static thread_local FreeList pool(kPooledBlock, 512);
  return pool;
}

}  // namespace

void* Arena::grow(size_t n, size_t align) noexcept {
  size_t need = n + align + sizeof(Block);
  size_t size = need > blockSize_ ? need : blockSize_;
  Block* b;
  if (size == kPooledBlock) {
    b = static_cast<Block*>(blockPool().get());
  } else {
    b = static_cast<Block*>(::operator new(size));
  }
  b->size = size;
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
    if (b->size == kPooledBlock) {
      blockPool().put(b);
    } else {
      ::operator delete(b);
    }
  }
  cur_ = end_ = nullptr;
  total_ = 0;
}

}  // namespace lunet::core
