// A bump-pointer arena with cleanup hooks: the per-connection and per-request
// memory pool (nginx's ngx_pool_t). Allocation is a pointer bump inside the
// current block; everything is released at once when the arena dies.
// Not thread-safe; all allocation is from the owning worker's loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

namespace lunet::core {

// A free list of fixed-size blocks (nginx keeps such lists per connection
// and per cycle): hot objects — requests, arena blocks, header buffers,
// write requests — are recycled instead of going back to the C++ heap, so a
// warmed-up request allocates nothing. At most `max` blocks are kept; the
// rest are freed. Free blocks are poisoned under AddressSanitizer, so a use
// after release is still reported. Storage comes from operator new (the
// debug allocation counter sees the warm-up). One list per thread.
class FreeList {
 public:
  constexpr FreeList(size_t size, size_t max) noexcept : size_(size), max_(max) {}
  // Later puts (e.g. from static destructors) free directly.
  ~FreeList() {
    trim(0);
    max_ = 0;
  }
  FreeList(const FreeList&) = delete;
  FreeList& operator=(const FreeList&) = delete;

  void* get() noexcept;
  void put(void* p) noexcept;
  // Frees kept blocks down to `keep`.
  void trim(size_t keep) noexcept;
  size_t size() const { return size_; }
  size_t kept() const { return count_; }

 private:
  struct Node {
    Node* next;
  };
  size_t size_;
  size_t max_;
  size_t count_ = 0;
  Node* head_ = nullptr;
};

class Arena {
 public:
  explicit Arena(size_t blockSize = 4096) noexcept : blockSize_(blockSize) {}
  ~Arena() { reset(); }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Raw memory, aligned to `align` (a power of two). Aborts on OOM.
  void* alloc(size_t n, size_t align = alignof(std::max_align_t)) noexcept {
    uintptr_t p = (reinterpret_cast<uintptr_t>(cur_) + align - 1) & ~(uintptr_t(align) - 1);
    if (cur_ == nullptr || p + n > reinterpret_cast<uintptr_t>(end_)) return grow(n, align);
    cur_ = reinterpret_cast<char*>(p + n);
    return reinterpret_cast<void*>(p);
  }
  // Constructs a T; its destructor runs when the arena dies (unless trivial).
  template <class T, class... A>
  T* make(A&&... a) noexcept {
    void* p = alloc(sizeof(T), alignof(T));
    T* t = new (p) T(std::forward<A>(a)...);
    if constexpr (!std::is_trivially_destructible_v<T>) {
      addCleanup([](void* x) { static_cast<T*>(x)->~T(); }, t);
    }
    return t;
  }
  template <class T>
  T* array(size_t n) noexcept {
    static_assert(std::is_trivially_destructible_v<T>);
    return static_cast<T*>(alloc(sizeof(T) * n, alignof(T)));
  }
  // Copies bytes into the arena (not NUL-terminated unless `nul`).
  std::string_view dup(std::string_view s, bool nul = false) noexcept {
    char* p = static_cast<char*>(alloc(s.size() + (nul ? 1 : 0), 1));
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    if (nul) p[s.size()] = '\0';
    return {p, s.size()};
  }
  // Runs fn(data) when the arena is reset/destroyed, in reverse order.
  void addCleanup(void (*fn)(void*), void* data) noexcept;

  // Frees everything (running cleanups first).
  void reset() noexcept;
  size_t allocated() const { return total_; }

 private:
  struct Block {
    Block* next;
    size_t size;
  };
  struct Cleanup {
    void (*fn)(void*);
    void* data;
    Cleanup* next;
  };
  void* grow(size_t n, size_t align) noexcept;

  size_t blockSize_;
  char* cur_ = nullptr;
  char* end_ = nullptr;
  Block* blocks_ = nullptr;
  Cleanup* cleanups_ = nullptr;
  size_t total_ = 0;
};

// Default-size (4096) arena blocks are recycled through a per-thread
// FreeList (see arena.cc): a request's arena costs no heap call once warm.

// A growable array whose storage lives in an Arena (old storage is simply
// abandoned on growth). For trivially destructible T only.
template <class T>
class ArenaVec {
  static_assert(std::is_trivially_destructible_v<T>);

 public:
  void push(Arena& a, const T& v) noexcept {
    if (size_ == cap_) {
      size_t nc = cap_ ? cap_ * 2 : 8;
      T* n = a.array<T>(nc);
      if (size_) std::memcpy(static_cast<void*>(n), data_, sizeof(T) * size_);
      data_ = n;
      cap_ = nc;
    }
    data_[size_++] = v;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  void erase(size_t i) {
    std::memmove(static_cast<void*>(data_ + i), data_ + i + 1, sizeof(T) * (size_ - i - 1));
    size_--;
  }
  void clear() { size_ = 0; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
};

}  // namespace lunet::core
