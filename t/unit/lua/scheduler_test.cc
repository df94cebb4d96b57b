// The coroutine scheduler on a bare lua_State and a bare libuv loop.
#include "lua/scheduler.h"

#include <gtest/gtest.h>

#include <string>

#include "event/loop.h"
#include "lua/context.h"

namespace lunet::lua {
namespace {

uv_loop_t* testLoop() {
  static uv_loop_t* loop = event::loop() != nullptr ? event::loop() : event::createLoop();
  return loop;
}

// wait(ms, ...) -> ... : a yielding API that returns its extra arguments
// after a libuv timer fires.
int gCancelled = 0;

void onTimer(uv_timer_t* h) {
  auto* t = static_cast<EntryThread*>(h->data);
  lua_State* co = t->waitingState();
  lua_pushstring(co, "woke");
  Scheduler::get().resume(t, 1);
}

int waitFn(lua_State* L) {
  Scheduler& s = Scheduler::get();
  if (!s.managed(L)) return luaL_error(L, "not managed");
  EntryThread* t = s.currentEntry();
  uv_timer_t* tm = t->timer();
  tm->data = t;
  uv_timer_start(tm, onTimer, static_cast<uint64_t>(luaL_checkinteger(L, 1)), 0);
  Wait* w = t->timerWait();
  static Wait counted;
  counted.data = w;
  counted.cancel = [](Wait* self) noexcept {
    gCancelled++;
    auto* inner = static_cast<Wait*>(self->data);
    inner->cancel(inner);
  };
  return s.suspend(L, &counted);
}

int exitFn(lua_State* L) { return Scheduler::get().exit(L); }

// nested("code") runs another entry thread to completion from inside a
// running one (as a header filter started by ngx.say does) and returns its
// result and whether the outer thread was still the managed one afterwards.
int nestedFn(lua_State* L) {
  Scheduler& s = Scheduler::get();
  EntryThread* t = s.acquire();
  t->phase = kHeaderFilter;
  luaL_loadstring(t->state(), luaL_checkstring(L, 1));
  RunStatus st = s.run(t, 0);
  lua_pushstring(L, st == RunStatus::kDone ? lua_tostring(t->state(), -1) : t->error().c_str());
  s.release(t);
  lua_pushboolean(L, s.managed(L));
  return 2;
}

struct Finish {
  int calls = 0;
  RunStatus status = RunStatus::kSuspended;
  std::string result;
};
Finish gFinish;

void onFinish(EntryThread* t, RunStatus s) noexcept {
  gFinish.calls++;
  gFinish.status = s;
  lua_State* co = t->state();
  gFinish.result = lua_gettop(co) > 0 && lua_isstring(co, -1) ? lua_tostring(co, -1) : "";
  if (s == RunStatus::kError) gFinish.result = t->error();
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testLoop();
    L = luaL_newstate();
    luaL_openlibs(L);
    sched = std::make_unique<Scheduler>(L);
    lua_register(L, "wait", waitFn);
    lua_register(L, "exit", exitFn);
    lua_register(L, "nested", nestedFn);
    gFinish = Finish{};
    gCancelled = 0;
  }
  void TearDown() override {
    sched.reset();
    lua_close(L);
    // Let the close callbacks of released timers run.
    uv_run(testLoop(), UV_RUN_NOWAIT);
  }

  EntryThread* start(const char* code) {
    EntryThread* t = sched->acquire();
    t->phase = kContent;
    t->onFinish = onFinish;
    EXPECT_EQ(0, luaL_loadstring(t->state(), code)) << lua_tostring(t->state(), -1);
    return t;
  }
  std::string top(EntryThread* t) {
    lua_State* co = t->state();
    return lua_gettop(co) > 0 && lua_isstring(co, -1) ? lua_tostring(co, -1) : "";
  }

