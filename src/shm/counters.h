// Process-shared HTTP counters: stub_status totals for all workers and the
// connection number ($connection, "*N" in the error log), as nginx keeps
// them in its shared ngx_stat_* / ngx_connection_counter slots.
//
// One small MAP_SHARED|MAP_ANONYMOUS region, created in the master before
// the first fork (by the http module while it loads its configuration) and
// kept for the life of the master — across reloads — so every worker of
// every generation counts into the same place. Plain atomics only.
#pragma once

#include <atomic>
#include <cstdint>

namespace lunet::shm {

struct Counters {
  std::atomic<uint64_t> connection;  // last connection number handed out
  std::atomic<uint64_t> accepts;
  std::atomic<uint64_t> handled;
  std::atomic<uint64_t> requests;
  std::atomic<int64_t> active;
  std::atomic<int64_t> reading;
  std::atomic<int64_t> writing;
  std::atomic<int64_t> waiting;
  std::atomic<uint64_t> boundary;  // multipart/byteranges boundaries (nginx's temp number)
};

static_assert(std::atomic<uint64_t>::is_always_lock_free, "counters need lock-free atomics");

// The shared counters; the region is created on the first call (call it in
// the master before forking). Never fails: aborts if mmap does.
Counters& counters() noexcept;

}  // namespace lunet::shm
