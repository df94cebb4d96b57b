#include "shm/lock.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lunet::shm {

int initRobustMutex(pthread_mutex_t* m) noexcept {
  pthread_mutexattr_t a;
  int rc = pthread_mutexattr_init(&a);
  if (rc != 0) return rc;
  rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  if (rc == 0) rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  if (rc == 0) rc = pthread_mutex_init(m, &a);
  pthread_mutexattr_destroy(&a);
  return rc;
}

LockState lockRobust(pthread_mutex_t* m, bool* waited) noexcept {
  *waited = false;
  int rc = pthread_mutex_trylock(m);
  if (rc == EBUSY) {
    *waited = true;
    rc = pthread_mutex_lock(m);
  }
  if (rc == 0) return LockState::kLocked;
  if (rc == EOWNERDEAD) return LockState::kOwnerDied;
  std::fprintf(stderr, "shared memory mutex lock failed (%d: %s)\n", rc, std::strerror(rc));
  std::abort();
}

void markConsistent(pthread_mutex_t* m) noexcept { pthread_mutex_consistent(m); }

void unlockRobust(pthread_mutex_t* m) noexcept { pthread_mutex_unlock(m); }

}  // namespace lunet::shm
