// Process-shared locks that survive their holder's death.
//
// A robust, process-shared pthread mutex lives inside zone memory. When a
// process dies holding it (SIGKILL in the middle of a write), the next
// locker gets EOWNERDEAD: lock() reports it so the owner of the structure
// can repair it before markConsistent() makes the mutex usable again.
#pragma once

#include <pthread.h>

namespace lunet::shm {

// Initialises a mutex in shared memory (process-shared + robust).
// Returns 0 or an errno value.
int initRobustMutex(pthread_mutex_t* m) noexcept;

enum class LockState { kLocked, kOwnerDied };

// Locks `m`; *waited is set when the lock was busy. Aborts on errors other
// than EOWNERDEAD (they mean memory corruption: continuing would be worse).
LockState lockRobust(pthread_mutex_t* m, bool* waited) noexcept;
// After a kOwnerDied lock and the repair.
void markConsistent(pthread_mutex_t* m) noexcept;
void unlockRobust(pthread_mutex_t* m) noexcept;

}  // namespace lunet::shm
