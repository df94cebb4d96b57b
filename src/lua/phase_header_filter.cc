// header_filter_by_lua*: a header filter running the location's handler.
#include "http/filter.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

http::HeaderFilter gNext = nullptr;

int filter(http::Request& r) {
  const LuaLocConf* lc = r.locConf != nullptr ? r.loc<LuaLocConf>(luaModule()) : nullptr;
  if (lc == nullptr || !lc->headerFilter) return gNext(r);
  RequestCtx* ctx = RequestCtx::of(r);
  // After a failure the error response must not run into the same error.
  if (ctx->filterFailed) return gNext(r);
  EntryThread* t = nullptr;
  RequestCtx::ExitState saved = ctx->saveExit();
  RunStatus s = runSyncHandler(ctx, kHeaderFilter, *lc->headerFilter, lc->codeCache != 0, &t);
  // ngx.exit(status) here: the response goes out with that status (the
  // body already produced is kept; nginx would send the error page).
  if (s == RunStatus::kExited && ctx->exitCode >= 200) r.headersOut.status = ctx->exitCode;
  Scheduler::get().release(t);
  ctx->restoreExit(saved);
  if (s == RunStatus::kError) {
    ctx->filterFailed = true;
    return http::kError;
  }
  return gNext(r);
}

}  // namespace

void registerHeaderFilter() { gNext = http::pushHeaderFilter(filter); }

}  // namespace lunet::lua
