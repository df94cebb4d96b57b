#include "lua/timer.h"

#include <unistd.h>

#include <cmath>

#include "core/time.h"
#include "http/core_module.h"
#include "http/request.h"
#include "lua/api.h"
#include "lua/context.h"
#include "lua/request_ctx.h"
#include "lua/vm.h"
#include "shm/counters.h"

namespace lunet::lua {

namespace {

// Handles are numbers (exact in a double): gen * 2^24 + slot + 1.
constexpr uint32_t kSlotBits = 24;
constexpr uint32_t kMaxSlots = (1u << kSlotBits) - 1;
constexpr uint32_t kGenMask = (1u << 28) - 1;

uint64_t loopNow() { return uv_now(event::loop()); }

// For lunet.timer's jitter: workers forked from one master must not draw
// the same numbers, so no shared seed (math.random's) is used.
double uniform01(uint64_t* state) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *state = x;
  return static_cast<double>(x >> 11) / 9007199254740992.0;
}

}  // namespace

uint32_t TimerCtx::ownerPhase() const noexcept { return kTimer; }

void TimerCtx::logContext(const void* data, std::string& out) {
  const auto* c = static_cast<const TimerCtx*>(data);
  out += ", context: ngx.timer";
  if (c->store_ != nullptr && c->origin_ != 0) out += c->store_->origins_[c->origin_].text;
}

TimerStore::TimerStore(lua_State* L) : L_(L) {
  lua_newtable(L);
  fnsRef_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_newtable(L);
  argsRef_ = luaL_ref(L, LUA_REGISTRYINDEX);
  genBase_ = (static_cast<uint32_t>(::getpid()) * 2654435761u) & kGenMask;
  origins_.push_back({});  // id 0: no origin
  LUNET_UV_CHECK(uv_timer_init(event::loop(), wake_.get()));
  wake_.markInitialized();
  wake_->data = this;
  LUNET_UV_CHECK(uv_idle_init(event::loop(), idle_.get()));
  idle_.markInitialized();
  idle_->data = this;
  rng_ = (static_cast<uint64_t>(::getpid()) << 32) ^ uv_hrtime() ^ 0x9e3779b97f4a7c15ull;
  if (rng_ == 0) rng_ = 1;
}

TimerStore::~TimerStore() {
  // The worker exits: running timers lose their threads (pending waits are
  // cancelled, nothing resumes), pending ones are dropped.
  for (auto& c : ctxAll_) {
    if (c->thread_ != nullptr) {
      c->thread_ = nullptr;
      c->endOwned();
    }
  }
  if (L_ != nullptr) {
    luaL_unref(L_, LUA_REGISTRYINDEX, fnsRef_);
    luaL_unref(L_, LUA_REGISTRYINDEX, argsRef_);
  }
}

TimerStore* TimerStore::tryGet() {
  Vm* vm = currentVm();
  return vm != nullptr && event::loop() != nullptr ? &vm->timers() : nullptr;
}

TimerStore& TimerStore::get() { return *tryGet(); }

// ---- heap ------------------------------------------------------------------

bool TimerStore::less(uint32_t a, uint32_t b) const noexcept {
  const TimerRec& x = recs_[a];
  const TimerRec& y = recs_[b];
  return x.when != y.when ? x.when < y.when : x.seq < y.seq;
}

void TimerStore::heapUp(uint32_t pos) noexcept {
  uint32_t slot = heap_[pos];
  while (pos > 0) {
    uint32_t parent = (pos - 1) / 2;
    if (!less(slot, heap_[parent])) break;
    heap_[pos] = heap_[parent];
    recs_[heap_[pos]].heapPos = pos;
    pos = parent;
  }
  heap_[pos] = slot;
  recs_[slot].heapPos = pos;
}

void TimerStore::heapDown(uint32_t pos) noexcept {
  uint32_t n = static_cast<uint32_t>(heap_.size());
  uint32_t slot = heap_[pos];
  for (;;) {
    uint32_t l = 2 * pos + 1;
    if (l >= n) break;
    uint32_t c = (l + 1 < n && less(heap_[l + 1], heap_[l])) ? l + 1 : l;
    if (!less(heap_[c], slot)) break;
    heap_[pos] = heap_[c];
    recs_[heap_[pos]].heapPos = pos;
    pos = c;
  }
  heap_[pos] = slot;
  recs_[slot].heapPos = pos;
}

