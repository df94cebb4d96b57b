#include "shm/dict.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>

#include "shm/dict_internal.h"

namespace lunet::shm {

uint32_t Dict::hashKey(std::string_view key) noexcept {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ key.size();
  const char* p = key.data();
  size_t n = key.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h ^= w * 0xbf58476d1ce4e5b9ULL;
    h = ((h << 31) | (h >> 33)) * 0x94d049bb133111ebULL;
    p += 8;
    n -= 8;
  }
  // The tail (0..7 bytes) in registers: a variable-length memcpy into a
  // stack word compiles to byte stores then an 8-byte load, which stalls on
  // store forwarding (a third of a short-key get). Overlapping loads are
  // fine: the length is already in h.
  uint64_t w = 0;
  if (n >= 4) {
    uint32_t a;
    uint32_t b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    w = a | (uint64_t{b} << 32);
  } else if (n > 0) {
    auto* u = reinterpret_cast<const unsigned char*>(p);
    w = u[0] | (uint64_t{u[n / 2]} << 8) | (uint64_t{u[n - 1]} << 16);
  }
  h ^= w * 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 29;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 32;
  return static_cast<uint32_t>(h);
}

uint32_t Dict::blocksFor(size_t payload) noexcept {
  if (payload <= kHeadPayload) return 1;
  return static_cast<uint32_t>(1 + (payload - kHeadPayload + kChainPayload - 1) / kChainPayload);
}

bool Dict::expired(const Head* h, uint64_t now) const noexcept {
  uint64_t e = h->expires;
  return e != 0 && e < now;
}

bool Dict::attach(void* base, size_t size, bool reuse, std::string* err) noexcept {
  base_ = static_cast<char*>(base);
  size_ = size;
  size_t hdrSize = roundUp(sizeof(DictHeader), kBlockSize);
  if (size < hdrSize + 4 * kBlockSize) {
    *err = "shared dict zone too small";
    return false;
  }
  size_t avail = size - hdrSize;
  size_t n = avail / (kBlockSize + 4);
  for (;;) {
    size_t nb = 8;
    while (nb * 2 <= std::max<size_t>(n / 2, 8)) nb *= 2;
    bucketsOff_ = hdrSize;
    kindsOff_ = bucketsOff_ + nb * 4;
    refsOff_ = kindsOff_ + n;
    blocksOff_ = roundUp(refsOff_ + n, kBlockSize);
    if (blocksOff_ + n * kBlockSize <= size || n < 4) {
      nbuckets_ = static_cast<uint32_t>(nb);
      break;
    }
    n--;
  }
  if (n < 4) {
    *err = "shared dict zone too small";
    return false;
  }
  nblocks_ = static_cast<uint32_t>(n);
  DictHeader* h = hdr();
  if (reuse && h->magic == kMagic && h->size == size && h->nblocks == nblocks_ &&
      h->nbuckets == nbuckets_) {
    return true;
  }
  format();
  return true;
}

void Dict::format() noexcept {
  std::memset(base_, 0, blocksOff_);
  DictHeader* h = new (base_) DictHeader{};
  h->size = size_;
  h->nblocks = nblocks_;
  h->nbuckets = nbuckets_;
  initShmMutex(&h->mutex);
  // Block 0 is the null index; the free list links 1 .. n-1 in order.
  for (uint32_t i = 1; i < nblocks_; i++) nextOf(i) = i + 1 < nblocks_ ? i + 1 : 0;
  h->freeHead = 1;
  h->freeCount = nblocks_ - 1;
  h->magic = kMagic;
}

// ---- reader side -----------------------------------------------------------

bool Dict::keyEquals(uint32_t item, std::string_view key) const noexcept {
  const char* p = key.data();
  size_t n = key.size();
  const char* data = block(item) + kHeadSize;
  size_t cap = kHeadPayload;
  uint32_t b = item;
  uint32_t hops = 0;
  while (n > 0) {
    size_t take = std::min(n, cap);
    if (std::memcmp(data, p, take) != 0) return false;
    p += take;
    n -= take;
    if (n == 0) break;
    b = nextOf(b);
    if (!valid(b) || ++hops > nblocks_) return false;
    data = block(b) + 4;
    cap = kChainPayload;
  }
  return true;
}

