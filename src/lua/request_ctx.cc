#include "lua/request_ctx.h"

#include "http/core_module.h"
#include "http/phases.h"
#include "lua/api.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"

namespace lunet::lua {

namespace {

void cleanup(void* p) {
  auto* ctx = static_cast<RequestCtx*>(p);
  // Every thread of the request (main, on_abort callback, ...) and every
  // object it handed to Lua.
  ctx->endOwned();
  ctx->thread = nullptr;
  ctx->abortThread = nullptr;
  Vm* vm = currentVm();
  if (vm != nullptr) releaseCtxRef(vm->state(), &ctx->ctxRef);
  ctx->ctxRef = LUA_NOREF;
  if (ctx->envRef != LUA_NOREF && vm != nullptr) {
    luaL_unref(vm->state(), LUA_REGISTRYINDEX, ctx->envRef);
  }
  ctx->envRef = LUA_NOREF;
  if (ctx->onAbortRef != LUA_NOREF && vm != nullptr) {
    luaL_unref(vm->state(), LUA_REGISTRYINDEX, ctx->onAbortRef);
  }
  ctx->onAbortRef = LUA_NOREF;
}

// lua_code_cache off. OpenResty then runs each request in a Lua VM of its
// own; Lunet keeps the VM but gives the request what a fresh VM would:
// user modules are unloaded (required afresh), the request's handlers and
// the modules they load see a globals table of their own (reads fall back
// to the VM's globals: the standard library and ngx), and init_by_lua runs
// again in it. Created by the request's first such handler; leaves the
// table on the top of L's stack.
void pushFreshEnv(RequestCtx* ctx, lua_State* L) {
  if (ctx->envRef != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->envRef);
    return;
  }
  Vm* vm = currentVm();
  if (vm != nullptr) vm->unloadUserModules();
  lua_createtable(L, 0, 4);
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "_G");
  lua_pushvalue(L, -1);
  ctx->envRef = luaL_ref(L, LUA_REGISTRYINDEX);
  LuaMainConf* mc = luaMainConf();
  if (mc == nullptr || !mc->init) return;
  // init_by_lua again, in the new globals (as in a new VM).
  Scheduler& s = Scheduler::get();
  EntryThread* t = s.acquire();
  t->phase = kInit;
  lua_State* co = t->state();
  std::string err;
  if (!pushHandler(co, *mc->init, false, &err)) {
    ctx->log().error(core::Level::kError, 0, "init_by_lua error: %s", err.c_str());
    s.release(t);
    return;
  }
  lua_pushvalue(L, -1);
  lua_xmove(L, co, 1);
  lua_pushvalue(co, -1);
  t->setGlobals();
  lua_setfenv(co, -2);
  RunStatus st = s.run(t, 0);
  if (st != RunStatus::kDone) {
    ctx->log().error(core::Level::kError, 0, "init_by_lua error: %s",
                     st == RunStatus::kError ? t->plainError().c_str() : "attempt to yield");
  }
  s.release(t);
}

// Gives the function on the top of t's stack, and t itself, the request's
// fresh globals (lua_code_cache off).
void useFreshEnv(RequestCtx* ctx, EntryThread* t) {
  lua_State* co = t->state();
  pushFreshEnv(ctx, co);
  lua_pushvalue(co, -1);
  t->setGlobals();
  lua_setfenv(co, -2);
}

}  // namespace

RequestCtx* RequestCtx::find(http::Request& r) noexcept {
  return static_cast<RequestCtx*>(r.getCtx(luaModule()));
}

RequestCtx* RequestCtx::of(http::Request& r) noexcept {
  RequestCtx* c = find(r);
  if (c != nullptr) return c;
  c = r.arena.make<RequestCtx>(r);
  r.setCtx(luaModule(), c);
  http::addCleanup(r, cleanup, c);
  return c;
}

void logThreadError(RequestCtx* ctx, const std::string& msg) {
  const core::Log& log = ctx != nullptr ? ctx->log() : core::processLog();
  log.error(core::Level::kError, 0, "lua entry thread aborted: %s", msg.c_str());
}