void TimerStore::heapPush(uint32_t slot) noexcept {
  recs_[slot].seq = ++seq_;
  heap_.push_back(slot);
  heapUp(static_cast<uint32_t>(heap_.size() - 1));
}

void TimerStore::heapRemove(uint32_t slot) noexcept {
  uint32_t pos = recs_[slot].heapPos;
  recs_[slot].heapPos = kNotInHeap;
  uint32_t last = heap_.back();
  heap_.pop_back();
  if (last == slot) return;
  heap_[pos] = last;
  recs_[last].heapPos = pos;
  heapDown(pos);
  heapUp(recs_[last].heapPos);
}

// One loop timer for the earliest record; records due now run from an idle
// handle, i.e. on the next loop turn (a 0 ms uv timer started from a timer
// callback would run in the same pass, starving I/O).
void TimerStore::arm() noexcept {
  if (readyLive_ > 0) {
    if (!uv_is_active(idle_.handle())) {
      LUNET_UV_CHECK(uv_idle_start(idle_.get(), [](uv_idle_t* h) {
        auto* self = static_cast<TimerStore*>(h->data);
        uv_idle_stop(h);
        self->expire();
      }));
    }
    if (heap_.empty()) return;
  } else if (heap_.empty()) {
    uv_timer_stop(wake_.get());
    uv_idle_stop(idle_.get());
    armedAt_ = UINT64_MAX;
    return;
  }
  uint64_t when = recs_[heap_[0]].when;
  uint64_t now = loopNow();
  if (when <= now) {
    if (!uv_is_active(idle_.handle())) {
      LUNET_UV_CHECK(uv_idle_start(idle_.get(), [](uv_idle_t* h) {
        auto* self = static_cast<TimerStore*>(h->data);
        uv_idle_stop(h);
        self->expire();
      }));
    }
    return;
  }
  if (armedAt_ == when && uv_is_active(wake_.handle())) return;
  armedAt_ = when;
  LUNET_UV_CHECK(uv_timer_start(wake_.get(), onWake, when - now, 0));
}

void TimerStore::onWake(uv_timer_t* h) {
  auto* self = static_cast<TimerStore*>(h->data);
  self->armedAt_ = UINT64_MAX;
  self->expire();
}

void TimerStore::expire() noexcept {
  uint64_t now = loopNow();
  // Collect first: timers created by these callbacks wait for the next turn.
  std::vector<uint32_t> due;
  if (!ready_.empty()) {
    std::vector<Ready> ready;
    ready.swap(ready_);
    due.reserve(ready.size());
    for (const Ready& r : ready) {
      TimerRec& rec = recs_[r.slot];
      if (!rec.used || rec.gen != r.gen || rec.heapPos != kReady) continue;
      rec.heapPos = kNotInHeap;
      readyLive_--;
      due.push_back(r.slot);
    }
    if (ready_.empty()) {
      ready.clear();
      ready_.swap(ready);  // keep the capacity
    }
  }
  while (!heap_.empty() && recs_[heap_[0]].when <= now) {
    uint32_t slot = heap_[0];
    heapRemove(slot);
    due.push_back(slot);
  }
  if (!due.empty()) LUNET_LOG(core::processLog(), core::Level::kDebug, 0, "lua ngx.timer expired");
  for (uint32_t slot : due) {
    if (recs_[slot].used) fire(slot, false);
  }
  arm();
}

// ---- create / cancel -------------------------------------------------------

uint32_t TimerStore::internOrigin() noexcept {
  Owner* o = current().owner;
  if (o != nullptr && o->ownerPhase() == kTimer) {
    uint32_t id = static_cast<TimerCtx*>(o)->origin_;
    if (id != 0) origins_[id].refs++;
    return id;
  }
  RequestCtx* rc = current().req;
  if (rc == nullptr || rc->r == nullptr) return 0;
  const http::Request& r = *rc->r;
  uint64_t number = http::connectionNumber(r);
  if (number == 0) return 0;
  // A request creating many timers: no string built or hashed per timer.
  if (number == lastOriginConn_ && lastOrigin_ != 0 && origins_[lastOrigin_].refs > 0) {
    origins_[lastOrigin_].refs++;
    return lastOrigin_;
  }
  uint32_t id = lookupOrigin(r);
  lastOriginConn_ = number;
  lastOrigin_ = id;
  return id;
}