bool Dict::readPayload(uint32_t item, size_t off, size_t n, char* out) const noexcept {
  uint32_t b = item;
  size_t start = 0, cap = kHeadPayload;
  const char* data = block(item) + kHeadSize;
  uint32_t hops = 0;
  while (n > 0) {
    if (off >= start + cap) {
      b = nextOf(b);
      if (!valid(b) || ++hops > nblocks_) return false;
      start += cap;
      cap = kChainPayload;
      data = block(b) + 4;
      continue;
    }
    size_t in = off - start;
    size_t take = std::min(n, cap - in);
    std::memcpy(out, data + in, take);
    out += take;
    off += take;
    n -= take;
  }
  return true;
}

uint32_t Dict::findTolerant(std::string_view key, uint32_t hash) const noexcept {
  uint32_t i = buckets()[hash & (nbuckets_ - 1)];
  uint32_t hops = 0;
  while (valid(i) && hops++ <= nblocks_) {
    const Head* h = head(i);
    if (h->hash == hash && h->keyLen == key.size() && h->state == kCommitted && keyEquals(i, key)) {
      return i;
    }
    i = h->hnext;
  }
  return 0;
}

Rc Dict::getOnce(std::string_view key, uint32_t hash, bool stale, ValueType* type, char* buf,
                 size_t* len, double* num, uint32_t* flags, bool* isStale,
                 uint64_t now) const noexcept {
  uint32_t i = findTolerant(key, hash);
  *type = ValueType::kNil;
  *isStale = false;
  if (i == 0) return Rc::kOk;
  const Head* h = head(i);
  bool exp = expired(h, now);
  if (exp && !stale) return Rc::kOk;
  auto t = static_cast<ValueType>(h->type);
  uint32_t vlen = h->valueLen;
  *flags = h->flags;
  *isStale = exp;
  switch (t) {
    case ValueType::kString:
      if (vlen > *len) {
        *len = vlen;
        return Rc::kTooSmall;
      }
      if (!readPayload(i, h->keyLen, vlen, buf)) return Rc::kNotFound;  // torn: retry
      *len = vlen;
      break;
    case ValueType::kNumber:
      *num = h->num;
      break;
    case ValueType::kBoolean:
      if (*len < 1) return Rc::kTooSmall;
      buf[0] = h->num != 0 ? 1 : 0;
      *len = 1;
      break;
    case ValueType::kList:
      *flags = 0;
      return Rc::kIsList;
    default:
      return Rc::kNotFound;  // torn: retry
  }
  *type = t;
  refs()[i] = 1;  // CLOCK reference bit; harmless if the block was reused meanwhile
  return Rc::kOk;
}

Rc Dict::get(std::string_view key, bool stale, ValueType* type, char* buf, size_t* len, double* num,
             uint32_t* flags, bool* isStale, uint64_t now) noexcept {
  uint32_t hash = hashKey(key);
  size_t cap = *len;
  uint64_t* seq = &hdr()->seq;
  for (int attempt = 0; attempt < kOptimisticTries; attempt++) {
    uint64_t s1 = at(*seq).load(std::memory_order_acquire);
    if ((s1 & 1) == 0) {
      *len = cap;
      Rc rc = getOnce(key, hash, stale, type, buf, len, num, flags, isStale, now);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (at(*seq).load(std::memory_order_relaxed) == s1 && rc != Rc::kNotFound) return rc;
    }
    for (int i = 0; i < 32; i++) cpuRelax();
  }
  Locked l(*this);
  *len = cap;
  Rc rc = getOnce(key, hash, stale, type, buf, len, num, flags, isStale, now);
  return rc == Rc::kNotFound ? Rc::kOk : rc;
}

// ---- writer side -----------------------------------------------------------

