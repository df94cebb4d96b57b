// Debug builds count C++ heap allocations (operator new), so a test can
// check that a warmed-up hello-world Lua request allocates nothing there
// (t/208-lua-alloc.t). Release builds keep the standard operators.
#include <cstdint>
#include <cstdlib>
#include <new>

#include "lua/phases.h"

namespace {
uint64_t gAllocs = 0;
uint64_t gPhaseAllocs = 0;
}  // namespace

#ifndef NDEBUG

namespace {
void* countedAlloc(std::size_t n) {
  gAllocs++;
  void* p = std::malloc(n != 0 ? n : 1);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return countedAlloc(n); }
void* operator new[](std::size_t n) { return countedAlloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

#endif

// Number of operator new calls so far in this process; -1 in release builds.
extern "C" int64_t lunet_ffi_debug_heap_allocs() noexcept {
#ifndef NDEBUG
  return static_cast<int64_t>(gAllocs);
#else
  (void)gAllocs;
  return -1;
#endif
}

// operator new calls made while content_by_lua handlers ran (the Lua
// runtime plus the output it triggers); -1 in release builds.
extern "C" int64_t lunet_ffi_debug_lua_heap_allocs() noexcept {
#ifndef NDEBUG
  return static_cast<int64_t>(gPhaseAllocs);
#else
  (void)gPhaseAllocs;
  return -1;
#endif
}

namespace lunet::lua {

uint64_t debugAllocCount() noexcept { return gAllocs; }
void debugAddPhaseAllocs(uint64_t n) noexcept { gPhaseAllocs += n; }

}  // namespace lunet::lua