uint32_t TimerStore::lookupOrigin(const http::Request& r) noexcept {
  std::string text = ", client: ";
  text += http::clientAddrText(r);
  text += ", server: ";
  text += http::serverAddrText(r);
  auto it = originIds_.find(text);
  if (it != originIds_.end()) {
    origins_[it->second].refs++;
    return it->second;
  }
  uint32_t id;
  if (!freeOrigins_.empty()) {
    id = freeOrigins_.back();
    freeOrigins_.pop_back();
  } else {
    id = static_cast<uint32_t>(origins_.size());
    origins_.emplace_back();
  }
  origins_[id].text = text;
  origins_[id].refs = 1;
  originIds_.emplace(std::move(text), id);
  return id;
}

void TimerStore::dropOrigin(uint32_t id) noexcept {
  if (id == 0 || --origins_[id].refs > 0) return;
  if (id == lastOrigin_) lastOrigin_ = 0;
  originIds_.erase(origins_[id].text);
  origins_[id].text.clear();
  origins_[id].text.shrink_to_fit();
  freeOrigins_.push_back(id);
}

int TimerStore::create(lua_State* L, double delay, bool every, int fn, int nargs,
                       const JobOptions* job) {
  if (exiting_ && delay > 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "process exiting");
    return 2;
  }
  if (static_cast<int64_t>(pendingCount()) >= limits_.maxPending ||
      (freeSlots_.empty() && recs_.size() >= kMaxSlots)) {
    lua_pushnil(L);
    lua_pushliteral(L, "too many pending timers");
    return 2;
  }
  uint32_t slot;
  if (!freeSlots_.empty()) {
    slot = freeSlots_.back();
    freeSlots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(recs_.size());
    recs_.emplace_back();
    recs_[slot].gen = genBase_;
  }
  TimerRec& rec = recs_[slot];
  rec.gen = (rec.gen + 1) & kGenMask;
  rec.used = true;
  rec.every = every;
  rec.nargs = static_cast<uint16_t>(nargs);
  rec.job = -1;
  // (ngx_msec_t)(delay * 1000), as lua-nginx-module; negative fires at once.
  double ms = delay * 1000;
  uint64_t dms = ms > 0 ? static_cast<uint64_t>(ms) : 0;
  // every() with a negative delay: once at once, then (as OpenResty's
  // unsigned conversion makes it) never again.
  rec.interval = every ? (ms > 0 ? (dms > 0 ? dms : 1) : (uint64_t{1} << 52)) : 0;
  rec.origin = internOrigin();
  uint64_t first = dms;
  if (job != nullptr) {
    if (job->jitter > 0) first += static_cast<uint64_t>(uniform01(&rng_) * job->jitter * 1000);
    // Reuse a finished job's entry, so create/cancel cycles do not grow.
    size_t idx = jobs_.size();
    for (size_t i = 0; i < jobs_.size(); i++) {
      if (!jobs_[i].live && jobs_[i].running == 0) {
        idx = i;
        break;
      }
    }
    if (idx == jobs_.size()) jobs_.emplace_back();
    Job& j = jobs_[idx];
    j = Job{};
    j.name = job->name;
    j.overlap = job->overlap;
    j.interval = rec.interval;
    j.slot = slot;
    rec.job = static_cast<int32_t>(idx);
  }
  rec.when = loopNow() + first;

  lua_rawgeti(L, LUA_REGISTRYINDEX, fnsRef_);
  lua_pushvalue(L, fn);
  lua_rawseti(L, -2, static_cast<int>(slot) + 1);
  lua_pop(L, 1);
  if (nargs > 0) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, argsRef_);
    lua_createtable(L, nargs, 0);
    for (int i = 0; i < nargs; i++) {
      lua_pushvalue(L, fn + 1 + i);
      lua_rawseti(L, -2, i + 1);
    }
    lua_rawseti(L, -2, static_cast<int>(slot) + 1);
    lua_pop(L, 1);
  }
  if (first == 0) {
    ready_.push_back({slot, rec.gen});
    rec.heapPos = kReady;
    readyLive_++;
  } else {
    heapPush(slot);
  }
  arm();
  lua_pushnumber(L, static_cast<double>(rec.gen) * static_cast<double>(1u << kSlotBits) +
                        static_cast<double>(slot + 1));
  return 1;
}

