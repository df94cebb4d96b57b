// ngx.sleep(seconds): the simplest user of the yield contract.
#include <cmath>

#include "core/log.h"
#include "lua/api.h"
#include "lua/context.h"
#include "lua/request_ctx.h"
#include "lua/scheduler.h"

namespace lunet::lua {

namespace {

// The sleep's "timeout" (it is all there is to it).
int onSleepDone(Wait* w, lua_State*) noexcept {
  EntryThread* t = w->thread;
  if (t != nullptr && t->req != nullptr) {
    const http::Request& r = *t->req->r;
    LUNET_LOG(t->req->log(), core::Level::kDebug, 0, "lua sleep timer expired: \"%.*s?%.*s\"",
              static_cast<int>(r.uri.size()), r.uri.data(), static_cast<int>(r.args.size()),
              r.args.data());
  } else {
    const core::Log& log =
        t != nullptr && t->owner != nullptr ? t->owner->log() : core::processLog();
    LUNET_LOG(log, core::Level::kDebug, 0, "lua sleep timer expired: \"?\"");
  }
  return 0;
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
  const core::Log& log = t->req != nullptr     ? t->req->log()
                         : t->owner != nullptr ? t->owner->log()
                                               : core::processLog();
  LUNET_LOG(log, core::Level::kDebug, 0, "lua ready to sleep for %lld ms",
            static_cast<long long>(ms));
  // An operation that never completes, raced against its timeout.
  return s->suspendFor(L, t->sleepWait(), static_cast<uint64_t>(ms), onSleepDone);
}

}  // namespace

void injectSleepApi(lua_State* L) {
  lua_pushcfunction(L, sleep);
  lua_setfield(L, -2, "sleep");
}

}  // namespace lunet::lua
