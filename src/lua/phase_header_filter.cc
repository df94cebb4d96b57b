// header_filter_by_lua*: a header filter running the location's handler.
#include "http/filter.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

http::HeaderFilter gNext = nullptr;

int run(http::Request& r) {
  const LuaLocConf* lc = r.locConf != nullptr ? r.loc<LuaLocConf>(luaModule()) : nullptr;
  if (lc == nullptr || !lc->headerFilter) return gNext(r);
  RequestCtx* ctx = RequestCtx::of(r);
  // After a failure the error response must not run into the same error.
  if (ctx->filterFailed) return gNext(r);
  EntryThread* t = nullptr;
  RequestCtx::ExitState saved = ctx->saveExit();
  RunStatus s = runSyncHandler(ctx, kHeaderFilter, *lc->headerFilter, lc->codeCache != 0, &t);
  int code = s == RunStatus::kExited ? ctx->exitCode : 0;
  Scheduler::get().release(t);
  ctx->restoreExit(saved);
  if (s == RunStatus::kError) {
    ctx->filterFailed = true;
    return http::kError;
  }
  if (code >= 200) {
    // ngx.exit(status): as nginx, the response is replaced by the special
    // response for status (error page / error_page, or an empty 2xx); the
    // filter lets that response's own header pass.
    ctx->filterFailed = true;
    return http::filterFinalize(r, code);
  }
  return gNext(r);
}

int filter(http::Request& r) {
  holdHandlerRequest(r);
  int rc = run(r);
  if (!unholdHandlerRequest(r)) return http::kError;  // closed under the handler
  return rc;
}

}  // namespace

void registerHeaderFilter() { gNext = http::pushHeaderFilter(filter); }

}  // namespace lunet::lua
