// Process-shared HTTP counters: stub_status totals for all workers and the
// connection number ($connection, "*N" in the error log), as nginx keeps
// them in its shared ngx_stat_* / ngx_connection_counter slots.
//
// They live in a shared-memory zone ("lunet:http_counters", see zone.h)
// that the http module declares every time it loads its configuration: the
// master creates it before the first fork and every reload takes it over
// unchanged, so every worker of every generation counts into the same place.
// Plain atomics only.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "shm/zone.h"

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

// Declares the counters' zone in `zones` and makes counters() use it.
// Returns false with *err when the zone cannot be had.
bool bindCounters(ZoneTable& zones, std::string* err);

// The shared counters. Before any bindCounters() (unit tests), a private
// zone. Never fails: aborts if mmap does.
Counters& counters() noexcept;

}  // namespace lunet::shm
