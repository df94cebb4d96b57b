// A shared dictionary in one zone: lua_shared_dict's storage engine.
//
// Layout (all offsets, no pointers): a header, a bucket array (hash index),
// two byte arrays (block kind, CLOCK reference bit) and an array of 128-byte
// blocks. An item is a chain of blocks: a head block (header + the first
// bytes of key and value) followed by chain blocks (a next index + payload).
// Any free block serves any item, so a write whose key + value fit in
// freeSpace() always succeeds: there is no fragmentation.
//
// Concurrency: writers serialise on one process-shared lock (lock.h) and
// bump a sequence counter around every mutation; readers (get, ttl) run
// without the lock and retry if the counter moved (a seqlock), falling back
// to the mutex after a few tries. The LRU touch of a read is one relaxed
// byte store (a CLOCK bit), never a list move.
//
// Crash safety: a committed item's blocks are never modified except the
// fixed-size number/expiry fields (single stores) and the live range of a
// list (pushes and pops, committed by one store). New contents go into a new item that is committed (one
// store) before the old one is retired. A locker that finds the previous
// holder dead
// rebuilds the index, the LRU list and the free list from the committed
// items; see docs/design/shm.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lunet::shm {

// lua-resty-core's value type codes.
enum class ValueType : uint8_t { kNil = 0, kBoolean = 1, kNumber = 3, kString = 4, kList = 5 };

enum class Rc {
  kOk,
  kNotFound,
  kExists,
  kNoMemory,
  kNotNumber,
  kNotList,
  kIsList,
  kTooSmall,  // string value larger than the caller's buffer; *len = size needed
  kNilValue,  // add/replace with nil
};

struct DictStats {
  uint64_t items = 0;
  uint64_t bytesUsed = 0;  // blocks in use x block size
  uint64_t evictions = 0;
  uint64_t expiredReclaimed = 0;
  uint64_t lockWaits = 0;
  uint64_t repairs = 0;
  uint64_t locks = 0;  // lock acquisitions; reads take none
  uint64_t capacity = 0;
  uint64_t freeSpace = 0;
  uint64_t blocks = 0;
  uint64_t freeBlocks = 0;
  uint64_t buckets = 0;
  uint64_t sliceBuckets = 0;  // buckets per lock hold of flush_all/flush_expired/get_keys
};

struct DictHeader;

class Dict {
 public:
  static constexpr size_t kBlockSize = 128;
  // Bytes of one item's header inside its head block.
  static constexpr size_t kHeadSize = 56;
  static constexpr size_t kHeadPayload = kBlockSize - kHeadSize;
  static constexpr size_t kChainPayload = kBlockSize - 4;

  // Store operations (lua-resty-core's op bits).
  static constexpr int kOpAdd = 1;
  static constexpr int kOpReplace = 2;
  static constexpr int kOpSafe = 4;

  // Views zone memory at `base` (size bytes). Formats it unless `reuse` and
  // it already holds a dict of this size. Returns false with *err if the
  // zone is too small.
  bool attach(void* base, size_t size, bool reuse, std::string* err) noexcept;

  Rc get(std::string_view key, bool stale, ValueType* type, char* buf, size_t* len, double* num,
         uint32_t* flags, bool* isStale, uint64_t now) noexcept;
  Rc store(int op, std::string_view key, ValueType type, std::string_view str, double num,
           int64_t exptimeMs, uint32_t flags, bool* forcible, uint64_t now) noexcept;
  Rc incr(std::string_view key, double* value, bool hasInit, double init, int64_t initTtlMs,
          bool* forcible, uint64_t now) noexcept;
  // Lists: elements are strings or numbers.
  Rc push(std::string_view key, bool left, ValueType type, std::string_view str, double num,
          int64_t* length, uint64_t now) noexcept;
  Rc pop(std::string_view key, bool left, ValueType* type, std::string* str, double* num,
         uint64_t now);
  Rc llen(std::string_view key, int64_t* length, uint64_t now) noexcept;
  // Remaining time to live in ms (0: never expires); kNotFound.
  Rc ttl(std::string_view key, int64_t* ms, uint64_t now) noexcept;
  Rc expire(std::string_view key, int64_t exptimeMs, uint64_t now) noexcept;
  void flushAll(uint64_t now) noexcept;
  // Frees up to `max` expired items (0: all); returns how many.
  int flushExpired(int max, uint64_t now) noexcept;
  // Keys of unexpired items, up to `max` (0: all).
  std::vector<std::string> keys(int max, uint64_t now);

