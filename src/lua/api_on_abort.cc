// ngx.on_abort(callback) and lua_check_client_abort.
//
// With lua_check_client_abort on, the first rewrite/access/content handler
// of a request starts the HTTP layer's client-abort watch
// (http::watchClientAbort). When the client goes away:
//   - without a callback, the request is aborted at once (499 in the log;
//     the request's Lua threads are released by its cleanup);
//   - with one, the callback runs in its own entry thread of the request (a
//     "light thread": it may yield); ngx.exit() in it aborts the request
//     with that status (499 as a rule), otherwise the main thread goes on.
#include "lua/api.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/request_ctx.h"
#include "lua/scheduler.h"

namespace lunet::lua {

namespace {

// The callback's thread ended (synchronously or from an event callback).
// May free the request: the caller returns right after.
void abortThreadDone(RequestCtx* ctx, EntryThread* t, RunStatus s,
                     const RequestCtx::ExitState& saved) noexcept {
  bool exited = s == RunStatus::kExited;
  int code = ctx->exitCode;
  if (s == RunStatus::kError) {
    ctx->log().error(core::Level::kError, 0, "lua user thread aborted: %s", t->error().c_str());
  }
  ctx->restoreExit(saved);
  ctx->abortThread = nullptr;
  Scheduler::get().release(t);
  if (exited) http::abortRequest(*ctx->r, code >= 100 ? code : 499);
}

void onAbortThreadFinish(EntryThread* t, RunStatus s) noexcept {
  auto* ctx = static_cast<RequestCtx*>(t->owner);
  // A resumed callback: the main thread's ngx.exit state is not involved.
  RequestCtx::ExitState saved = ctx->saveExit();
  abortThreadDone(ctx, t, s, saved);
}

void onClientAbort(http::Request& r, void* data) {
  auto* ctx = static_cast<RequestCtx*>(data);
  if (http::requestFreed(r)) return;
  if (ctx->onAbortRef == LUA_NOREF) {
    http::abortRequest(r, 499);
    return;
  }
  Scheduler& s = Scheduler::get();
  EntryThread* t = s.acquire(ctx);
  t->phase = ctx->onAbortPhase;
  t->onFinish = onAbortThreadFinish;
  ctx->abortThread = t;
  lua_State* co = t->state();
  lua_rawgeti(co, LUA_REGISTRYINDEX, ctx->onAbortRef);
  RequestCtx::ExitState saved = ctx->saveExit();
  ctx->clearExit();
  RunStatus st = s.run(t, 0);
  if (st == RunStatus::kSuspended) {
    ctx->restoreExit(saved);
    return;
  }
  abortThreadDone(ctx, t, st, saved);
}

int onAbort(lua_State* L) {
  // lua-nginx-module's order: duplicate call, directive, phase, argument.
  RequestCtx* ctx = checkRequest(L);
  if (ctx->onAbortRef != LUA_NOREF) {
    lua_pushnil(L);
    lua_pushliteral(L, "duplicate call");
    return 2;
  }
  const LuaLocConf* lc = ctx->r->loc<LuaLocConf>(luaModule());
  if (lc == nullptr || lc->checkClientAbort != 1) {
    lua_pushnil(L);
    lua_pushliteral(L, "lua_check_client_abort is off");
    return 2;
  }
  checkPhase(L, kRewrite | kAccess | kContent);
  if (lua_type(L, 1) != LUA_TFUNCTION) return luaL_argerror(L, 1, "Lua function expected");
  lua_pushvalue(L, 1);
  ctx->onAbortRef = luaL_ref(L, LUA_REGISTRYINDEX);
  ctx->onAbortPhase = current().phase;
  lua_pushinteger(L, 1);
  return 1;
}

}  // namespace

void startAbortWatch(RequestCtx* ctx) noexcept {
  if (ctx->abortWatched) return;
  const LuaLocConf* lc = ctx->r->loc<LuaLocConf>(luaModule());
  if (lc == nullptr || lc->checkClientAbort != 1) return;
  if (http::watchClientAbort(*ctx->r, onClientAbort, ctx) == http::kOk) ctx->abortWatched = true;
}

void injectOnAbortApi(lua_State* L) {
  lua_pushcfunction(L, onAbort);
  lua_setfield(L, -2, "on_abort");
}

}  // namespace lunet::lua
