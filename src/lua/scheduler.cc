#include "lua/scheduler.h"

#include <cstring>

#include "core/log.h"
#include "lua/context.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

Scheduler* gInstance = nullptr;

const char* stateName(Coroutine::State s) {
  switch (s) {
    case Coroutine::State::kSuspended:
      return "suspended";
    case Coroutine::State::kRunning:
      return "running";
    case Coroutine::State::kNormal:
      return "normal";
    case Coroutine::State::kDead:
      return "dead";
  }
  return "dead";
}

// Calls the original coroutine function (upvalue 1) with all arguments.
int callOriginal(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// coroutine.wrap on top of the managed create/resume.
const char kWrap[] =
    "local create, resume = ...\n"
    "local error = error\n"
    "local function pass(ok, ...)\n"
    "  if not ok then error((...), 0) end\n"
    "  return ...\n"
    "end\n"
    "return function(f)\n"
    "  local co = create(f)\n"
    "  return function(...) return pass(resume(co, ...)) end\n"
    "end\n";

}  // namespace

void OwnedObject::detach() noexcept {
  if (owner_ == nullptr) return;
  if (prev_ != nullptr) {
    prev_->next_ = next_;
  } else {
    owner_->objects_ = next_;
  }
  if (next_ != nullptr) next_->prev_ = prev_;
  owner_ = nullptr;
  prev_ = next_ = nullptr;
}

void Owner::adopt(OwnedObject* o) noexcept {
  o->detach();
  o->owner_ = this;
  o->dead_ = false;
  o->prev_ = nullptr;
  o->next_ = objects_;
  if (objects_ != nullptr) objects_->prev_ = o;
  objects_ = o;
}

void Owner::endOwned() noexcept {
  Scheduler* s = Scheduler::tryGet();
  while (threads_ != nullptr) {
    EntryThread* t = threads_;
    if (s != nullptr) {
      s->release(t);  // unlinks t
    }
    if (threads_ == t) {  // not released (no scheduler, or running): unlink
      threads_ = t->ownerNext_;
      if (threads_ != nullptr) threads_->ownerPrev_ = nullptr;
      t->ownerNext_ = t->ownerPrev_ = nullptr;
      t->owner = nullptr;
    }
  }
  while (objects_ != nullptr) {
    OwnedObject* o = objects_;
    o->detach();
    o->dead_ = true;
    o->ownerEnded();
  }
}

void Scheduler::onThreadTimer(uv_timer_t* h) {
  auto* t = static_cast<EntryThread*>(h->data);
  Scheduler* s = Scheduler::tryGet();
  if (s != nullptr) s->timeoutFired(t);
}

void Scheduler::timeoutFired(EntryThread* t) noexcept {
  Wait* w = t->wait_;
  auto* onTimeout = t->onTimeout_;
  t->onTimeout_ = nullptr;
  if (w == nullptr || onTimeout == nullptr || t->waiting_ == nullptr) return;
  // The timeout won: stop the operation, then resume with its results.
  if (w->cancel != nullptr) w->cancel(w);
  lua_State* co = t->waiting_->co;
  int n = onTimeout(w, co);
  resume(w, n);
}

void EntryThread::setGlobals() {
  lua_replace(root_.co, LUA_GLOBALSINDEX);
  ownGlobals_ = true;
}

