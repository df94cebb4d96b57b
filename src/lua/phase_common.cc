// What rewrite_by_lua* and access_by_lua* share: both are yieldable phase
// handlers that may first wait for the request body (lua_need_request_body)
// and hand their result back to the phase engine with resumeWith().
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

void onBody(http::Request& r) {
  RequestCtx* ctx = RequestCtx::find(r);
  if (ctx == nullptr || !ctx->waitingNeedBody) return;  // ran synchronously
  ctx->waitingNeedBody = false;
  http::resume(r);  // calls the phase handler again, now with the body
}

}  // namespace

namespace {

int runPhase(http::Request& r, uint32_t phase, LuaHandlerPtr LuaLocConf::*handler) {
  const LuaLocConf* lc = r.loc<LuaLocConf>(luaModule());
  if (lc == nullptr || !(lc->*handler)) return http::kDeclined;
  RequestCtx* ctx = RequestCtx::of(r);
  if (lc->needRequestBody == 1 && (r.body == nullptr || !r.body->done)) {
    int rc = http::readBody(r, onBody);
    if (rc == http::kAgain) {
      ctx->waitingNeedBody = true;
      return http::kAgain;
    }
    if (rc != http::kOk) return rc;
  }
  RunStatus s =
      runRequestHandler(ctx, phase, *(lc->*handler), lc->codeCache != 0, onFinish, &ctx->thread);
  return threadResult(ctx, s, false);
}

}  // namespace

int runRewriteLikePhase(http::Request& r, uint32_t phase, LuaHandlerPtr LuaLocConf::*handler) {
  holdHandlerRequest(r);
  int rc = runPhase(r, phase, handler);
  if (!unholdHandlerRequest(r)) return http::kDone;  // closed under the handler
  return rc;
}

}  // namespace lunet::lua
