// The timer store of a worker: ngx.timer.* and require "lunet.timer".
//
// A pending timer is a small record (TimerRec, ~48 bytes) in a slab, ordered
// by a binary heap; one libuv timer, armed for the earliest record, drives
// the whole store. No libuv handle, connection or request per timer: the
// callback and its arguments sit in two Lua tables indexed by the record's
// slot. When a record fires, a TimerCtx (the Owner of the run: its ngx.ctx,
// its log context, its threads) is taken from a pool and the callback runs
// in an entry thread with phase kTimer. `every` records are re-armed when
// they expire, before their callback runs (OpenResty's semantics), unless
// they were made by lunet.timer with overlap = false.
//
// Graceful exit (Lua module's shutdownProcess): every pending record runs
// at once with premature = true, `every` records are not re-armed, and new
// timers with a delay > 0 fail with "process exiting".
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <lua.hpp>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/log.h"
#include "event/loop.h"
#include "lua/scheduler.h"

namespace lunet::http {
struct Request;
}

namespace lunet::lua {

class TimerStore;

// The owner of one timer run.
class TimerCtx final : public Owner {
 public:
  uint32_t ownerPhase() const noexcept override;
  const core::Log& log() const noexcept override { return log_; }

 private:
  friend class TimerStore;
  static void logContext(const void* data, std::string& out);
  TimerStore* store_ = nullptr;
  EntryThread* thread_ = nullptr;
  core::Log log_;
  uint32_t origin_ = 0;  // TimerStore::origins_ (log context of the creator)
  int32_t job_ = -1;
  uint64_t startMs_ = 0;
};

class TimerStore {
 public:
  // Limits and modes (from the lua module's main conf).
  struct Limits {
    int64_t maxPending = 1024;
    int64_t maxRunning = 256;
    bool queueOverflow = false;  // lua_timer_overflow queue
  };
  // lunet.timer's per-job options.
  struct JobOptions {
    std::string name;
    bool overlap = true;
    double jitter = 0;  // seconds
  };

  explicit TimerStore(lua_State* L);
  ~TimerStore();
  TimerStore(const TimerStore&) = delete;
  TimerStore& operator=(const TimerStore&) = delete;

  // The store of this process's VM, created on first use in a worker.
  static TimerStore& get();
  static TimerStore* tryGet();

  void setLimits(const Limits& l) { limits_ = l; }

  // ngx.timer.at/every with the callback at `fn` and `nargs` arguments
  // above it on L. Pushes the handle, or nil + error; returns the count.
  int create(lua_State* L, double delay, bool every, int fn, int nargs, const JobOptions* job);
  // true, or false when the handle is unknown (fired, cancelled, other worker).
  bool cancel(double handle) noexcept;

  size_t pendingCount() const noexcept { return heap_.size() + readyLive_ + queue_.size(); }
  size_t runningCount() const noexcept { return running_; }
  // Pushes lunet.timer.stats().
  void pushStats(lua_State* L) noexcept;

  // Graceful exit began: run every pending timer as premature.
  void shutdown() noexcept;
  bool exiting() const noexcept { return exiting_; }

 private:
  friend class TimerCtx;
  static constexpr uint32_t kNotInHeap = 0xffffffffu;
  static constexpr uint32_t kQueued = 0xfffffffeu;
  static constexpr uint32_t kReady = 0xfffffffdu;  // in ready_: due now
  struct TimerRec {
    uint64_t when = 0;      // loop time (ms) it fires at
    uint64_t seq = 0;       // FIFO among equal `when`
    uint64_t interval = 0;  // ms; 0: once
    uint32_t heapPos = kNotInHeap;
    uint32_t gen = 0;
    int32_t job = -1;
    uint32_t origin = 0;
    uint16_t nargs = 0;
    bool every = false;
    bool used = false;
  };
  struct Job {
    std::string name;
    bool overlap = true;
    bool live = true;
    uint64_t interval = 0;
    uint64_t runs = 0, failures = 0, skipped = 0;
    std::string lastError;
    double lastDur = 0, totalDur = 0, maxDur = 0;  // seconds
    uint32_t running = 0;
    uint32_t slot = 0;
  };
  struct Queued {
    uint32_t slot, gen;
    bool premature;
  };
  struct Origin {
    std::string text;  // ", client: ..., server: ..." (or empty)
    uint32_t refs = 0;
  };

  bool less(uint32_t a, uint32_t b) const noexcept;
  void heapUp(uint32_t pos) noexcept;
  void heapDown(uint32_t pos) noexcept;
  void heapPush(uint32_t slot) noexcept;
  void heapRemove(uint32_t slot) noexcept;
  void arm() noexcept;
  static void onWake(uv_timer_t* h);
  void expire() noexcept;
  // Runs the record's callback (or queues/drops it at the running limit).
  void fire(uint32_t slot, bool premature) noexcept;
  void run(uint32_t slot, bool premature) noexcept;
  void finish(TimerCtx* ctx, RunStatus s) noexcept;
  static void onFinish(EntryThread* t, RunStatus s) noexcept;
  void freeSlot(uint32_t slot) noexcept;
  uint32_t internOrigin() noexcept;
  uint32_t lookupOrigin(const http::Request& r) noexcept;
  void dropOrigin(uint32_t id) noexcept;
  TimerCtx* acquireCtx() noexcept;
  void releaseCtx(TimerCtx* c) noexcept;
  void pushSource(lua_State* L, uint32_t slot) noexcept;  // "SRC:LINE"

  lua_State* L_;
  int fnsRef_ = LUA_NOREF;   // { [slot+1] = callback }
  int argsRef_ = LUA_NOREF;  // { [slot+1] = { args... } }
  std::vector<TimerRec> recs_;
  std::vector<uint32_t> freeSlots_;
  std::vector<uint32_t> heap_;
  std::deque<Queued> queue_;
  // Timers due at once (delay <= 0): a FIFO beside the heap, so a burst of
  // at(0) costs no heap operation. Cancelled entries stay, stale by gen.
  struct Ready {
    uint32_t slot, gen;
  };
  std::vector<Ready> ready_;
  size_t readyLive_ = 0;
  std::vector<Job> jobs_;
  std::vector<Origin> origins_;
  std::unordered_map<std::string, uint32_t> originIds_;
  std::vector<uint32_t> freeOrigins_;
  uint64_t lastOriginConn_ = 0;  // connection number of the last origin made
  uint32_t lastOrigin_ = 0;
  std::vector<std::unique_ptr<TimerCtx>> ctxAll_;
  std::vector<TimerCtx*> ctxFree_;
  event::UvHandle<uv_timer_t> wake_;
  event::UvHandle<uv_idle_t> idle_;
  uint64_t armedAt_ = UINT64_MAX;
  uint64_t rng_ = 1;
  bool draining_ = false;
  uint64_t seq_ = 0;
  uint32_t genBase_ = 0;
  size_t running_ = 0;
  uint64_t dropped_ = 0;
  Limits limits_;
  bool exiting_ = false;
};

}  // namespace lunet::lua