Scheduler::Scheduler(lua_State* L) : L_(L) {
  gInstance = this;
  lua_newtable(L);
  mapRef_ = luaL_ref(L, LUA_REGISTRYINDEX);

  lua_getglobal(L, "coroutine");
  struct Fn {
    const char* name;
    lua_CFunction fn;
  };
  const Fn fns[] = {
      {"create", coCreate}, {"resume", coResume}, {"yield", coYield}, {"status", coStatus}};
  for (const Fn& f : fns) {
    lua_getfield(L, -1, f.name);
    lua_pushcclosure(L, f.fn, 1);
    lua_setfield(L, -2, f.name);
  }
  if (luaL_loadbuffer(L, kWrap, sizeof(kWrap) - 1, "=coroutine.wrap") == 0) {
    lua_getfield(L, -2, "create");
    lua_getfield(L, -3, "resume");
    if (lua_pcall(L, 2, 1, 0) == 0) {
      lua_setfield(L, -2, "wrap");
    } else {
      lua_pop(L, 1);
    }
  } else {
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

Scheduler::~Scheduler() {
  if (gInstance == this) gInstance = nullptr;
}

Scheduler& Scheduler::get() { return *gInstance; }
void Scheduler::makeCurrent() noexcept { gInstance = this; }
Scheduler* Scheduler::tryGet() { return gInstance; }

EntryThread* Scheduler::acquire(Owner* owner) noexcept {
  EntryThread* t;
  if (!pool_.empty()) {
    t = pool_.back();
    pool_.pop_back();
  } else {
    all_.push_back(std::make_unique<EntryThread>());
    t = all_.back().get();
  }
  t->inPool_ = false;
  if (t->root_.co == nullptr) {
    t->root_.co = lua_newthread(L_);
    t->root_.ref = luaL_ref(L_, LUA_REGISTRYINDEX);
    created_++;
  }
  t->root_.entry = t;
  t->root_.parent = nullptr;
  t->root_.state = Coroutine::State::kSuspended;
  if (owner != nullptr) {
    t->owner = owner;
    t->phase = owner->ownerPhase();
    t->req = owner->request();
    t->ownerPrev_ = nullptr;
    t->ownerNext_ = owner->threads_;
    if (owner->threads_ != nullptr) owner->threads_->ownerPrev_ = t;
    owner->threads_ = t;
  }
  return t;
}

RunStatus Scheduler::run(EntryThread* t, int nargs) noexcept { return loop(t, &t->root_, nargs); }

lua_State* Scheduler::waiter(const Wait* w) const noexcept {
  EntryThread* t = w->thread;
  if (t == nullptr || t->wait_ != w || t->gen_ != w->gen || t->waiting_ == nullptr) return nullptr;
  return t->waiting_->co;
}

RunStatus Scheduler::resume(Wait* w, int nret) noexcept {
  EntryThread* t = w->thread;
  if (waiter(w) == nullptr) return RunStatus::kSuspended;  // stale
  return resumeThread(t, nret);
}

RunStatus Scheduler::resumeThread(EntryThread* t, int nret) noexcept {
  Owner* owner = t->owner;
  // Its owner was closed and awaits destruction (which releases t).
  if (owner != nullptr && !owner->alive()) return RunStatus::kSuspended;
  Coroutine* cur = t->waiting_;
  t->waiting_ = nullptr;
  t->wait_ = nullptr;
  t->gen_++;
  if (t->onTimeout_ != nullptr) {
    t->onTimeout_ = nullptr;
    if (t->timer_.initialized()) uv_timer_stop(t->timer_.get());
  }
  // The owner must outlive the handler even if something it calls (or
  // onFinish) ends it: see holdHandlerRequest().
  if (owner != nullptr) owner->hold();
  RunStatus s = loop(t, cur, nret);
  if (s != RunStatus::kSuspended && t->onFinish != nullptr) t->onFinish(t, s);
  if (owner != nullptr) owner->unhold();
  return s;
}

void Scheduler::defer(void (*fn)(void* data), void* data) noexcept {
  deferred_.push_back({fn, data});
  if (!deferTimer_.initialized()) {
    LUNET_UV_CHECK(uv_timer_init(event::loop(), deferTimer_.get()));
    deferTimer_.markInitialized();
    deferTimer_->data = this;
  }
  if (uv_is_active(deferTimer_.handle())) return;
  LUNET_UV_CHECK(uv_timer_start(
      deferTimer_.get(),
      [](uv_timer_t* h) {
        auto* self = static_cast<Scheduler*>(h->data);
        std::vector<Deferred> calls;
        calls.swap(self->deferred_);
        for (const Deferred& d : calls) d.fn(d.data);
      },
      0, 0));
}

RunStatus Scheduler::loop(EntryThread* t, Coroutine* cur, int nargs) noexcept {
  // Re-entrant: a handler may run another (a header filter started from
  // inside ngx.say of a content handler).
  Coroutine* savedRunning = running_;
  Op savedOp = op_;
  Coroutine* savedTarget = opTarget_;
  ScopedRunCtx ctx(t->phase, t->req, t->owner);
  RunStatus result;
  for (;;) {
    cur->state = Coroutine::State::kRunning;
    running_ = cur;
    op_ = Op::kNone;
    int rc = lua_resume(cur->co, nargs);
    running_ = nullptr;
    // lua-nginx-module's vocabulary of the yieldable phases (its filters
    // and log handlers are plain pcalls and say nothing of the kind).
    const core::Log& log = t->req != nullptr ? t->req->log() : core::processLog();
    bool say = (t->phase & kYieldable) != 0;
    if (say) LUNET_LOG(log, core::Level::kDebug, 0, "lua resume returned %d", rc);
    if (rc == LUA_YIELD) {
      int n = lua_gettop(cur->co);
      Op op = op_;
      if (op == Op::kResume) {
        Coroutine* target = opTarget_;
        cur->state = Coroutine::State::kNormal;
        target->parent = cur;
        lua_xmove(cur->co, target->co, n);
        cur = target;
        nargs = n;
        continue;
      }
      if (op == Op::kSuspend) {
        if (say) LUNET_LOG(log, core::Level::kDebug, 0, "lua thread yielded");
        lua_settop(cur->co, 0);
        cur->state = Coroutine::State::kRunning;
        t->waiting_ = cur;
        result = RunStatus::kSuspended;
        break;
      }
      if (op == Op::kExit) {
        if (say) LUNET_LOG(log, core::Level::kDebug, 0, "lua thread yielded");
        lua_settop(cur->co, 0);
        cur->state = Coroutine::State::kDead;
        t->root_.state = Coroutine::State::kDead;
        result = RunStatus::kExited;
        break;
      }
      // kYield (or a yield of unknown origin): back to the resumer. The
      // entry thread has no resumer; it just continues.
      if (cur->parent == nullptr) {
        lua_settop(cur->co, 0);
        nargs = 0;
        continue;
      }
      Coroutine* p = cur->parent;
      cur->parent = nullptr;
      cur->state = Coroutine::State::kSuspended;
      lua_pushboolean(p->co, 1);
      lua_xmove(cur->co, p->co, n);
      cur = p;
      nargs = n + 1;
      continue;
    }
    if (rc == 0) {
      cur->state = Coroutine::State::kDead;
      if (cur == &t->root_) {
        if (say) LUNET_LOG(log, core::Level::kDebug, 0, "lua light thread ended normally");
        result = RunStatus::kDone;
        break;
      }
      int n = lua_gettop(cur->co);
      Coroutine* p = cur->parent;
      cur->parent = nullptr;
      lua_pushboolean(p->co, 1);
      lua_xmove(cur->co, p->co, n);
      cur = p;
      nargs = n + 1;
      continue;
    }
    // A runtime error.
    cur->state = Coroutine::State::kDead;
    if (cur == &t->root_) {
      setError(t, cur->co);
      result = RunStatus::kError;
      break;
    }
    Coroutine* p = cur->parent;
    cur->parent = nullptr;
    lua_pushboolean(p->co, 0);
    lua_xmove(cur->co, p->co, 1);
    cur = p;
    nargs = 2;
  }
  running_ = savedRunning;
  op_ = savedOp;
  opTarget_ = savedTarget;
  return result;
}

void Scheduler::setError(EntryThread* t, lua_State* co) noexcept {
  const char* msg = nullptr;
  if (lua_type(co, -1) == LUA_TSTRING || lua_type(co, -1) == LUA_TNUMBER) {
    msg = lua_tostring(co, -1);
  } else if (luaL_callmeta(co, -1, "__tostring") && lua_isstring(co, -1)) {
    msg = lua_tostring(co, -1);
  }
  t->error_.assign("runtime error: ");
  t->error_.append(msg != nullptr ? msg : "unknown reason");
  luaL_traceback(L_, co, nullptr, 0);
  size_t len = 0;
  const char* tb = lua_tolstring(L_, -1, &len);
  // luaL_traceback starts with "stack traceback:"; OpenResty numbers the
  // coroutines of the chain ("coroutine 0:" is the entry thread).
  static constexpr std::string_view kHead = "stack traceback:";
  std::string_view v(tb != nullptr ? tb : "", len);
  if (v.substr(0, kHead.size()) == kHead) v.remove_prefix(kHead.size());
  t->error_.append("\nstack traceback:\ncoroutine 0:");
  t->error_.append(v);
  t->plainError_.assign(msg != nullptr ? msg : "unknown reason");
  t->plainError_.append("\nstack traceback:");
  t->plainError_.append(v);
  lua_pop(L_, 1);
}

void Scheduler::dropUsers(EntryThread* t) noexcept {
  if (t->users_.empty()) return;
  lua_rawgeti(L_, LUA_REGISTRYINDEX, mapRef_);
  for (Coroutine* c : t->users_) {
    lua_rawgeti(L_, LUA_REGISTRYINDEX, c->ref);
    lua_pushnil(L_);
    lua_rawset(L_, -3);
    luaL_unref(L_, LUA_REGISTRYINDEX, c->ref);
    c->ref = LUA_NOREF;
    c->co = nullptr;
    c->parent = nullptr;
    c->entry = nullptr;
    userPool_.push_back(c);
  }
  lua_pop(L_, 1);
  t->users_.clear();
}

void Scheduler::release(EntryThread* t) noexcept {
  if (t->inPool_) return;
  if (t->waiting_ == nullptr && (t->root_.state == Coroutine::State::kRunning ||
                                 t->root_.state == Coroutine::State::kNormal)) {
    // The owner died while its thread runs (a request freed from inside
    // one of its own API calls). Touching the running coroutine would
    // corrupt the VM; leak the thread instead and say so.
    core::processLog().error(core::Level::kAlert, 0,
                             "lua: entry thread released while running, leaking it");
    t->inPool_ = true;  // never handed out again
    return;
  }
  if (t->wait_ != nullptr) {
    Wait* w = t->wait_;
    t->wait_ = nullptr;
    if (w->cancel != nullptr) w->cancel(w);
  }
  t->gen_++;
  t->onTimeout_ = nullptr;
  t->waiting_ = nullptr;
  if (Owner* o = t->owner; o != nullptr) {
    if (t->ownerPrev_ != nullptr) {
      t->ownerPrev_->ownerNext_ = t->ownerNext_;
    } else if (o->threads_ == t) {
      o->threads_ = t->ownerNext_;
    }
    if (t->ownerNext_ != nullptr) t->ownerNext_->ownerPrev_ = t->ownerPrev_;
    t->ownerNext_ = t->ownerPrev_ = nullptr;
  }
  dropUsers(t);
  lua_State* co = t->root_.co;
  if (co != nullptr) {
    if (t->root_.state == Coroutine::State::kDead && lua_status(co) == 0) {
      lua_settop(co, 0);  // finished cleanly: reusable
      if (t->ownGlobals_) {
        lua_pushvalue(L_, LUA_GLOBALSINDEX);
        lua_xmove(L_, co, 1);
        lua_replace(co, LUA_GLOBALSINDEX);
        t->ownGlobals_ = false;
      }
    } else {
      luaL_unref(L_, LUA_REGISTRYINDEX, t->root_.ref);
      t->root_.ref = LUA_NOREF;
      t->root_.co = nullptr;
      t->ownGlobals_ = false;
    }
  }
  t->error_.clear();
  t->plainError_.clear();
  t->onFinish = nullptr;
  t->owner = nullptr;
  t->req = nullptr;
  t->phase = 0;
  if (t->timer_.initialized()) uv_timer_stop(t->timer_.get());
  t->inPool_ = true;
  pool_.push_back(t);
}

int Scheduler::suspend(lua_State* L, Wait* w) {
  EntryThread* t = running_->entry;
  t->wait_ = w;
  w->thread = t;
  w->gen = t->gen_;
  op_ = Op::kSuspend;
  return lua_yield(L, 0);
}

int Scheduler::suspendFor(lua_State* L, Wait* w, uint64_t ms,
                          int (*onTimeout)(Wait* w, lua_State* co) noexcept) {
  EntryThread* t = running_->entry;
  t->onTimeout_ = onTimeout != nullptr ? onTimeout : [](Wait*, lua_State*) noexcept { return 0; };
  if (ms == 0) {
    if (!postedIdle_.initialized()) {
      LUNET_UV_CHECK(uv_idle_init(event::loop(), postedIdle_.get()));
      postedIdle_.markInitialized();
      postedIdle_->data = this;
    }
    posted_.push_back({t, t->gen_});
    if (!uv_is_active(postedIdle_.handle())) {
      LUNET_UV_CHECK(uv_idle_start(postedIdle_.get(), [](uv_idle_t* h) {
        auto* self = static_cast<Scheduler*>(h->data);
        std::vector<Posted> due;
        due.swap(self->posted_);  // what these resumes post waits for the next turn
        for (const Posted& p : due) {
          if (p.t->gen_ == p.gen) self->timeoutFired(p.t);
        }
        if (self->posted_.empty()) uv_idle_stop(h);
      }));
    }
    return suspend(L, w);
  }
  if (!t->timer_.initialized()) {
    LUNET_UV_CHECK(uv_timer_init(event::loop(), t->timer_.get()));
    t->timer_.markInitialized();
  }
  t->timer_->data = t;
  LUNET_UV_CHECK(uv_timer_start(t->timer_.get(), onThreadTimer, ms, 0));
  return suspend(L, w);
}

int Scheduler::exit(lua_State* L) {
  op_ = Op::kExit;
  return lua_yield(L, 0);
}

Coroutine* Scheduler::newUserCoroutine() noexcept {
  if (!userPool_.empty()) {
    Coroutine* c = userPool_.back();
    userPool_.pop_back();
    return c;
  }
  userAll_.push_back(std::make_unique<Coroutine>());
  return userAll_.back().get();
}

Coroutine* Scheduler::lookup(lua_State* L, int idx) noexcept {
  if (lua_type(L, idx) != LUA_TTHREAD) return nullptr;
  lua_rawgeti(L, LUA_REGISTRYINDEX, mapRef_);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  auto* c = static_cast<Coroutine*>(lua_touserdata(L, -1));
  lua_pop(L, 2);
  return c;
}

int Scheduler::coCreate(lua_State* L) {
  Scheduler* s = gInstance;
  if (s == nullptr || !s->managed(L)) return callOriginal(L);
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_State* co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  Coroutine* c = s->newUserCoroutine();
  c->co = co;
  c->entry = s->running_->entry;
  c->parent = nullptr;
  c->state = Coroutine::State::kSuspended;
  lua_pushvalue(L, -1);
  c->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_rawgeti(L, LUA_REGISTRYINDEX, s->mapRef_);
  lua_pushvalue(L, -2);
  lua_pushlightuserdata(L, c);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  c->entry->users_.push_back(c);
  return 1;
}

int Scheduler::coResume(lua_State* L) {
  Scheduler* s = gInstance;
  Coroutine* target = (s != nullptr && s->managed(L)) ? s->lookup(L, 1) : nullptr;
  if (target == nullptr) return callOriginal(L);
  if (target->state != Coroutine::State::kSuspended) {
    lua_pushboolean(L, 0);
    lua_pushstring(L, target->state == Coroutine::State::kDead
                          ? "cannot resume dead coroutine"
                          : "cannot resume non-suspended coroutine");
    return 2;
  }
  s->op_ = Op::kResume;
  s->opTarget_ = target;
  lua_remove(L, 1);
  return lua_yield(L, lua_gettop(L));
}

int Scheduler::coYield(lua_State* L) {
  Scheduler* s = gInstance;
  if (s != nullptr && s->managed(L)) s->op_ = Op::kYield;
  return lua_yield(L, lua_gettop(L));
}

int Scheduler::coStatus(lua_State* L) {
  Scheduler* s = gInstance;
  Coroutine* c = (s != nullptr && s->running_ != nullptr) ? s->lookup(L, 1) : nullptr;
  if (c == nullptr) return callOriginal(L);
  lua_pushstring(L, stateName(c->state));
  return 1;
}

}  // namespace lunet::lua
