// rewrite_by_lua*: a REWRITE phase handler.
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
  http::resume(r);  // calls handler() again, now with the body
}

int handler(http::Request& r) {
  const LuaLocConf* lc = r.loc<LuaLocConf>(luaModule());
  if (lc == nullptr || !lc->rewrite) return http::kDeclined;
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
      runRequestHandler(ctx, kRewrite, *lc->rewrite, lc->codeCache != 0, onFinish, &ctx->thread);
  return threadResult(ctx, s, false);
}

}  // namespace

void registerRewritePhase() { http::addPhaseHandler(http::Phase::kRewrite, handler); }

}  // namespace lunet::lua
