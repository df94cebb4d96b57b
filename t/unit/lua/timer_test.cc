// The timer store on a bare VM and loop: firing order (heap by due time,
// FIFO among equal times, due-now FIFO), cancel in the middle of the heap,
// handles that go stale, limits.
#include "lua/timer.h"

#include <gtest/gtest.h>

#include <string>

#include "event/loop.h"
#include "lua/context.h"
#include "lua/vm.h"
#include "shm/counters.h"
#include "shm/zone.h"

namespace lunet::lua {
namespace {

class TimerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (event::loop() == nullptr) event::createLoop();
    uv_update_time(event::loop());
    // Timer runs take connection numbers from the shared counters; config
    // tests before this one may have bound them to a cycle that is gone.
    static shm::ZoneTable zones;
    std::string zerr;
    ASSERT_TRUE(shm::bindCounters(zones, &zerr)) << zerr;
    std::string err;
    vm = Vm::create(VmOptions{}, &err);
    ASSERT_TRUE(vm) << err;
    setCurrentVm(vm.get());
    L = vm->state();
  }
  void TearDown() override {
    vm.reset();
    uv_run(event::loop(), UV_RUN_NOWAIT);
  }
  // Runs `code` as init_worker_by_lua would; returns its result or the error.
  std::string eval(const std::string& code) {
    ScopedRunCtx ctx(kInitWorker, nullptr);
    if (luaL_loadstring(L, code.c_str()) != 0 || lua_pcall(L, 0, 1, 0) != 0) {
      std::string e = "ERROR: " + std::string(lua_tostring(L, -1));
      lua_pop(L, 1);
      return e;
    }
    std::string r = lua_isstring(L, -1) ? lua_tostring(L, -1) : luaL_typename(L, -1);
    lua_pop(L, 1);
    return r;
  }
  void runLoop() { uv_run(event::loop(), UV_RUN_DEFAULT); }

  std::unique_ptr<Vm> vm;
  lua_State* L = nullptr;
};

TEST_F(TimerStoreTest, FiresByDueTimeThenInCreationOrder) {
  EXPECT_EQ("6", eval(R"(
    out = {}
    local f = function(premature, i) out[#out + 1] = i end
    for i, ms in ipairs({30, 10, 20, 0, 10, -5}) do ngx.timer.at(ms / 1000, f, i) end
    return ngx.timer.pending_count()
  )"));
  runLoop();
  EXPECT_EQ("4,6,2,5,3,1", eval("return table.concat(out, ',')"));
  EXPECT_EQ("0", eval("return ngx.timer.pending_count()"));
}

TEST_F(TimerStoreTest, CancelInsideALargeHeapKeepsTheOrder) {
  // 2000 timers with scattered due times; every third one is cancelled.
  TimerStore::Limits l;
  l.maxPending = 10000;
  vm->timers().setLimits(l);
  EXPECT_EQ("1334", eval(R"(
    fired, last, bad = 0, -1, 0
    local handles = {}
    for i = 1, 2000 do
      local due = (i * 7919) % 40
      handles[i] = ngx.timer.at(due / 1000, function(premature, d, k)
        if k % 3 == 0 then bad = bad + 1 end
        if d < last then bad = bad + 1 end
        last = d
        fired = fired + 1
      end, due, i)
    end
    for i = 3, 2000, 3 do assert(ngx.timer.cancel(handles[i])) end
    return ngx.timer.pending_count()
  )"));
  runLoop();
  EXPECT_EQ("1334 0", eval("return fired .. ' ' .. bad"));
}

TEST_F(TimerStoreTest, HandlesGoStaleAndSlotsAreReused) {
  EXPECT_EQ("true nil not found true", eval(R"(
    local h1 = ngx.timer.at(1, function() end)
    local ok1 = ngx.timer.cancel(h1)
    local h2 = ngx.timer.at(1, function() end)   -- same slot, new generation
    local ok2, err = ngx.timer.cancel(h1)
    local ok3 = ngx.timer.cancel(h2)
    return tostring(ok1) .. ' ' .. tostring(ok2) .. ' ' .. err .. ' ' .. tostring(ok3)
  )"));
  EXPECT_EQ("0", eval("return ngx.timer.pending_count()"));
}

TEST_F(TimerStoreTest, PendingLimitCountsEveryKind) {
  TimerStore::Limits l;
  l.maxPending = 3;
  vm->timers().setLimits(l);
  EXPECT_EQ("too many pending timers", eval(R"(
    local f = function() end
    ngx.timer.at(0, f)          -- due now (ready list)
    ngx.timer.at(1, f)          -- heap
    ngx.timer.every(1, f)
    local ok, err = ngx.timer.at(1, f)
    return err
  )"));
  EXPECT_EQ("3", eval("return ngx.timer.pending_count()"));
}

TEST_F(TimerStoreTest, ShutdownRunsEverythingPrematureOnce) {
  EXPECT_EQ("3", eval(R"(
    out = {}
    local f = function(premature, what) out[#out + 1] = what .. '=' .. tostring(premature) end
    ngx.timer.at(0, f, 'at0')
    ngx.timer.at(5, f, 'at5')
    ngx.timer.every(5, f, 'every')
    return ngx.timer.pending_count()
  )"));
  vm->timers().shutdown();
  EXPECT_EQ("0", eval("return ngx.timer.pending_count()"));
  EXPECT_EQ("nil process exiting", eval(R"(
    local ok, err = ngx.timer.at(1, function() end)
    return tostring(ok) .. ' ' .. err
  )"));
  runLoop();
  EXPECT_EQ("at0=true,at5=true,every=true", eval("return table.concat(out, ',')"));
}

}  // namespace
}  // namespace lunet::lua
