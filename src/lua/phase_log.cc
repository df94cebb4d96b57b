// log_by_lua*: a LOG phase handler (runs when the request is freed).
#include "http/phases.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

int handler(http::Request& r) {
  const LuaLocConf* lc = r.locConf != nullptr ? r.loc<LuaLocConf>(luaModule()) : nullptr;
  if (lc == nullptr || !lc->log) return http::kOk;
  RequestCtx* ctx = RequestCtx::of(r);
  EntryThread* t = nullptr;
  runSyncHandler(ctx, kLog, *lc->log, lc->codeCache != 0, &t);
  Scheduler::get().release(t);
  return http::kOk;
}

}  // namespace

void registerLogPhase() { http::addPhaseHandler(http::Phase::kLog, handler); }

}  // namespace lunet::lua