  lua_State* L = nullptr;
  std::unique_ptr<Scheduler> sched;
};

TEST_F(SchedulerTest, RunsToCompletionSynchronously) {
  EntryThread* t = start("return 'hi'");
  EXPECT_EQ(RunStatus::kDone, sched->run(t, 0));
  EXPECT_EQ("hi", top(t));
  EXPECT_EQ(0, gFinish.calls);  // onFinish is only for asynchronous ends
  sched->release(t);
}

TEST_F(SchedulerTest, ApiYieldIsResumedByTheLoop) {
  EntryThread* t = start("local v = wait(1) return v .. '!'");
  EXPECT_EQ(RunStatus::kSuspended, sched->run(t, 0));
  EXPECT_TRUE(t->suspended());
  uv_run(testLoop(), UV_RUN_DEFAULT);
  EXPECT_EQ(1, gFinish.calls);
  EXPECT_EQ(RunStatus::kDone, gFinish.status);
  EXPECT_EQ("woke!", gFinish.result);
  sched->release(t);
}

TEST_F(SchedulerTest, UserCoroutinesWorkAsInPlainLua) {
  EntryThread* t = start(R"(
    local out = {}
    local co = coroutine.create(function(a, b)
      out[#out + 1] = coroutine.status(coroutine.running())
      local c = coroutine.yield(a + b)
      local d, e = coroutine.yield(c * 2)
      return d + e
    end)
    out[#out + 1] = coroutine.status(co)
    local ok, v = coroutine.resume(co, 1, 2)
    out[#out + 1] = tostring(ok) .. v
    ok, v = coroutine.resume(co, 10)
    out[#out + 1] = tostring(ok) .. v
    ok, v = coroutine.resume(co, 3, 4)
    out[#out + 1] = tostring(ok) .. v
    out[#out + 1] = coroutine.status(co)
    ok, v = coroutine.resume(co)
    out[#out + 1] = tostring(ok) .. v
    local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
    out[#out + 1] = gen() .. gen() .. gen()
    return table.concat(out, ",")
  )");
  EXPECT_EQ(RunStatus::kDone, sched->run(t, 0));
  EXPECT_EQ("suspended,running,true3,true20,true7,dead,falsecannot resume dead coroutine,123",
            top(t));
  sched->release(t);
}

TEST_F(SchedulerTest, ApiYieldInsideNestedCoroutinesSuspendsTheEntryThread) {
  EntryThread* t = start(R"(
    local inner = coroutine.wrap(function()
      local w = wait(1)            -- suspends the whole entry thread
      coroutine.yield(w .. '-a')
      return 'b'
    end)
    local outer = coroutine.create(function()
      local x = inner()
      local y = inner()
      return x .. y
    end)
    local ok, v = coroutine.resume(outer)
    return tostring(ok) .. ':' .. v .. ':' .. coroutine.status(outer)
  )");
  EXPECT_EQ(RunStatus::kSuspended, sched->run(t, 0));
  uv_run(testLoop(), UV_RUN_DEFAULT);
  EXPECT_EQ(RunStatus::kDone, gFinish.status);
  EXPECT_EQ("true:woke-ab:dead", gFinish.result);
  sched->release(t);
}

TEST_F(SchedulerTest, EntryErrorCarriesTraceback) {
  EntryThread* t = start("local function f() error('boom') end f()");
  EXPECT_EQ(RunStatus::kError, sched->run(t, 0));
  EXPECT_NE(std::string::npos, t->error().find("runtime error: [string"));
  EXPECT_NE(std::string::npos, t->error().find("boom"));
  EXPECT_NE(std::string::npos, t->error().find("stack traceback:\ncoroutine 0:"));
  sched->release(t);
}

TEST_F(SchedulerTest, ErrorAfterResumeReachesOnFinish) {
  EntryThread* t = start("wait(1) error('late')");
  EXPECT_EQ(RunStatus::kSuspended, sched->run(t, 0));
  uv_run(testLoop(), UV_RUN_DEFAULT);
  EXPECT_EQ(RunStatus::kError, gFinish.status);
  EXPECT_NE(std::string::npos, gFinish.result.find("late"));
  sched->release(t);
}

TEST_F(SchedulerTest, UserCoroutineErrorGoesToTheResumer) {
  EntryThread* t = start(R"(
    local co = coroutine.create(function() error('inner', 0) end)
    local ok, err = coroutine.resume(co)
    return tostring(ok) .. ':' .. err .. ':' .. coroutine.status(co)
  )");
  EXPECT_EQ(RunStatus::kDone, sched->run(t, 0));
  EXPECT_EQ("false:inner:dead", top(t));
  sched->release(t);
}

TEST_F(SchedulerTest, ReleaseWhileSuspendedCancelsTheWait) {
  EntryThread* t = start("wait(5) return 'never'");
  EXPECT_EQ(RunStatus::kSuspended, sched->run(t, 0));
  sched->release(t);  // the owner (request) died first
  EXPECT_EQ(1, gCancelled);
  uv_run(testLoop(), UV_RUN_DEFAULT);
  EXPECT_EQ(0, gFinish.calls);
}

TEST_F(SchedulerTest, ExitEndsTheEntryFromANestedCoroutine) {
  EntryThread* t = start(R"(
    local co = coroutine.create(function() exit() end)
    coroutine.resume(co)
    return 'not reached'
  )");
  EXPECT_EQ(RunStatus::kExited, sched->run(t, 0));
  sched->release(t);
}

TEST_F(SchedulerTest, ThreadsArePooled) {
  for (int i = 0; i < 100; i++) {
    EntryThread* t = start("local co = coroutine.create(function() end) coroutine.resume(co)");
    EXPECT_EQ(RunStatus::kDone, sched->run(t, 0));
    sched->release(t);
  }
  EXPECT_EQ(1u, sched->threadsCreated());
  EXPECT_EQ(1u, sched->pooled());
}

TEST_F(SchedulerTest, CoroutinesOutsideManagedThreadsAreUntouched) {
  ASSERT_EQ(0, luaL_loadstring(L, R"(
    local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
    local _, x = coroutine.resume(co, 1)
    local _, y = coroutine.resume(co, 5)
    local w = coroutine.wrap(function() coroutine.yield('w') end)
    return x .. y .. w() .. coroutine.status(co)
  )"));
  ASSERT_EQ(0, lua_pcall(L, 0, 1, 0)) << lua_tostring(L, -1);
  EXPECT_STREQ("210wdead", lua_tostring(L, -1));
  lua_pop(L, 1);
}

TEST_F(SchedulerTest, EntryThreadYieldJustContinues) {
  EntryThread* t = start("coroutine.yield() return 'ok'");
  EXPECT_EQ(RunStatus::kDone, sched->run(t, 0));
  EXPECT_EQ("ok", top(t));
  sched->release(t);
}

TEST_F(SchedulerTest, NestedRunsRestoreTheOuterThread) {
  EntryThread* t = start(R"lua(
    local co = coroutine.create(function()
      local v, managed = nested("local c = coroutine.wrap(function() coroutine.yield('in') end) "
                                .. "return c() .. '-' .. tostring(current_phase_ok)")
      coroutine.yield(v .. ' ' .. tostring(managed))
    end)
    local _, r = coroutine.resume(co)
    local w = wait(1)
    return r .. ' ' .. w
  )lua");
  EXPECT_EQ(RunStatus::kSuspended, sched->run(t, 0));
  uv_run(testLoop(), UV_RUN_DEFAULT);
  EXPECT_EQ(RunStatus::kDone, gFinish.status);
  EXPECT_EQ("in-nil true woke", gFinish.result);
  sched->release(t);
}

TEST_F(SchedulerTest, ReleaseWhileSuspendedInsideUserCoroutine) {
  EntryThread* t = start(R"(
    local co = coroutine.create(function() wait(5) end)
    coroutine.resume(co)
  )");
  EXPECT_EQ(RunStatus::kSuspended, sched->run(t, 0));
  sched->release(t);
  EXPECT_EQ(1, gCancelled);
  // The pool hands out a fresh, usable thread afterwards.
  EntryThread* t2 = start("return 'fresh'");
  EXPECT_EQ(RunStatus::kDone, sched->run(t2, 0));
  EXPECT_EQ("fresh", top(t2));
  sched->release(t2);
  uv_run(testLoop(), UV_RUN_DEFAULT);
  EXPECT_EQ(0, gFinish.calls);
}

TEST_F(SchedulerTest, PhaseIsRestoredAfterNestedRun) {
  EntryThread* t = start("nested('return 1') return 'x'");
  EXPECT_EQ(kNone, current().phase);
  EXPECT_EQ(RunStatus::kDone, sched->run(t, 0));
  EXPECT_EQ(kNone, current().phase);
  sched->release(t);
}

}  // namespace
}  // namespace lunet::lua
