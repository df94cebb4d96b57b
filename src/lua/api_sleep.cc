// ngx.sleep(seconds): the simplest user of the yield contract.
#include <cmath>

#include "lua/api.h"
#include "lua/context.h"
#include "lua/scheduler.h"

namespace lunet::lua {

namespace {

void onWake(uv_timer_t* h) {
  auto* t = static_cast<EntryThread*>(h->data);
  Scheduler::get().resume(t, 0);
}

int sleep(lua_State* L) {
  lua_Number sec = luaL_checknumber(L, 1);
  auto ms = static_cast<int64_t>(std::llround(sec * 1000));
  if (sec < 0 || std::isnan(sec)) {
    return luaL_error(L, "invalid sleep duration \"%d\"", static_cast<int>(ms));
  }
  checkPhase(L, kYieldable);
  Scheduler* s = Scheduler::tryGet();
  if (s == nullptr || !s->managed(L))
    return luaL_error(L, "attempt to yield across C-call boundary");
  EntryThread* t = s->currentEntry();
  uv_timer_t* tm = t->timer();
  tm->data = t;
  LUNET_UV_CHECK(uv_timer_start(tm, onWake, static_cast<uint64_t>(ms), 0));
  return s->suspend(L, t->timerWait());
}

}  // namespace

void injectSleepApi(lua_State* L) {
  lua_pushcfunction(L, sleep);
  lua_setfield(L, -2, "sleep");
}

}  // namespace lunet::lua