bool TimerStore::cancel(double handle) noexcept {
  if (!(handle >= 1) || handle > 9007199254740991.0 || std::floor(handle) != handle) return false;
  auto h = static_cast<uint64_t>(handle);
  uint64_t slot1 = h & kMaxSlots;
  uint64_t gen = h >> kSlotBits;
  if (slot1 == 0 || slot1 > recs_.size()) return false;
  uint32_t slot = static_cast<uint32_t>(slot1 - 1);
  TimerRec& rec = recs_[slot];
  if (!rec.used || rec.gen != gen) return false;
  if (rec.heapPos == kReady) {
    readyLive_--;  // its ready_ entry goes stale with the generation
  } else if (rec.heapPos == kQueued) {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->slot == slot) {
        queue_.erase(it);
        break;
      }
    }
  } else if (rec.heapPos != kNotInHeap) {
    heapRemove(slot);
    arm();
  } else {
    return false;  // an `at` timer running now, or an every between runs: gone
  }
  freeSlot(slot);
  return true;
}

void TimerStore::freeSlot(uint32_t slot) noexcept {
  TimerRec& rec = recs_[slot];
  if (!rec.used) return;
  lua_rawgeti(L_, LUA_REGISTRYINDEX, fnsRef_);
  lua_pushnil(L_);
  lua_rawseti(L_, -2, static_cast<int>(slot) + 1);
  lua_pop(L_, 1);
  if (rec.nargs > 0) {
    lua_rawgeti(L_, LUA_REGISTRYINDEX, argsRef_);
    lua_pushnil(L_);
    lua_rawseti(L_, -2, static_cast<int>(slot) + 1);
    lua_pop(L_, 1);
  }
  if (rec.job >= 0) jobs_[rec.job].live = false;
  dropOrigin(rec.origin);
  rec.used = false;
  rec.gen = (rec.gen + 1) & kGenMask;
  rec.heapPos = kNotInHeap;
  rec.origin = 0;
  rec.job = -1;
  freeSlots_.push_back(slot);
}

// ---- running ---------------------------------------------------------------

void TimerStore::pushSource(lua_State* L, uint32_t slot) noexcept {
  lua_rawgeti(L, LUA_REGISTRYINDEX, fnsRef_);
  lua_rawgeti(L, -1, static_cast<int>(slot) + 1);
  lua_remove(L, -2);
  lua_Debug ar;
  // lua-nginx-module prints the chunk name as is ("=content_by_lua(...)").
  if (lua_isfunction(L, -1) && lua_getinfo(L, ">S", &ar)) {
    lua_pushfstring(L, "%s:%d", ar.source, ar.linedefined);
  } else {
    lua_pop(L, 1);
    lua_pushliteral(L, "?");
  }
}

void TimerStore::fire(uint32_t slot, bool premature) noexcept {
  TimerRec& rec = recs_[slot];
  Job* job = rec.job >= 0 ? &jobs_[rec.job] : nullptr;
  bool again = rec.every && !premature && !exiting_;
  if (again) {
    uint64_t now = loopNow();
    if (job != nullptr && !job->overlap) {
      // Keep the phase: the next tick is a whole number of intervals later.
      uint64_t next = rec.when + rec.interval;
      if (next <= now) next += ((now - next) / rec.interval + 1) * rec.interval;
      rec.when = next;
    } else {
      rec.when = now + rec.interval;  // OpenResty: re-armed at expiry
    }
    heapPush(slot);
    if (job != nullptr && !job->overlap && job->running > 0) {
      job->skipped++;
      return;
    }
  }
  if (static_cast<int64_t>(running_) >= limits_.maxRunning) {
    if (limits_.queueOverflow) {
      queue_.push_back({slot, rec.gen, premature});
      if (!rec.every || !again) rec.heapPos = kQueued;
      return;
    }
    dropped_++;
    pushSource(L_, slot);
    core::processLog().error(core::Level::kAlert, 0,
                             "lua failed to run timer with function defined at %s: %lld "
                             "lua_max_running_timers are not enough",
                             lua_tostring(L_, -1), static_cast<long long>(limits_.maxRunning));
    lua_pop(L_, 1);
    if (!again) freeSlot(slot);
    return;
  }
  run(slot, premature);
}

