#include "shm/counters.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace lunet::shm {

namespace {

Counters* create() noexcept {
  void* p =
      ::mmap(nullptr, sizeof(Counters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "mmap(MAP_ANONYMOUS|MAP_SHARED, %zu) failed (%d: %s)\n", sizeof(Counters),
                 errno, std::strerror(errno));
    std::abort();
  }
  // The mapping is zero-filled; construct the atomics in place anyway.
  return new (p) Counters{};
}

}  // namespace

Counters& counters() noexcept {
  // Created once per master and inherited by every worker it forks; never
  // unmapped (the kernel drops it when the last process exits).
  static Counters* const c = create();
  return *c;
}

}  // namespace lunet::shm