  size_t capacity() const noexcept { return size_; }
  size_t freeSpace() const noexcept;
  DictStats stats() const noexcept;

  // Walks the whole structure under the lock; returns "" when consistent,
  // else what is wrong.
  std::string check();

  // Test hooks: take the lock and open a write section / close it without
  // unlocking, so a child process can die in the middle of a write.
  void debugBeginWrite() noexcept;
  void debugScribble(std::string_view key) noexcept;  // half a store, then return

  // Layout of an item's head block (dict.cc).
  struct Head;

 private:
  class Locked;
  friend class Locked;

  DictHeader* hdr() const { return reinterpret_cast<DictHeader*>(base_); }
  char* block(uint32_t i) const { return base_ + blocksOff_ + static_cast<size_t>(i) * kBlockSize; }
  Head* head(uint32_t i) const { return reinterpret_cast<Head*>(block(i)); }
  uint32_t& nextOf(uint32_t i) const { return *reinterpret_cast<uint32_t*>(block(i)); }
  uint32_t* buckets() const { return reinterpret_cast<uint32_t*>(base_ + bucketsOff_); }
  uint8_t* kinds() const { return reinterpret_cast<uint8_t*>(base_ + kindsOff_); }
  uint8_t* refs() const { return reinterpret_cast<uint8_t*>(base_ + refsOff_); }

  static uint32_t hashKey(std::string_view key) noexcept;
  static uint32_t blocksFor(size_t payload) noexcept;
  bool valid(uint32_t i) const noexcept { return i != 0 && i < nblocks_; }
  bool expired(const Head* h, uint64_t now) const noexcept;

  // Reader side: tolerant of concurrent writers (bounded, bounds-checked).
  uint32_t findTolerant(std::string_view key, uint32_t hash) const noexcept;
  bool keyEquals(uint32_t item, std::string_view key) const noexcept;
  // Copies payload bytes [off, off+n) of item into out; false if the chain
  // is broken (only possible under a concurrent writer).
  bool readPayload(uint32_t item, size_t off, size_t n, char* out) const noexcept;
  Rc getOnce(std::string_view key, uint32_t hash, bool stale, ValueType* type, char* buf,
             size_t* len, double* num, uint32_t* flags, bool* isStale, uint64_t now) const noexcept;

  // Writer side (lock held).
  void beginWrite() noexcept;
  void endWrite() noexcept;
  uint32_t find(std::string_view key, uint32_t hash) const noexcept;
  // Takes the blocks of an item for key + valueLen payload bytes and writes
  // the key; not committed, not linked. Returns 0 without enough blocks.
  uint32_t allocItem(std::string_view key, size_t valueLen) noexcept;
  // Takes n free blocks as a linked chain (kind chain); caller checked freeCount.
  uint32_t takeChain(uint32_t n) noexcept;
  void writePayload(uint32_t item, size_t off, const char* src, size_t n) noexcept;
  void copyPayload(uint32_t from, size_t fromOff, uint32_t to, size_t toOff, size_t n) noexcept;
  void commit(uint32_t item, uint32_t hash, ValueType type, uint32_t flags, uint64_t expires,
              double num) noexcept;
  void link(uint32_t item) noexcept;
  void remove(uint32_t item) noexcept;
  void freeChain(uint32_t item) noexcept;
  void lruUnlink(uint32_t item) noexcept;
  void lruPushHead(uint32_t item) noexcept;
  void touch(uint32_t item) noexcept;
  void reclaimExpiredTail(int n, uint64_t now) noexcept;
  // Makes room for `need` blocks; evicts (LRU, second chance) unless safe.
  bool makeRoom(uint32_t need, bool safe, bool* forcible, uint64_t now) noexcept;
  void repair() noexcept;
  bool walkChain(uint32_t item, const std::vector<uint32_t>& owner,
                 std::vector<uint32_t>* blocks) const;
  void format() noexcept;

  char* base_ = nullptr;
  size_t size_ = 0;
  uint32_t nblocks_ = 0;
  uint32_t nbuckets_ = 0;
  size_t bucketsOff_ = 0, kindsOff_ = 0, refsOff_ = 0, blocksOff_ = 0;
  bool writing_ = false;  // this process holds the lock inside a write section
};

}  // namespace lunet::shm
