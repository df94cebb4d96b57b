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

int onWaitTimeout(Wait* w, lua_State* co) noexcept {
  (void)w;
  lua_pushstring(co, "woke");
  return 1;
}

// wait(ms): an operation that never completes, raced against a timeout;
// its cancel counts (called on timeout and on release).
Wait gCountedWait;
int waitFn(lua_State* L) {
  Scheduler& s = Scheduler::get();
  if (!s.managed(L)) return luaL_error(L, "not managed");
  gCountedWait.cancel = [](Wait*) noexcept { gCancelled++; };
  return s.suspendFor(L, &gCountedWait, static_cast<uint64_t>(luaL_checkinteger(L, 1)),
                      onWaitTimeout);
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

// ---- owners, waits, operation + timeout ----

// op(): an operation completed from C++ (gOp.complete), raced against a
// 50 ms timeout.
Wait gOpWait;
int gOpCancelled = 0;
int opTimeout(Wait*, lua_State* co) noexcept {
  lua_pushstring(co, "timeout");
  return 1;
}
int opFn(lua_State* L) {
  gOpWait.cancel = [](Wait*) noexcept { gOpCancelled++; };
  return Scheduler::get().suspendFor(L, &gOpWait, 50, opTimeout);
}
// plain(): a wait without timeout.
Wait gPlainWait;
int plainFn(lua_State* L) { return Scheduler::get().suspend(L, &gPlainWait); }

struct TestOwner final : Owner {
  bool alive() const noexcept override { return aliveFlag; }
  void hold() noexcept override { holds++; }
  void unhold() noexcept override { holds--; }
  uint32_t ownerPhase() const noexcept override { return kTimer; }
  const core::Log& log() const noexcept override { return core::processLog(); }
  bool aliveFlag = true;
  int holds = 0;
};

struct TestObject final : OwnedObject {
  void ownerEnded() noexcept override { ended++; }
  int ended = 0;
};

class OwnerTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    lua_register(L, "op", opFn);
    lua_register(L, "plain", plainFn);
    gOpCancelled = 0;
  }
};

TEST_F(OwnerTest, StaleWaitNeverResumesAReusedThread) {
  EntryThread* t = start("plain() return 'first'");
  ASSERT_EQ(RunStatus::kSuspended, sched->run(t, 0));
  Wait copy = gPlainWait;  // what a late callback would still hold
  sched->release(t);
  EXPECT_EQ(nullptr, sched->waiter(&copy));
  // The pooled thread comes back and waits again, in the same Wait.
  EntryThread* t2 = start("plain() return 'second'");
  ASSERT_EQ(t, t2);
  ASSERT_EQ(RunStatus::kSuspended, sched->run(t2, 0));
  EXPECT_EQ(nullptr, sched->waiter(&copy));  // old generation
  EXPECT_EQ(RunStatus::kSuspended, sched->resume(&copy, 0));
  EXPECT_EQ(0, gFinish.calls);
  ASSERT_NE(nullptr, sched->waiter(&gPlainWait));
  EXPECT_EQ(RunStatus::kDone, sched->resume(&gPlainWait, 0));
  EXPECT_EQ("second", gFinish.result);
  // A duplicate callback after the resume is ignored too.
  EXPECT_EQ(RunStatus::kSuspended, sched->resume(&gPlainWait, 0));
  EXPECT_EQ(1, gFinish.calls);
  sched->release(t2);
}

TEST_F(OwnerTest, OperationBeatsItsTimeout) {
  EntryThread* t = start("return op()");
  ASSERT_EQ(RunStatus::kSuspended, sched->run(t, 0));
  lua_pushstring(sched->waiter(&gOpWait), "done");
  EXPECT_EQ(RunStatus::kDone, sched->resume(&gOpWait, 1));
  uv_run(testLoop(), UV_RUN_DEFAULT);  // the timeout timer must be stopped
  EXPECT_EQ(1, gFinish.calls);
  EXPECT_EQ("done", gFinish.result);
  EXPECT_EQ(0, gOpCancelled);
  sched->release(t);
}

TEST_F(OwnerTest, TimeoutCancelsTheOperation) {
  EntryThread* t = start("return op()");
  ASSERT_EQ(RunStatus::kSuspended, sched->run(t, 0));
  uv_run(testLoop(), UV_RUN_DEFAULT);
  EXPECT_EQ(1, gFinish.calls);
  EXPECT_EQ("timeout", gFinish.result);
  EXPECT_EQ(1, gOpCancelled);
  // The operation's late completion finds nobody waiting.
  EXPECT_EQ(nullptr, sched->waiter(&gOpWait));
  sched->release(t);
}

TEST_F(OwnerTest, EndingTheOwnerReleasesAllItsThreadsAndKillsItsObjects) {
  TestOwner owner;
  TestObject a, b;
  owner.adopt(&a);
  owner.adopt(&b);
  EntryThread* t1 = sched->acquire(&owner);
  EXPECT_EQ(kTimer, t1->phase);
  t1->onFinish = onFinish;
  luaL_loadstring(t1->state(), "op()");
  ASSERT_EQ(RunStatus::kSuspended, sched->run(t1, 0));
  EntryThread* t2 = sched->acquire(&owner);
  luaL_loadstring(t2->state(), "wait(5)");
  ASSERT_EQ(RunStatus::kSuspended, sched->run(t2, 0));
  EXPECT_TRUE(owner.hasThreads());
  owner.endOwned();
  EXPECT_FALSE(owner.hasThreads());
  EXPECT_EQ(1, gOpCancelled);
  EXPECT_EQ(1, gCancelled);
  EXPECT_TRUE(a.dead());
  EXPECT_TRUE(b.dead());
  EXPECT_EQ(1, a.ended);
  EXPECT_EQ(nullptr, a.owner());
  uv_run(testLoop(), UV_RUN_DEFAULT);
  EXPECT_EQ(0, gFinish.calls);  // nothing resumed after the release
  EXPECT_EQ(2u, sched->pooled());
}

TEST_F(OwnerTest, DeadOwnerIsNotResumedAndIsHeldAcrossResume) {
  TestOwner owner;
  EntryThread* t = sched->acquire(&owner);
  t->onFinish = onFinish;
  luaL_loadstring(t->state(), "plain() plain() return 'x'");
  ASSERT_EQ(RunStatus::kSuspended, sched->run(t, 0));
  EXPECT_EQ(RunStatus::kSuspended, sched->resume(&gPlainWait, 0));
  EXPECT_EQ(0, owner.holds);
  owner.aliveFlag = false;
  EXPECT_EQ(RunStatus::kSuspended, sched->resume(&gPlainWait, 0));
  owner.aliveFlag = true;
  EXPECT_EQ(RunStatus::kDone, sched->resume(&gPlainWait, 0));
  EXPECT_EQ("x", gFinish.result);
  EXPECT_EQ(0, owner.holds);
  sched->release(t);
  EXPECT_FALSE(owner.hasThreads());
}

TEST_F(OwnerTest, DetachedObjectStaysAlive) {
  TestOwner owner;
  TestObject a;
  owner.adopt(&a);
  a.detach();
  owner.endOwned();
  EXPECT_FALSE(a.dead());
  EXPECT_EQ(0, a.ended);
}

}  // namespace
}  // namespace lunet::lua