TimerCtx* TimerStore::acquireCtx() noexcept {
  if (!ctxFree_.empty()) {
    TimerCtx* c = ctxFree_.back();
    ctxFree_.pop_back();
    return c;
  }
  ctxAll_.push_back(std::make_unique<TimerCtx>());
  return ctxAll_.back().get();
}

void TimerStore::releaseCtx(TimerCtx* c) noexcept {
  c->endOwned();
  releaseCtxRef(L_, &c->ctxRef);  // ngx.ctx of the run
  dropOrigin(c->origin_);
  c->origin_ = 0;
  c->job_ = -1;
  c->thread_ = nullptr;
  ctxFree_.push_back(c);
}

void TimerStore::run(uint32_t slot, bool premature) noexcept {
  TimerRec& rec = recs_[slot];
  TimerCtx* ctx = acquireCtx();
  ctx->store_ = this;
  ctx->origin_ = rec.origin;
  if (rec.origin != 0) origins_[rec.origin].refs++;
  ctx->job_ = rec.job;
  ctx->log_ = core::processLog();
  ctx->log_.connection = shm::counters().connection.fetch_add(1, std::memory_order_relaxed) + 1;
  ctx->log_.handler = TimerCtx::logContext;
  ctx->log_.handlerData = ctx;
  ctx->startMs_ = rec.job >= 0 ? uv_hrtime() / 1000000 : 0;

  Scheduler& s = Scheduler::get();
  EntryThread* t = s.acquire(ctx);
  t->onFinish = onFinish;
  ctx->thread_ = t;
  lua_State* co = t->state();
  lua_rawgeti(co, LUA_REGISTRYINDEX, fnsRef_);
  lua_rawgeti(co, -1, static_cast<int>(slot) + 1);
  lua_remove(co, -2);
  lua_pushboolean(co, premature ? 1 : 0);
  int nargs = 1 + rec.nargs;
  if (rec.nargs > 0) {
    lua_rawgeti(co, LUA_REGISTRYINDEX, argsRef_);
    lua_rawgeti(co, -1, static_cast<int>(slot) + 1);
    lua_remove(co, -2);
    int tbl = lua_gettop(co);
    for (int i = 1; i <= rec.nargs; i++) lua_rawgeti(co, tbl, i);
    lua_remove(co, tbl);
  }
  // A record not armed again (one-shot, premature) is gone once its run
  // starts: cancel() then says "not found".
  if (rec.heapPos == kNotInHeap || rec.heapPos == kQueued) freeSlot(slot);
  running_++;
  if (ctx->job_ >= 0) jobs_[ctx->job_].running++;
  RunStatus st = s.run(t, nargs);
  if (st != RunStatus::kSuspended) finish(ctx, st);
}

void TimerStore::onFinish(EntryThread* t, RunStatus s) noexcept {
  auto* ctx = static_cast<TimerCtx*>(t->owner);
  ctx->store_->finish(ctx, s);
}

