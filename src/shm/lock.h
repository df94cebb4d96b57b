// A process-shared lock that survives its holder's death.
//
// One 32-bit word in zone memory holds the owner's pid (0: free). Locking
// is one compare-and-swap when uncontended; a waiter spins briefly, then
// sleeps on the word (futex, 10 ms at a time) and, between sleeps, checks
// that the owner still exists. If the owner died (a worker SIGKILLed in the
// middle of a write), the waiter takes the lock over and lock() says so, so
// the structure's owner repairs it before going on.
//
// Why not a robust pthread mutex: its lock/unlock pair costs about 40 ns
// (robust-list bookkeeping on every call), a third of a dict operation.
// Residual risk: a dead owner's pid reused by a new process before a waiter
// looks; the master reaps workers at once and pids are allocated in order,
// so the window is tiny.
#pragma once

#include <atomic>
#include <cstdint>

namespace lunet::shm {

struct ShmMutex {
  std::atomic<uint32_t> owner;    // pid of the holder, 0 when free
  std::atomic<uint32_t> waiters;  // sleeping on `owner`
};
static_assert(std::atomic<uint32_t>::is_always_lock_free);

void initShmMutex(ShmMutex* m) noexcept;

enum class LockState { kLocked, kOwnerDied };

// Locks `m`; *waited is set when the lock was busy. kOwnerDied: the lock
// was taken over from a dead holder (now held by the caller).
LockState lockShm(ShmMutex* m, bool* waited) noexcept;
void unlockShm(ShmMutex* m) noexcept;

}  // namespace lunet::shm
