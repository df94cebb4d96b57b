// Internals shared by dict.cc (operations) and dict_repair.cc (crash
// repair and the consistency check): the zone header, the item head and
// the lock guard. Not for other users of the dict.
#pragma once

#include <atomic>
#include <cstring>

#include "shm/dict.h"
#include "shm/lock.h"

namespace lunet::shm {

namespace dict_internal {

constexpr uint64_t kMagic = 0x4c554e4554534844ULL;  // "LUNETSHD"
constexpr uint8_t kCommitted = 0xC5;
constexpr uint8_t kFree = 0, kHeadKind = 1, kChainKind = 2;
// Buckets handled per lock hold by the whole-dict walks (flush_all,
// flush_expired, get_keys): other workers wait at most one slice.
constexpr uint32_t kSliceBuckets = 256;
constexpr int kOptimisticTries = 16;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

template <class T>
std::atomic_ref<T> at(T& v) {
  return std::atomic_ref<T>(v);
}

inline size_t roundUp(size_t n, size_t a) { return (n + a - 1) / a * a; }

}  // namespace dict_internal
using namespace dict_internal;

struct DictHeader {
  uint64_t magic;
  uint64_t size;
  uint32_t nblocks;
  uint32_t nbuckets;
  ShmMutex mutex;
  alignas(64) uint64_t seq;  // odd while a writer mutates
  alignas(64) uint32_t freeHead;
  uint32_t freeCount;
  uint32_t lruHead, lruTail;
  uint32_t items;
  uint32_t version;
  uint64_t evictions;
  uint64_t expiredReclaimed;
  uint64_t lockWaits;
  uint64_t repairs;
  uint64_t locks;  // lock acquisitions (reads take none)
};

struct Dict::Head {
  uint32_t next;  // first chain block; shares the slot of a chain block's next
  uint32_t hnext;
  uint32_t lprev, lnext;
  uint32_t hash;
  uint32_t valueLen;  // payload bytes after the key
  uint32_t flags;     // user flags; for lists, where the live elements start
  uint32_t version;
  uint16_t keyLen;
  uint8_t type;
  uint8_t state;
  uint32_t pad;
  uint64_t expires;  // ms since the epoch, 0: never
  double num;        // number / boolean value; for lists, the element count
};
static_assert(sizeof(Dict::Head) == Dict::kHeadSize);

// The lock, with repair when the previous holder died; closes the write
// section on the way out.
class Dict::Locked {
 public:
  explicit Locked(Dict& d) noexcept : d_(d) {
    bool waited = false;
    LockState st = lockShm(&d.hdr()->mutex, &waited);
    if (waited) at(d.hdr()->lockWaits).fetch_add(1, std::memory_order_relaxed);
    d.hdr()->locks++;
    if (st == LockState::kOwnerDied || (at(d.hdr()->seq).load(std::memory_order_relaxed) & 1)) {
      d.repair();
    }
  }
  ~Locked() {
    if (d_.writing_) d_.endWrite();
    unlockShm(&d_.hdr()->mutex);
  }
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;

 private:
  Dict& d_;
};

}  // namespace lunet::shm