void TimerStore::finish(TimerCtx* ctx, RunStatus s) noexcept {
  EntryThread* t = ctx->thread_;
  if (s == RunStatus::kError && t != nullptr) {
    ctx->log_.error(core::Level::kError, 0, "lua entry thread aborted: %s", t->error().c_str());
  }
  if (ctx->job_ >= 0) {
    Job& j = jobs_[ctx->job_];
    double dur = static_cast<double>(uv_hrtime() / 1000000 - ctx->startMs_) / 1000.0;
    j.runs++;
    if (j.running > 0) j.running--;
    j.lastDur = dur;
    j.totalDur += dur;
    if (dur > j.maxDur) j.maxDur = dur;
    if (s == RunStatus::kError && t != nullptr) {
      j.failures++;
      const std::string& e = t->plainError();
      j.lastError = e.substr(0, e.find('\n'));
    }
  }
  LUNET_LOG(ctx->log_, core::Level::kDebug, 0, "http lua close fake http connection");
  running_--;
  releaseCtx(ctx);
  if (draining_) return;
  draining_ = true;
  while (!queue_.empty() && static_cast<int64_t>(running_) < limits_.maxRunning) {
    Queued q = queue_.front();
    queue_.pop_front();
    TimerRec& rec = recs_[q.slot];
    if (!rec.used || rec.gen != q.gen) continue;
    if (rec.heapPos == kQueued) rec.heapPos = kNotInHeap;
    run(q.slot, q.premature);
  }
  draining_ = false;
}

void TimerStore::shutdown() noexcept {
  if (exiting_) return;
  exiting_ = true;
  std::vector<uint32_t> all;
  for (const Ready& r : ready_) {
    TimerRec& rec = recs_[r.slot];
    if (!rec.used || rec.gen != r.gen || rec.heapPos != kReady) continue;
    rec.heapPos = kNotInHeap;
    all.push_back(r.slot);
  }
  ready_.clear();
  readyLive_ = 0;
  while (!heap_.empty()) {
    uint32_t slot = heap_[0];
    heapRemove(slot);
    all.push_back(slot);
  }
  arm();
  for (uint32_t slot : all) {
    if (recs_[slot].used) fire(slot, true);
  }
}

void TimerStore::pushStats(lua_State* L) noexcept {
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, static_cast<lua_Integer>(pendingCount()));
  lua_setfield(L, -2, "pending");
  lua_pushinteger(L, static_cast<lua_Integer>(running_));
  lua_setfield(L, -2, "running");
  lua_pushnumber(L, static_cast<double>(dropped_));
  lua_setfield(L, -2, "dropped");
  lua_newtable(L);
  uint64_t now = loopNow();
  for (const Job& j : jobs_) {
    if (j.name.empty()) continue;
    lua_createtable(L, 0, 10);
    lua_pushnumber(L, static_cast<double>(j.runs));
    lua_setfield(L, -2, "runs");
    lua_pushnumber(L, static_cast<double>(j.failures));
    lua_setfield(L, -2, "failures");
    lua_pushnumber(L, static_cast<double>(j.skipped));
    lua_setfield(L, -2, "skipped");
    if (!j.lastError.empty()) {
      lua_pushlstring(L, j.lastError.data(), j.lastError.size());
      lua_setfield(L, -2, "last_error");
    }
    lua_pushnumber(L, j.lastDur);
    lua_setfield(L, -2, "last_duration");
    lua_pushnumber(L, j.runs > 0 ? j.totalDur / static_cast<double>(j.runs) : 0);
    lua_setfield(L, -2, "avg_duration");
    lua_pushnumber(L, j.maxDur);
    lua_setfield(L, -2, "max_duration");
    lua_pushinteger(L, j.running);
    lua_setfield(L, -2, "running");
    lua_pushnumber(L, static_cast<double>(j.interval) / 1000.0);
    lua_setfield(L, -2, "interval");
    const TimerRec& rec = recs_[j.slot];
    if (j.live && rec.used && rec.heapPos != kNotInHeap && rec.heapPos != kQueued &&
        rec.heapPos != kReady) {
      // seconds from now, and as an epoch time like ngx.now()
      double in = rec.when > now ? static_cast<double>(rec.when - now) / 1000.0 : 0;
      lua_pushnumber(L, in);
      lua_setfield(L, -2, "next_run_in");
      lua_pushnumber(L, static_cast<double>(core::nowMsec()) / 1000.0 + in);
      lua_setfield(L, -2, "next_run");
    }
    lua_pushboolean(L, j.live);
    lua_setfield(L, -2, "active");
    lua_setfield(L, -2, j.name.c_str());
  }
  lua_setfield(L, -2, "timers");
}

}  // namespace lunet::lua
