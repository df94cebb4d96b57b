// access_by_lua*: an ACCESS phase handler.
#include "http/phases.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

void onFinish(EntryThread* t, RunStatus s) noexcept {
  auto* ctx = static_cast<RequestCtx*>(t->owner);
  if (s == RunStatus::kError) logThreadError(ctx, t->error());
  http::resumeWith(*ctx->r, threadResult(ctx, s, false));
}

int handler(http::Request& r) {
  const LuaLocConf* lc = r.loc<LuaLocConf>(luaModule());
  if (lc == nullptr || !lc->access) return http::kDeclined;
  RequestCtx* ctx = RequestCtx::of(r);
  RunStatus s =
      runRequestHandler(ctx, kAccess, *lc->access, lc->codeCache != 0, onFinish, &ctx->thread);
  return threadResult(ctx, s, false);
}

}  // namespace

void registerAccessPhase() { http::addPhaseHandler(http::Phase::kAccess, handler); }

}  // namespace lunet::lua