void Dict::beginWrite() noexcept {
  if (writing_) return;
  writing_ = true;
  uint64_t s = at(hdr()->seq).load(std::memory_order_relaxed);
  at(hdr()->seq).store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

void Dict::endWrite() noexcept {
  writing_ = false;
  uint64_t s = at(hdr()->seq).load(std::memory_order_relaxed);
  at(hdr()->seq).store((s | 1) + 1, std::memory_order_release);
}

uint32_t Dict::find(std::string_view key, uint32_t hash) const noexcept {
  uint32_t i = buckets()[hash & (nbuckets_ - 1)];
  while (i != 0) {
    const Head* h = head(i);
    if (h->hash == hash && h->keyLen == key.size() && keyEquals(i, key)) return i;
    i = h->hnext;
  }
  return 0;
}

void Dict::writePayload(uint32_t item, size_t off, const char* src, size_t n) noexcept {
  uint32_t b = item;
  size_t start = 0, cap = kHeadPayload;
  char* data = block(item) + kHeadSize;
  while (n > 0) {
    if (off >= start + cap) {
      b = nextOf(b);
      start += cap;
      cap = kChainPayload;
      data = block(b) + 4;
      continue;
    }
    size_t in = off - start;
    size_t take = std::min(n, cap - in);
    std::memcpy(data + in, src, take);
    src += take;
    off += take;
    n -= take;
  }
}

void Dict::copyPayload(uint32_t from, size_t fromOff, uint32_t to, size_t toOff,
                       size_t n) noexcept {
  char tmp[512];
  while (n > 0) {
    size_t take = std::min(n, sizeof(tmp));
    readPayload(from, fromOff, take, tmp);
    writePayload(to, toOff, tmp, take);
    fromOff += take;
    toOff += take;
    n -= take;
  }
}

uint32_t Dict::allocItem(std::string_view key, size_t valueLen) noexcept {
  DictHeader* h = hdr();
  uint32_t need = blocksFor(key.size() + valueLen);
  if (h->freeCount < need) return 0;
  beginWrite();
  uint32_t first = h->freeHead;
  uint32_t b = first;
  for (uint32_t k = 0; k < need; k++) {
    kinds()[b] = k == 0 ? kHeadKind : kChainKind;
    refs()[b] = 0;
    uint32_t nx = nextOf(b);
    if (k + 1 == need) {
      h->freeHead = nx;
      nextOf(b) = 0;
    }
    b = nx;
  }
  h->freeCount -= need;
  Head* hd = head(first);
  hd->state = 0;
  hd->keyLen = static_cast<uint16_t>(key.size());
  hd->valueLen = static_cast<uint32_t>(valueLen);
  writePayload(first, 0, key.data(), key.size());
  return first;
}

uint32_t Dict::takeChain(uint32_t n) noexcept {
  DictHeader* h = hdr();
  uint32_t first = h->freeHead;
  uint32_t b = first;
  for (uint32_t k = 0; k < n; k++) {
    kinds()[b] = kChainKind;
    refs()[b] = 0;
    uint32_t nx = nextOf(b);
    if (k + 1 == n) {
      h->freeHead = nx;
      nextOf(b) = 0;
    }
    b = nx;
  }
  h->freeCount -= n;
  return first;
}

void Dict::commit(uint32_t item, uint32_t hash, ValueType type, uint32_t flags, uint64_t expires,
                  double num) noexcept {
  Head* h = head(item);
  h->hash = hash;
  h->type = static_cast<uint8_t>(type);
  h->flags = flags;
  h->expires = expires;
  h->num = num;
  h->version = ++hdr()->version;
  h->hnext = 0;
  h->lprev = h->lnext = 0;
  at(h->state).store(kCommitted, std::memory_order_release);
}

void Dict::link(uint32_t item) noexcept {
  beginWrite();
  Head* h = head(item);
  uint32_t& bucket = buckets()[h->hash & (nbuckets_ - 1)];
  h->hnext = bucket;
  bucket = item;
  lruPushHead(item);
  hdr()->items++;
}

void Dict::lruUnlink(uint32_t item) noexcept {
  beginWrite();
  DictHeader* d = hdr();
  Head* h = head(item);
  if (h->lprev != 0) {
    head(h->lprev)->lnext = h->lnext;
  } else {
    d->lruHead = h->lnext;
  }
  if (h->lnext != 0) {
    head(h->lnext)->lprev = h->lprev;
  } else {
    d->lruTail = h->lprev;
  }
  h->lprev = h->lnext = 0;
}

void Dict::lruPushHead(uint32_t item) noexcept {
  beginWrite();
  DictHeader* d = hdr();
  Head* h = head(item);
  h->lprev = 0;
  h->lnext = d->lruHead;
  if (d->lruHead != 0) head(d->lruHead)->lprev = item;
  d->lruHead = item;
  if (d->lruTail == 0) d->lruTail = item;
}

void Dict::touch(uint32_t item) noexcept {
  if (hdr()->lruHead == item) return;
  lruUnlink(item);
  lruPushHead(item);
}

void Dict::freeChain(uint32_t item) noexcept {
  DictHeader* d = hdr();
  uint32_t b = item;
  while (b != 0) {
    uint32_t nx = nextOf(b);
    kinds()[b] = kFree;
    nextOf(b) = d->freeHead;
    d->freeHead = b;
    d->freeCount++;
    b = nx;
  }
}

void Dict::remove(uint32_t item) noexcept {
  beginWrite();
  Head* h = head(item);
  at(h->state).store(0, std::memory_order_release);
  uint32_t* p = &buckets()[h->hash & (nbuckets_ - 1)];
  while (*p != 0 && *p != item) p = &head(*p)->hnext;
  if (*p == item) *p = h->hnext;
  lruUnlink(item);
  hdr()->items--;
  freeChain(item);
}

void Dict::reclaimExpiredTail(int n, uint64_t now) noexcept {
  for (int i = 0; i < n; i++) {
    uint32_t t = hdr()->lruTail;
    if (t == 0 || !expired(head(t), now)) return;
    remove(t);
    hdr()->expiredReclaimed++;
  }
}

bool Dict::makeRoom(uint32_t need, bool safe, bool* forcible, uint64_t now) noexcept {
  DictHeader* d = hdr();
  if (need > nblocks_ - 1) return false;  // never fits: evict nothing
  uint64_t secondChances = static_cast<uint64_t>(d->items) * 2 + 2;
  while (d->freeCount < need) {
    uint32_t t = d->lruTail;
    if (t == 0) return false;
    if (expired(head(t), now)) {
      remove(t);
      d->expiredReclaimed++;
      continue;
    }
    if (safe) return false;
    if (refs()[t] != 0 && secondChances > 0) {
      secondChances--;
      refs()[t] = 0;
      touch(t);
      continue;
    }
    remove(t);
    d->evictions++;
    *forcible = true;
  }
  return true;
}

Rc Dict::store(int op, std::string_view key, ValueType type, std::string_view str, double num,
               int64_t exptimeMs, uint32_t flags, bool* forcible, uint64_t now) noexcept {
  *forcible = false;
  if (type == ValueType::kNil && (op & (kOpAdd | kOpReplace)) != 0) return Rc::kNilValue;
  Locked l(*this);
  reclaimExpiredTail(2, now);
  uint32_t hash = hashKey(key);
  uint32_t old = find(key, hash);
  bool live = old != 0 && !expired(head(old), now);
  if ((op & kOpReplace) != 0 && !live) return Rc::kNotFound;
  if ((op & kOpAdd) != 0 && live) return Rc::kExists;
  if (type == ValueType::kNil) {
    if (old != 0) remove(old);
    return Rc::kOk;
  }
  if (type == ValueType::kBoolean) num = num != 0 ? 1 : 0;
  uint64_t expires = exptimeMs > 0 ? now + static_cast<uint64_t>(exptimeMs) : 0;
  if (live && (type == ValueType::kNumber || type == ValueType::kBoolean)) {
    Head* h = head(old);
    if (h->type == static_cast<uint8_t>(type) && h->flags == flags && h->expires == 0 &&
        expires == 0) {
      // Only the value changes: one aligned 8-byte store, as incr does.
      beginWrite();
      h->num = num;
      touch(old);
      return Rc::kOk;
    }
  }
  size_t vlen = type == ValueType::kString ? str.size() : 0;
  uint32_t need = blocksFor(key.size() + vlen);
  if (hdr()->freeCount < need) {
    // The old item's blocks count as room (it goes anyway).
    if (old != 0) {
      remove(old);
      old = 0;
    }
    if (!makeRoom(need, (op & kOpSafe) != 0, forcible, now)) return Rc::kNoMemory;
  }
  uint32_t it = allocItem(key, vlen);
  if (vlen > 0) writePayload(it, key.size(), str.data(), vlen);
  commit(it, hash, type, flags, expires, num);
  link(it);
  if (old != 0) remove(old);
  return Rc::kOk;
}

Rc Dict::incr(std::string_view key, double* value, bool hasInit, double init, int64_t initTtlMs,
              bool* forcible, uint64_t now) noexcept {
  *forcible = false;
  Locked l(*this);
  reclaimExpiredTail(2, now);
  uint32_t hash = hashKey(key);
  uint32_t old = find(key, hash);
  if (old != 0 && !expired(head(old), now)) {
    Head* h = head(old);
    if (h->type != static_cast<uint8_t>(ValueType::kNumber)) return Rc::kNotNumber;
    beginWrite();
    h->num += *value;  // one aligned 8-byte store
    *value = h->num;
    touch(old);
    return Rc::kOk;
  }
  if (!hasInit) return Rc::kNotFound;
  if (old != 0) remove(old);
  uint32_t need = blocksFor(key.size());
  if (hdr()->freeCount < need && !makeRoom(need, false, forcible, now)) return Rc::kNoMemory;
  uint32_t it = allocItem(key, 0);
  double n = *value + init;
  uint64_t expires = initTtlMs > 0 ? now + static_cast<uint64_t>(initTtlMs) : 0;
  commit(it, hash, ValueType::kNumber, 0, expires, n);
  link(it);
  *value = n;
  return Rc::kOk;
}

// List payload (after the key): elements [type u8][len u32][bytes], the live
// ones from head.flags to valueLen; head.num counts them. Pops shrink the
// range in place (no allocation, so they work in a full dict). Pushes write
// into the free bytes before the range (lpush after lpops) or after it
// (rpush, taking chain blocks as needed); otherwise, or once the popped-off
// prefix outgrows the live part, they write a compacted copy.

Rc Dict::push(std::string_view key, bool left, ValueType type, std::string_view str, double num,
              int64_t* length, uint64_t now) noexcept {
  Locked l(*this);
  reclaimExpiredTail(2, now);
  uint32_t hash = hashKey(key);
  uint32_t old = find(key, hash);
  if (old != 0 && expired(head(old), now)) {
    remove(old);
    old = 0;
  }
  if (old != 0 && head(old)->type != static_cast<uint8_t>(ValueType::kList)) return Rc::kNotList;
  char elem[5 + 8];
  uint32_t elen = type == ValueType::kString ? static_cast<uint32_t>(str.size()) : 8;
  elem[0] = static_cast<char>(type);
  std::memcpy(elem + 1, &elen, 4);
  const char* edata = str.data();
  if (type != ValueType::kString) {
    std::memcpy(elem + 5, &num, 8);
    edata = elem + 5;
  }
  uint32_t e = 5 + elen;
  if (old != 0) {
    // In place when possible: the new element goes into dead or unused
    // bytes, then one store (flags or valueLen) makes it part of the list.
    Head* h = head(old);
    size_t k = h->keyLen;
    if (left && h->flags >= e) {
      beginWrite();
      size_t at0 = k + h->flags - e;
      writePayload(old, at0, elem, 5);
      writePayload(old, at0 + 5, edata, elen);
      at(h->flags).store(h->flags - e, std::memory_order_release);
      h->num += 1;
      touch(old);
      *length = static_cast<int64_t>(h->num);
      return Rc::kOk;
    }
    // Appending; unless the popped-off prefix outgrew the live part, then
    // the copy below compacts the list.
    if (!left && h->flags <= std::max<size_t>(4096, h->valueLen - h->flags)) {
      size_t end = k + h->valueLen;
      uint32_t have = blocksFor(end), need = blocksFor(end + e);
      if (need - have > hdr()->freeCount) return Rc::kNoMemory;
      beginWrite();
      if (need > have) {
        uint32_t last = old;
        for (uint32_t i = 1; i < have; i++) last = nextOf(last);
        nextOf(last) = takeChain(need - have);
      }
      writePayload(old, end, elem, 5);
      writePayload(old, end + 5, edata, elen);
      at(h->valueLen).store(h->valueLen + e, std::memory_order_release);
      h->num += 1;
      touch(old);
      *length = static_cast<int64_t>(h->num);
      return Rc::kOk;
    }
  }
  size_t liveOff = 0, liveLen = 0;
  double count = 0;
  uint64_t expires = 0;
  if (old != 0) {
    const Head* h = head(old);
    liveOff = h->keyLen + h->flags;
    liveLen = h->valueLen - h->flags;
    count = h->num;
    expires = h->expires;
  }
  size_t vlen = liveLen + e;
  if (hdr()->freeCount < blocksFor(key.size() + vlen)) return Rc::kNoMemory;
  uint32_t it = allocItem(key, vlen);
  size_t k = key.size();
  if (left) {
    writePayload(it, k, elem, 5);
    writePayload(it, k + 5, edata, elen);
    if (liveLen > 0) copyPayload(old, liveOff, it, k + 5 + elen, liveLen);
  } else {
    if (liveLen > 0) copyPayload(old, liveOff, it, k, liveLen);
    writePayload(it, k + liveLen, elem, 5);
    writePayload(it, k + liveLen + 5, edata, elen);
  }
  commit(it, hash, ValueType::kList, 0, expires, count + 1);
  link(it);
  if (old != 0) remove(old);
  *length = static_cast<int64_t>(count) + 1;
  return Rc::kOk;
}

Rc Dict::pop(std::string_view key, bool left, ValueType* type, std::string* str, double* num,
             uint64_t now) {
  Locked l(*this);
  reclaimExpiredTail(2, now);
  uint32_t hash = hashKey(key);
  uint32_t it = find(key, hash);
  if (it == 0 || expired(head(it), now)) return Rc::kNotFound;
  Head* h = head(it);
  if (h->type != static_cast<uint8_t>(ValueType::kList)) return Rc::kNotList;
  size_t k = h->keyLen;
  size_t off = h->flags;  // relative to the value
  size_t end = h->valueLen;
  auto count = static_cast<uint64_t>(h->num);
  if (count == 0) return Rc::kNotFound;
  size_t at = off;
  if (!left) {
    for (uint64_t i = 0; i + 1 < count; i++) {
      uint32_t l32;
      readPayload(it, k + at + 1, 4, reinterpret_cast<char*>(&l32));
      at += 5 + l32;
    }
  }
  char eh[5];
  readPayload(it, k + at, 5, eh);
  uint32_t elen;
  std::memcpy(&elen, eh + 1, 4);
  *type = static_cast<ValueType>(eh[0]);
  if (*type == ValueType::kString) {
    str->resize(elen);  // may throw: nothing has changed yet
    readPayload(it, k + at + 5, elen, str->data());
  } else {
    readPayload(it, k + at + 5, 8, reinterpret_cast<char*>(num));
  }
  if (count == 1) {
    remove(it);
    return Rc::kOk;
  }
  beginWrite();
  if (left) {
    h->flags = static_cast<uint32_t>(off + 5 + elen);
  } else {
    h->valueLen = static_cast<uint32_t>(at);
    (void)end;
    // Give back the chain blocks past the new end.
    uint32_t keep = blocksFor(k + at);
    uint32_t b = it;
    for (uint32_t i = 1; i < keep; i++) b = nextOf(b);
    uint32_t rest = nextOf(b);
    nextOf(b) = 0;
    if (rest != 0) freeChain(rest);
  }
  h->num = static_cast<double>(count - 1);
  touch(it);
  return Rc::kOk;
}

Rc Dict::llen(std::string_view key, int64_t* length, uint64_t now) noexcept {
  Locked l(*this);
  uint32_t it = find(key, hashKey(key));
  *length = 0;
  if (it == 0 || expired(head(it), now)) return Rc::kOk;
  if (head(it)->type != static_cast<uint8_t>(ValueType::kList)) return Rc::kNotList;
  *length = static_cast<int64_t>(head(it)->num);
  touch(it);
  return Rc::kOk;
}

Rc Dict::ttl(std::string_view key, int64_t* ms, uint64_t now) noexcept {
  Locked l(*this);
  uint32_t it = find(key, hashKey(key));
  if (it == 0) return Rc::kNotFound;
  uint64_t e = head(it)->expires;
  *ms = e == 0 ? 0 : static_cast<int64_t>(e) - static_cast<int64_t>(now);
  return Rc::kOk;
}

Rc Dict::expire(std::string_view key, int64_t exptimeMs, uint64_t now) noexcept {
  Locked l(*this);
  uint32_t it = find(key, hashKey(key));
  if (it == 0) return Rc::kNotFound;
  beginWrite();
  head(it)->expires = exptimeMs > 0 ? now + static_cast<uint64_t>(exptimeMs) : 0;
  return Rc::kOk;
}

void Dict::flushAll(uint64_t) noexcept {
  for (uint32_t b0 = 0; b0 < nbuckets_; b0 += kSliceBuckets) {
    Locked l(*this);
    beginWrite();
    for (uint32_t b = b0; b < std::min(nbuckets_, b0 + kSliceBuckets); b++) {
      for (uint32_t i = buckets()[b]; i != 0; i = head(i)->hnext) head(i)->expires = 1;
    }
  }
}

int Dict::flushExpired(int max, uint64_t now) noexcept {
  int freed = 0;
  for (uint32_t b0 = 0; b0 < nbuckets_; b0 += kSliceBuckets) {
    Locked l(*this);
    for (uint32_t b = b0; b < std::min(nbuckets_, b0 + kSliceBuckets); b++) {
      uint32_t i = buckets()[b];
      while (i != 0) {
        uint32_t nx = head(i)->hnext;
        if (head(i)->expires != 0 && head(i)->expires <= now) {
          remove(i);
          hdr()->expiredReclaimed++;
          if (++freed == max) return freed;
        }
        i = nx;
      }
    }
  }
  return freed;
}

std::vector<std::string> Dict::keys(int max, uint64_t now) {
  std::vector<std::string> out;
  for (uint32_t b0 = 0; b0 < nbuckets_; b0 += kSliceBuckets) {
    Locked l(*this);
    for (uint32_t b = b0; b < std::min(nbuckets_, b0 + kSliceBuckets); b++) {
      for (uint32_t i = buckets()[b]; i != 0; i = head(i)->hnext) {
        const Head* h = head(i);
        if (h->expires != 0 && h->expires <= now) continue;
        std::string k(h->keyLen, '\0');
        readPayload(i, 0, h->keyLen, k.data());
        out.push_back(std::move(k));
        if (max > 0 && static_cast<int>(out.size()) == max) return out;
      }
    }
  }
  return out;
}

size_t Dict::freeSpace() const noexcept {
  uint32_t n = at(hdr()->freeCount).load(std::memory_order_relaxed);
  return n == 0 ? 0 : kHeadPayload + static_cast<size_t>(n - 1) * kChainPayload;
}

DictStats Dict::stats() const noexcept {
  const DictHeader* d = hdr();
  DictStats s;
  s.items = at(const_cast<uint32_t&>(d->items)).load(std::memory_order_relaxed);
  s.blocks = nblocks_ - 1;
  s.freeBlocks = at(const_cast<uint32_t&>(d->freeCount)).load(std::memory_order_relaxed);
  s.bytesUsed = (s.blocks - s.freeBlocks) * kBlockSize;
  s.evictions = at(const_cast<uint64_t&>(d->evictions)).load(std::memory_order_relaxed);
  s.expiredReclaimed =
      at(const_cast<uint64_t&>(d->expiredReclaimed)).load(std::memory_order_relaxed);
  s.lockWaits = at(const_cast<uint64_t&>(d->lockWaits)).load(std::memory_order_relaxed);
  s.repairs = at(const_cast<uint64_t&>(d->repairs)).load(std::memory_order_relaxed);
  s.locks = at(const_cast<uint64_t&>(d->locks)).load(std::memory_order_relaxed);
  s.capacity = size_;
  s.freeSpace = freeSpace();
  s.buckets = nbuckets_;
  s.sliceBuckets = kSliceBuckets;
  return s;
}

}  // namespace lunet::shm