RunStatus runRequestHandler(RequestCtx* ctx, uint32_t phase, LuaHandler& h, bool codeCache,
                            void (*onFinish)(EntryThread*, RunStatus) noexcept, EntryThread** out,
                            int nargs) {
  http::Request& r = *ctx->r;
  LUNET_LOG(ctx->log(), core::Level::kDebug, 0, "lua %s handler, uri:\"%.*s\" c:%d",
            phase == kRewrite  ? "rewrite"
            : phase == kAccess ? "access"
                               : "content",
            static_cast<int>(r.uri.size()), r.uri.data(), r.main->count);
  startAbortWatch(ctx);
  Scheduler& s = Scheduler::get();
  EntryThread* t = s.acquire(ctx);
  LUNET_LOG(ctx->log(), core::Level::kDebug, 0, "lua creating new thread");
  t->phase = phase;
  t->onFinish = onFinish;
  *out = t;
  std::string err;
  int status = 500;
  if (!pushHandler(t->state(), h, codeCache, &err, &status)) {
    ctx->log().error(core::Level::kError, 0, "%s", err.c_str());
    if (status == 500) return RunStatus::kError;
    // A *_by_lua_file that cannot be opened (404) or read (503).
    ctx->clearExit();
    ctx->exited = true;
    ctx->exitCode = status;
    return RunStatus::kExited;
  }
  if (!codeCache) useFreshEnv(ctx, t);
  if (nargs > 0) lua_insert(t->state(), -1 - nargs);
  ctx->clearExit();
  LUNET_LOG(ctx->log(), core::Level::kDebug, 0, "lua run thread, top:%d c:%d",
            lua_gettop(t->state()) - 1, r.main->count);
  RunStatus st = s.run(t, nargs);
  if (st == RunStatus::kError) logThreadError(ctx, t->error());
  return st;
}

RunStatus runSyncHandler(RequestCtx* ctx, uint32_t phase, LuaHandler& h, bool codeCache,
                         EntryThread** out) {
  http::Request& r = *ctx->r;
  if (phase == kLog) {
    LUNET_LOG(ctx->log(), core::Level::kDebug, 0, "lua log handler, uri:\"%.*s\" c:%d",
              static_cast<int>(r.uri.size()), r.uri.data(), r.main->count);
  } else if (phase == kHeaderFilter || phase == kBodyFilter) {
    LUNET_LOG(ctx->log(), core::Level::kDebug, 0, "lua %s filter for user lua code, uri \"%.*s\"",
              phase == kHeaderFilter ? "header" : "body", static_cast<int>(r.uri.size()),
              r.uri.data());
  }
  Scheduler& s = Scheduler::get();
  EntryThread* t = s.acquire(ctx);
  t->phase = phase;
  *out = t;
  std::string err;
  if (!pushHandler(t->state(), h, codeCache, &err)) {
    ctx->log().error(core::Level::kError, 0, "failed to load %s: %s", phaseContextName(phase),
                     err.c_str());
    return RunStatus::kError;
  }
  if (!codeCache) useFreshEnv(ctx, t);
  RequestCtx::ExitState saved = ctx->saveExit();
  ctx->clearExit();
  RunStatus st = s.run(t, 0);
  if (st == RunStatus::kError) {
    ctx->log().error(core::Level::kError, 0, "failed to run %s: %s", phaseContextName(phase),
                     t->plainError().c_str());
  } else if (st == RunStatus::kSuspended) {
    ctx->log().error(core::Level::kError, 0, "failed to run %s: attempt to yield",
                     phaseContextName(phase));
    st = RunStatus::kError;
  } else if (st == RunStatus::kExited && ctx->exitCode == http::kError) {
    st = RunStatus::kError;
  }
  if (st != RunStatus::kExited) ctx->restoreExit(saved);
  return st;
}

void holdHandlerRequest(http::Request& r) noexcept { http::holdRequest(r); }

void RequestCtx::hold() noexcept { holdHandlerRequest(*r); }
void RequestCtx::unhold() noexcept { unholdHandlerRequest(*r); }

bool unholdHandlerRequest(http::Request& r) noexcept {
  if (!http::requestFreed(r)) {
    http::unholdRequest(r);
    return true;
  }
  Scheduler* s = Scheduler::tryGet();
  if (s == nullptr) {
    http::unholdRequest(r);
    return false;
  }
  s->defer([](void* p) { http::unholdRequest(*static_cast<http::Request*>(p)); }, &r);
  return false;
}

void releaseThread(RequestCtx* ctx) noexcept {
  if (ctx->thread == nullptr) return;
  EntryThread* t = ctx->thread;
  ctx->thread = nullptr;
  Scheduler::get().release(t);
}

int sendHeaderOnce(RequestCtx* ctx) noexcept {
  http::Request& r = *ctx->r;
  if (r.headerSent) return http::kOk;
  if (r.headersOut.contentType.empty() && !ctx->mimeSet) {
    const LuaLocConf* lc = r.loc<LuaLocConf>(luaModule());
    if (lc == nullptr || lc->useDefaultType != 0) http::setContentType(r);
  }
  int rc = http::sendHeader(r);
  if (rc == http::kError) ctx->outputFailed = true;
  return rc;
}

