// Crash repair (rebuild from committed items) and the consistency check;
// see docs/design/shm.md.
#include <algorithm>
#include <cstring>

#include "shm/dict_internal.h"

namespace lunet::shm {

// ---- crash repair and checking ----------------------------------------------

// Walks the chain of a committed head; fills `blocks` and returns false
// when it is not a well-formed, exclusively owned chain.
bool Dict::walkChain(uint32_t item, const std::vector<uint32_t>& owner,
                     std::vector<uint32_t>* blocks) const {
  const Head* h = head(item);
  size_t payload = static_cast<size_t>(h->keyLen) + h->valueLen;
  if (h->keyLen == 0 || payload > size_) return false;
  uint32_t need = blocksFor(payload);
  blocks->clear();
  uint32_t b = item;
  for (uint32_t k = 0; k < need; k++) {
    if (!valid(b) || owner[b] != 0 || kinds()[b] != (k == 0 ? kHeadKind : kChainKind)) {
      return false;
    }
    if (std::find(blocks->begin(), blocks->end(), b) != blocks->end()) return false;
    blocks->push_back(b);
    if (k + 1 < need) b = nextOf(b);
  }
  if (h->type == static_cast<uint8_t>(ValueType::kList)) {
    // The live range must parse into exactly num elements.
    size_t off = h->flags;
    if (off > h->valueLen) return false;
    uint64_t n = 0;
    while (off < h->valueLen) {
      char eh[5];
      if (off + 5 > h->valueLen) return false;
      readPayload(item, h->keyLen + off, 5, eh);
      uint32_t el;
      std::memcpy(&el, eh + 1, 4);
      off += 5 + static_cast<size_t>(el);
      n++;
    }
    if (off != h->valueLen) return false;
    if (static_cast<double>(n) != h->num) return false;
  }
  return true;
}

void Dict::repair() noexcept {
  DictHeader* d = hdr();
  d->repairs++;
  writing_ = true;  // seq stays odd until the rebuilt structure is complete
  if ((at(d->seq).load(std::memory_order_relaxed) & 1) == 0) {
    at(d->seq).store(d->seq + 1, std::memory_order_relaxed);
  }
  std::vector<uint32_t> owner;
  std::vector<uint32_t> blocks;
  try {
    owner.assign(nblocks_, 0);
  } catch (...) {
    // Without memory to repair, start over empty rather than run corrupt.
    format();
    writing_ = false;
    return;
  }
  // Count elements of half-popped lists again: valueLen and flags are the
  // commit points of a pop; num follows them.
  std::memset(buckets(), 0, static_cast<size_t>(nbuckets_) * 4);
  d->lruHead = d->lruTail = 0;
  d->items = 0;
  for (uint32_t i = 1; i < nblocks_; i++) {
    Head* h = head(i);
    if (kinds()[i] != kHeadKind || h->state != kCommitted || owner[i] != 0) continue;
    if (h->type == static_cast<uint8_t>(ValueType::kList)) {
      size_t off = h->flags;
      uint64_t n = 0;
      while (off + 5 <= h->valueLen) {
        uint32_t el;
        readPayload(i, h->keyLen + off + 1, 4, reinterpret_cast<char*>(&el));
        off += 5 + static_cast<size_t>(el);
        n++;
      }
      if (off == h->valueLen) h->num = static_cast<double>(n);
    }
    bool ok = false;
    try {
      ok = walkChain(i, owner, &blocks);
    } catch (...) {
      ok = false;
    }
    if (!ok) {
      h->state = 0;
      continue;
    }
    // A key committed twice (died between commit and retire): newest wins.
    uint32_t dup = 0;
    {
      uint32_t j = buckets()[h->hash & (nbuckets_ - 1)];
      for (; j != 0; j = head(j)->hnext) {
        const Head* o = head(j);
        if (o->hash == h->hash && o->keyLen == h->keyLen) {
          std::string a(h->keyLen, '\0');
          readPayload(i, 0, h->keyLen, a.data());
          if (keyEquals(j, a)) {
            dup = j;
            break;
          }
        }
      }
    }
    if (dup != 0) {
      if (static_cast<int32_t>(h->version - head(dup)->version) < 0) {
        h->state = 0;
        continue;
      }
      // Drop the older one from the rebuilt index; its blocks go free.
      head(dup)->state = 0;
      uint32_t* p = &buckets()[head(dup)->hash & (nbuckets_ - 1)];
      while (*p != dup) p = &head(*p)->hnext;
      *p = head(dup)->hnext;
      lruUnlink(dup);
      d->items--;
      for (uint32_t b = 1; b < nblocks_; b++) {
        if (owner[b] == dup) owner[b] = 0;
      }
    }
    for (uint32_t b : blocks) owner[b] = i;
    nextOf(blocks.back()) = 0;
    h->lprev = h->lnext = 0;
    link(i);
  }
  d->freeHead = 0;
  d->freeCount = 0;
  for (uint32_t b = nblocks_ - 1; b >= 1; b--) {
    if (owner[b] != 0) continue;
    kinds()[b] = kFree;
    nextOf(b) = d->freeHead;
    d->freeHead = b;
    d->freeCount++;
  }
  endWrite();
}

std::string Dict::check() {
  Locked l(*this);
  const DictHeader* d = hdr();
  if (at(const_cast<uint64_t&>(d->seq)).load(std::memory_order_relaxed) & 1) {
    return "write section left open";
  }
  std::vector<uint32_t> owner(nblocks_, 0);
  std::vector<uint32_t> blocks;
  uint32_t items = 0;
  for (uint32_t b = 0; b < nbuckets_; b++) {
    uint32_t hops = 0;
    for (uint32_t i = buckets()[b]; i != 0; i = head(i)->hnext) {
      if (!valid(i) || ++hops > nblocks_) return "bad hash chain in bucket " + std::to_string(b);
      const Head* h = head(i);
      if (h->state != kCommitted) return "uncommitted item " + std::to_string(i) + " indexed";
      if ((h->hash & (nbuckets_ - 1)) != b) return "item in the wrong bucket";
      std::string key(h->keyLen, '\0');
      readPayload(i, 0, h->keyLen, key.data());
      if (hashKey(key) != h->hash) return "stale hash for item " + std::to_string(i);
      if (find(key, h->hash) != i) return "duplicate key \"" + key + "\"";
      if (!walkChain(i, owner, &blocks)) return "bad chain for item " + std::to_string(i);
      for (uint32_t x : blocks) owner[x] = i;
      items++;
    }
  }
  if (items != d->items) {
    return "item count " + std::to_string(d->items) + " but " + std::to_string(items) + " indexed";
  }
  uint32_t n = 0, prev = 0;
  for (uint32_t i = d->lruHead; i != 0; i = head(i)->lnext) {
    if (!valid(i) || ++n > items) return "bad LRU list";
    if (owner[i] != i) return "LRU holds an unindexed item";
    if (head(i)->lprev != prev) return "bad LRU back link";
    prev = i;
  }
  if (n != items || d->lruTail != prev) return "LRU list does not hold every item";
  uint32_t nfree = 0;
  for (uint32_t b = d->freeHead; b != 0; b = nextOf(b)) {
    if (!valid(b) || ++nfree > nblocks_) return "bad free list";
    if (owner[b] != 0) return "free block " + std::to_string(b) + " owned by an item";
    if (kinds()[b] != kFree) return "free block with a kind";
    owner[b] = UINT32_MAX;
  }
  if (nfree != d->freeCount) return "free count mismatch";
  for (uint32_t b = 1; b < nblocks_; b++) {
    if (owner[b] == 0) return "block " + std::to_string(b) + " leaked";
  }
  return "";
}

void Dict::debugBeginWrite() noexcept {
  bool waited;
  lockShm(&hdr()->mutex, &waited);
  beginWrite();
}

void Dict::debugScribble(std::string_view key) noexcept {
  // Half of a store: blocks taken from the free list, payload written, the
  // LRU head relinked, nothing committed.
  uint32_t it = allocItem(key, 300);
  if (it != 0) {
    char junk[300];
    std::memset(junk, 'x', sizeof(junk));
    writePayload(it, key.size(), junk, sizeof(junk));
    if (hdr()->lruHead != 0) lruUnlink(hdr()->lruHead);
  }
}

}  // namespace lunet::shm
