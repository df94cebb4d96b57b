#include "shm/lock.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace lunet::shm {

namespace {

// This process's pid, cached (getpid() is a system call); reset in the
// child after fork.
uint32_t gPid = 0;

void resetPid() { gPid = 0; }

const int gAtfork = pthread_atfork(nullptr, nullptr, resetPid);

uint32_t selfPid() {
  if (gPid == 0) gPid = static_cast<uint32_t>(::getpid());
  return gPid;
}

bool alive(uint32_t pid) { return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM; }

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

void futexWait(std::atomic<uint32_t>* word, uint32_t val) {
  timespec ts{0, 10 * 1000 * 1000};
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, val, &ts, nullptr, 0);
}

void futexWake(std::atomic<uint32_t>* word) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

}  // namespace

void initShmMutex(ShmMutex* m) noexcept {
  (void)gAtfork;
  m->owner.store(0, std::memory_order_relaxed);
  m->waiters.store(0, std::memory_order_relaxed);
}

LockState lockShm(ShmMutex* m, bool* waited) noexcept {
  uint32_t me = selfPid();
  uint32_t cur = 0;
  *waited = false;
  if (m->owner.compare_exchange_strong(cur, me, std::memory_order_acquire)) {
    return LockState::kLocked;
  }
  *waited = true;
  for (;;) {
    for (int i = 0; i < 200; i++) {
      cur = m->owner.load(std::memory_order_relaxed);
      if (cur == 0 && m->owner.compare_exchange_weak(cur, me, std::memory_order_acquire)) {
        return LockState::kLocked;
      }
      cpuRelax();
    }
    cur = m->owner.load(std::memory_order_relaxed);
    if (cur == 0) continue;
    // Held under our own pid: its previous owner had this pid and died
    // (only possible after pid reuse); the lock is ours already.
    if (cur == me) return LockState::kOwnerDied;
    if (!alive(cur)) {
      if (m->owner.compare_exchange_strong(cur, me, std::memory_order_acquire)) {
        return LockState::kOwnerDied;
      }
      continue;
    }
    m->waiters.fetch_add(1, std::memory_order_relaxed);
    futexWait(&m->owner, cur);
    m->waiters.fetch_sub(1, std::memory_order_relaxed);
  }
}

void unlockShm(ShmMutex* m) noexcept {
  m->owner.store(0, std::memory_order_release);
  if (m->waiters.load(std::memory_order_seq_cst) != 0) futexWake(&m->owner);
}

}  // namespace lunet::shm
