// content_by_lua*: the location's content handler.
#include "http/core_module.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

void onFinish(EntryThread* t, RunStatus s) noexcept {
  auto* ctx = static_cast<RequestCtx*>(t->owner);
  if (s == RunStatus::kError) logThreadError(ctx, t->error());
  int rc = threadResult(ctx, s, true);
  http::finalize(*ctx->r, rc);
}

int run(http::Request& r, bool async);

void onBody(http::Request& r) {
  RequestCtx* ctx = RequestCtx::find(r);
  if (ctx == nullptr || !ctx->waitingNeedBody) return;  // ran synchronously
  ctx->waitingNeedBody = false;
  holdHandlerRequest(r);
  run(r, true);
  unholdHandlerRequest(r);
}

int run(http::Request& r, bool async) {
  const LuaLocConf* lc = r.loc<LuaLocConf>(luaModule());
  RequestCtx* ctx = RequestCtx::of(r);
  if (lc->needRequestBody == 1 && (r.body == nullptr || !r.body->done)) {
    int rc = http::readBody(r, onBody);
    if (rc == http::kAgain) {
      ctx->waitingNeedBody = true;
      return http::kDone;
    }
    if (rc != http::kOk) {
      if (async) http::finalize(r, rc);
      return rc;
    }
  }
  RunStatus s =
      runRequestHandler(ctx, kContent, *lc->content, lc->codeCache != 0, onFinish, &ctx->thread);
  int rc = threadResult(ctx, s, true);
  if (async && s != RunStatus::kSuspended) http::finalize(r, rc);
  return rc;
}

}  // namespace

int contentHandler(http::Request& r) {
  uint64_t before = debugAllocCount();
  holdHandlerRequest(r);
  int rc = run(r, false);
  if (!unholdHandlerRequest(r)) rc = http::kDone;  // closed under the handler
  debugAddPhaseAllocs(debugAllocCount() - before);
  return rc;
}

}  // namespace lunet::lua