bool wantsBuffering(RequestCtx* ctx) noexcept {
  http::Request& r = *ctx->r;
  if (ctx->buffering) return true;
  if (r.headerSent || r.httpVersion >= 1001 || r.main != &r || r.method == http::kHead) {
    return false;
  }
  if (r.headersOut.contentLength >= 0) return false;
  const LuaLocConf* lc = r.loc<LuaLocConf>(luaModule());
  return lc != nullptr && lc->http10Buffering != 0;
}

int flushBuffered(RequestCtx* ctx, bool setLength) noexcept {
  http::Request& r = *ctx->r;
  ctx->buffering = false;
  http::Buf* chain = ctx->buffered;
  ctx->buffered = nullptr;
  ctx->bufferedTail = &ctx->buffered;
  if (setLength && r.headersOut.contentLength < 0) {
    r.headersOut.contentLength = ctx->bufferedBytes;
  }
  int rc = sendHeaderOnce(ctx);
  if (rc == http::kError) return rc;
  if (rc == http::kDone || r.headerOnly || chain == nullptr) return http::kOk;
  rc = http::output(r, chain);
  if (rc == http::kError) ctx->outputFailed = true;
  return rc;
}

int finishOutput(RequestCtx* ctx) noexcept {
  http::Request& r = *ctx->r;
  if (ctx->buffering && flushBuffered(ctx, true) == http::kError) return http::kError;
  if (!r.headerSent) {
    int rc = sendHeaderOnce(ctx);
    if (rc == http::kError) return http::kError;
  }
  if (ctx->eofSent) return http::kOk;
  ctx->eofSent = true;
  LUNET_LOG(ctx->log(), core::Level::kDebug, 0, "lua sending last buf of the response body");
  http::Buf* b = http::newBuf(r, {});
  b->last = (&r == r.main);
  b->lastInChain = true;
  int rc = http::output(r, b);
  if (rc == http::kError) ctx->outputFailed = true;
  return rc;
}

int threadResult(RequestCtx* ctx, RunStatus s, bool content) noexcept {
  http::Request& r = *ctx->r;
  if (s == RunStatus::kSuspended) return content ? http::kDone : http::kAgain;
  releaseThread(ctx);
  // In rewrite/access a finished response is finalized here (the phase
  // engine would otherwise move on to the next phase).
  auto done = [&](int rc) {
    if (content) return rc;
    http::finalize(r, rc);
    return http::kDone;
  };
  if (s == RunStatus::kError) {
    return r.headerSent ? http::kError : 500;
  }
  if (ctx->outputFailed) return done(http::kError);
  if (s == RunStatus::kDone) {
    if (content || r.headerSent) return done(finishOutput(ctx));
    return http::kDeclined;
  }
  // kExited
  if (!ctx->exec && !ctx->uriJump) {
    LUNET_LOG(ctx->log(), core::Level::kDebug, 0, "lua thread aborting request with status %d",
              ctx->exitCode);
  }
  if (ctx->exec) {
    ctx->exec = false;
    int rc = !ctx->execUri.empty() && ctx->execUri[0] == '@'
                 ? http::namedLocation(r, ctx->execUri)
                 : http::internalRedirect(r, ctx->execUri, ctx->execArgs);
    return rc;
  }
  if (ctx->uriJump) {
    ctx->uriJump = false;
    return http::kDeclined;
  }
  int code = ctx->exitCode;
  if (ctx->buffering) {
    // HTTP/1.0 output held: nothing went out yet. As lua-nginx-module, a
    // closing code drops it with the connection; any other ends the
    // response with what was printed, under the status set so far.
    if (code == 408 || code == 499) return done(code);
    if (code == http::kError) return done(444);
    return done(finishOutput(ctx));
  }
  if (code == http::kOk) {
    if (content || r.headerSent) return done(finishOutput(ctx));
    return http::kDeclined;
  }
  if (code == http::kError) return http::kError;
  if (code == http::kDone) return done(http::kDone);
  // 408/499 close the connection, even after the response started (no
  // last chunk), as nginx's ngx_http_terminate_request.
  if (code == 408 || code == 499) return done(code);
  if (code >= 200 && r.headerSent) return done(finishOutput(ctx));
  if (code >= 100 && code < 300) {
    r.headersOut.status = code;
    return done(finishOutput(ctx));
  }
  if (code >= 300) return code;
  return done(finishOutput(ctx));
}

}  // namespace lunet::lua
