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
  RequestCtx::ExitState saved = ctx->saveExit();
  EntryThread* t = nullptr;
  RunStatus s =
      runRequestHandler(ctx, kHeaderFilter, *lc->headerFilter, lc->codeCache != 0, nullptr, &t);
  Scheduler::get().release(t);
  bool failed = s == RunStatus::kError || s == RunStatus::kSuspended ||
                (s == RunStatus::kExited && ctx->exitCode == http::kError);
  ctx->restoreExit(saved);
  if (failed) return http::kError;
  return gNext(r);
}

}  // namespace

void registerHeaderFilter() { gNext = http::pushHeaderFilter(filter); }

}  // namespace lunet::lua
