// ngx.say, ngx.print, ngx.flush, ngx.eof, ngx.exit, ngx.redirect, ngx.exec,
// ngx.send_headers.
#include <cstdio>
#include <cstring>

#include "http/filter.h"
#include "lua/api.h"
#include "lua/args.h"
#include "lua/context.h"
#include "lua/request_ctx.h"
#include "lua/scheduler.h"

namespace lunet::lua {

namespace {

constexpr uint32_t kOutputPhases = kRewrite | kAccess | kContent;

// Size of the printable form of the value at idx (absolute); raises on
// values ngx.print does not accept.
size_t measure(lua_State* L, int idx, const char* fname, int argn, int depth) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
      return lua_objlen(L, idx);
    case LUA_TNUMBER: {
      size_t len = 0;
      lua_pushvalue(L, idx);
      lua_tolstring(L, -1, &len);
      lua_pop(L, 1);
      return len;
    }
    case LUA_TNIL:
      return 3;
    case LUA_TBOOLEAN:
      return lua_toboolean(L, idx) ? 4 : 5;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == nullptr) return 4;
      break;
    case LUA_TTABLE: {
      if (depth > 100) return luaL_error(L, "table nested too deep");
      size_t n = lua_objlen(L, idx);
      // only arrays: every key must be 1..n
      size_t keys = 0;
      lua_pushnil(L);
      while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER) {
          return luaL_error(L, "bad argument #%d to '%s' (non-array table found)", argn, fname);
        }
        keys++;
      }
      if (keys != n) {
        return luaL_error(L, "bad argument #%d to '%s' (non-array table found)", argn, fname);
      }
      size_t total = 0;
      for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, static_cast<int>(i));
        int t = lua_type(L, -1);
        if (t == LUA_TNIL || t == LUA_TBOOLEAN) {
          return luaL_error(L, "bad argument #%d to '%s' (bad data type %s found)", argn, fname,
                            lua_typename(L, t));
        }
        total += measure(L, lua_gettop(L), fname, argn, depth + 1);
        lua_pop(L, 1);
      }
      return total;
    }
    default:
      break;
  }
  return luaL_error(L,
                    "bad argument #%d to '%s' (string, number, boolean, nil, ngx.null, or array "
                    "table expected, got %s)",
                    argn, fname, luaL_typename(L, idx));
}

char* copyOut(lua_State* L, int idx, char* p) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
    case LUA_TNUMBER: {
      size_t len = 0;
      lua_pushvalue(L, idx);
      const char* s = lua_tolstring(L, -1, &len);
      std::memcpy(p, s, len);
      lua_pop(L, 1);
      return p + len;
    }
    case LUA_TNIL:
      std::memcpy(p, "nil", 3);
      return p + 3;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) {
        std::memcpy(p, "true", 4);
        return p + 4;
      }
      std::memcpy(p, "false", 5);
      return p + 5;
    case LUA_TLIGHTUSERDATA:
      std::memcpy(p, "null", 4);
      return p + 4;
    case LUA_TTABLE: {
      size_t n = lua_objlen(L, idx);
      for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, static_cast<int>(i));
        p = copyOut(L, lua_gettop(L), p);
        lua_pop(L, 1);
      }
      return p;
    }
    default:
      return p;
  }
}

int pushOutputError(lua_State* L, const char* msg) {
  lua_pushnil(L);
  lua_pushstring(L, msg);
  return 2;
}

int print(lua_State* L, bool newline, const char* fname) {
  checkPhase(L, kOutputPhases);
  RequestCtx* ctx = checkRequest(L);
  http::Request& r = *ctx->r;
  if (ctx->eofSent) {
    ctx->log().error(core::Level::kError, 0, "attempt to write to the response after eof");
    return pushOutputError(L, "seen eof");
  }
  // HEAD, 204, 304: the first call sent the header, later ones are refused.
  if (r.headerSent && r.headerOnly) return pushOutputError(L, "header only");
  LUNET_LOG(ctx->log(), core::Level::kDebug, 0, "lua %s response", fname);
  int n = lua_gettop(L);
  size_t size = newline ? 1 : 0;
  for (int i = 1; i <= n; i++) size += measure(L, i, fname, i, 0);
  if (wantsBuffering(ctx)) {
    // lua_http10_buffering: held until the end, for a Content-Length.
    ctx->buffering = true;
    if (size > 0) {
      char* buf = static_cast<char*>(r.arena.alloc(size, 1));
      char* p = buf;
      for (int i = 1; i <= n; i++) p = copyOut(L, i, p);
      if (newline) *p++ = '\n';
      http::Buf* b = http::newBuf(r, {buf, size});
      *ctx->bufferedTail = b;
      ctx->bufferedTail = &b->next;
      ctx->bufferedBytes += static_cast<int64_t>(size);
    }
    lua_pushinteger(L, 1);
    return 1;
  }
  if (!r.headerSent) {
    int rc = sendHeaderOnce(ctx);
    if (rc == http::kError) return pushOutputError(L, "nginx output filter error");
    if (rc == http::kDone || r.headerOnly) {
      lua_pushinteger(L, 1);
      return 1;
    }
  }
  if (size == 0) {
    lua_pushinteger(L, 1);
    return 1;
  }
  char* buf = static_cast<char*>(r.arena.alloc(size, 1));
  char* p = buf;
  for (int i = 1; i <= n; i++) p = copyOut(L, i, p);
  if (newline) *p++ = '\n';
  int rc = http::output(r, http::newBuf(r, {buf, size}));
  if (rc == http::kError) {
    ctx->outputFailed = true;
    return pushOutputError(L, "nginx output filter error");
  }
  lua_pushinteger(L, 1);
  return 1;
}

int say(lua_State* L) { return print(L, true, "say"); }
int ngxPrint(lua_State* L) { return print(L, false, "print"); }

void onDrained(http::Request& r, void*) {
  RequestCtx* ctx = RequestCtx::find(r);
  if (ctx == nullptr || !ctx->waitingFlush) return;
  ctx->waitingFlush = false;
  Scheduler& s = Scheduler::get();
  lua_State* co = s.waiter(&ctx->flushWait);
  if (co == nullptr) return;  // drained before the thread suspended
  lua_pushinteger(co, 1);
  s.resume(&ctx->flushWait, 1);
}

void cancelFlush(Wait* w) noexcept { static_cast<RequestCtx*>(w->data)->waitingFlush = false; }

int flush(lua_State* L) {
  checkPhase(L, kOutputPhases);
  RequestCtx* ctx = checkRequest(L);
  http::Request& r = *ctx->r;
  bool wait = lua_toboolean(L, 1);
  if (ctx->eofSent) return pushOutputError(L, "seen eof");
  if (ctx->buffering) {  // lua_http10_buffering: nothing to flush
    lua_pushinteger(L, 1);
    return 1;
  }
  if (!r.headerSent) {
    int rc = sendHeaderOnce(ctx);
    if (rc == http::kError) return pushOutputError(L, "nginx output filter error");
  }
  http::Buf* b = http::newBuf(r, {});
  b->flush = true;
  if (http::output(r, b) == http::kError) return pushOutputError(L, "nginx output filter error");
  Scheduler* s = Scheduler::tryGet();
  // Waits until the socket took everything (queued bufs and writes in
  // flight), as nginx waits for c->buffered; onDrained() reports an
  // already drained request at once.
  if (!wait || s == nullptr || !s->managed(L) || s->currentEntry() != ctx->thread) {
    lua_pushinteger(L, 1);
    return 1;
  }
  ctx->waitingFlush = true;
  http::onDrained(r, onDrained, nullptr);
  if (!ctx->waitingFlush) {  // drained synchronously
    lua_pushinteger(L, 1);
    return 1;
  }
  ctx->flushWait.cancel = cancelFlush;
  ctx->flushWait.data = ctx;
  return s->suspend(L, &ctx->flushWait);
}

int eof(lua_State* L) {
  checkPhase(L, kOutputPhases);
  RequestCtx* ctx = checkRequest(L);
  if (ctx->eofSent) return pushOutputError(L, "seen eof");
  LUNET_LOG(ctx->log(), core::Level::kDebug, 0, "lua send eof");
  int rc = finishOutput(ctx);
  if (rc == http::kError) return pushOutputError(L, "nginx output filter error");
  lua_pushinteger(L, 1);
  return 1;
}

int sendHeaders(lua_State* L) {
  checkPhase(L, kOutputPhases);
  RequestCtx* ctx = checkRequest(L);
  http::Request& r = *ctx->r;
  if (ctx->buffering) {
    if (flushBuffered(ctx, false) == http::kError) {
      return pushOutputError(L, "nginx output filter error");
    }
  } else if (!r.headerSent && sendHeaderOnce(ctx) == http::kError) {
    return pushOutputError(L, "nginx output filter error");
  }
  lua_pushinteger(L, 1);
  return 1;
}

// Ends the current entry thread (shared by exit/redirect/exec).
int exitThread(lua_State* L) {
  Scheduler* s = Scheduler::tryGet();
  if (s == nullptr || !s->managed(L)) {
    return luaL_error(L, "attempt to exit from a coroutine not managed by the Lua runtime");
  }
  return s->exit(L);
}

constexpr uint32_t kExitPhases =
    kRewrite | kAccess | kContent | kHeaderFilter | kTimer | kBalancer | kSet;

// ngx.exit refuses these (as lua-nginx-module).
const char* exitCodeError(int code) noexcept {
  if (code == http::kAgain || code == http::kDone) {
    return "bad argument to 'ngx.exit': does not accept NGX_AGAIN or NGX_DONE";
  }
  return nullptr;
}

// The bookkeeping of ngx.exit(code) before the thread ends, shared by the
// lua_CFunction and lunet_ffi_exit. ctx is null in timers.
void recordExit(RequestCtx* ctx, int code) noexcept {
  if (ctx == nullptr) return;
  LUNET_LOG(ctx->log(), core::Level::kDebug, 0, "lua exit with code %d", code);
  ctx->exited = true;
  ctx->exitCode = code;
  http::Request& r = *ctx->r;
  // (a header filter runs before the header goes out)
  if (code >= 200 && r.headerSent && code != r.headersOut.status && code != 444 && code != 408 &&
      code != 499 && current().phase != kHeaderFilter) {
    ctx->log().error(core::Level::kError, 0,
                     "attempt to set status %d via ngx.exit after sending out the response "
                     "status %d",
                     code, r.headersOut.status);
  }
}

// Ends the entry thread after lunet_ffi_exit said so (lua/resty/core/exit.lua).
int exitYield(lua_State* L) { return exitThread(L); }

int redirect(lua_State* L) {
  checkPhase(L, kOutputPhases);
  RequestCtx* ctx = checkRequest(L);
  size_t len = 0;
  const char* uri = luaL_checklstring(L, 1, &len);
  lua_Integer status = luaL_optinteger(L, 2, 302);
  if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
    return luaL_error(L,
                      "only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, "
                      "ngx.HTTP_PERMANENT_REDIRECT, ngx.HTTP_SEE_OTHER, and "
                      "ngx.HTTP_TEMPORARY_REDIRECT are allowed");
  }
  http::Request& r = *ctx->r;
  if (r.headerSent)
    return luaL_error(L, "attempt to call ngx.redirect after sending out the headers");
  // Response splitting: control bytes (but TAB) and DEL are refused.
  for (size_t i = 0; i < len; i++) {
    auto c = static_cast<unsigned char>(uri[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (size_t j = 0; j < len; j++) {
        auto d = static_cast<unsigned char>(uri[j]);
        if (d < 0x20 || d >= 0x7f || d == '"' || d == '\\') {
          char hex[5];
          std::snprintf(hex, sizeof(hex), "\\x%02X", d);
          luaL_addlstring(&b, hex, 4);
        } else {
          luaL_addchar(&b, static_cast<char>(d));
        }
      }
      luaL_pushresult(&b);
      char byte[8];
      std::snprintf(byte, sizeof(byte), "0x%02x", c);
      return luaL_error(L, "unsafe byte \"%s\" in redirect uri \"%s\"", byte, lua_tostring(L, -1));
    }
  }
  // A plain header, as lua-nginx-module sets it: a uri without a host is
  // sent as given.
  r.headersOut.list.remove("Location");
  r.headersOut.location = {};
  r.headersOut.list.add(r.arena, "Location", r.arena.dup({uri, len}));
  ctx->exited = true;
  ctx->exitCode = static_cast<int>(status);
  return exitThread(L);
}

int exec(lua_State* L) {
  checkPhase(L, kOutputPhases);
  RequestCtx* ctx = checkRequest(L);
  int nargs = lua_gettop(L);
  if (nargs != 1 && nargs != 2) {
    return luaL_error(L, "expecting one or two arguments, but got %d", nargs);
  }
  size_t ulen = 0;
  const char* uri = luaL_checklstring(L, 1, &ulen);
  if (ulen == 0) return luaL_error(L, "The uri argument is empty");
  http::Request& r = *ctx->r;
  std::string_view u(uri, ulen), a;
  switch (lua_type(L, 2)) {
    case LUA_TNONE:
    case LUA_TNIL:
      break;
    case LUA_TSTRING:
    case LUA_TNUMBER: {
      size_t alen = 0;
      const char* s = lua_tolstring(L, 2, &alen);
      a = {s, alen};
      break;
    }
    case LUA_TTABLE: {
      encodeArgs(L, 2);
      size_t alen = 0;
      const char* s = lua_tolstring(L, -1, &alen);
      a = {s, alen};
      break;
    }
    default:
      lua_pushfstring(L, "string, number, or table expected, but got %s", luaL_typename(L, 2));
      return luaL_argerror(L, 2, lua_tostring(L, -1));
  }
  size_t q = u.find('?');
  if (q != std::string_view::npos) {
    if (a.empty()) a = u.substr(q + 1);
    u = u.substr(0, q);
  }
  if (r.headerSent) {
    return luaL_error(L, "attempt to call ngx.exec after sending out response headers");
  }
  ctx->exec = true;
  ctx->execUri = r.arena.dup(u);
  ctx->execArgs = r.arena.dup(a);
  ctx->exited = true;
  return exitThread(L);
}

}  // namespace

// ---- FFI (lua/resty/core/exit.lua) ----

// kFfiOk: the caller must now end the thread (registry.lunet_exit_yield);
// kFfiError with *err: not allowed here.
extern "C" int lunet_ffi_exit(void* r, int status, const char** err) noexcept {
  RequestCtx* ctx = nullptr;
  if (r != fakeRequest()) {
    int rc = ffiCheck(kExitPhases, &ctx, err);
    if (rc != kFfiOk) return kFfiError;
  } else if ((current().phase & kExitPhases) == 0) {
    RequestCtx* none = nullptr;
    ffiCheck(kExitPhases, &none, err);
    return kFfiError;
  }
  if (const char* e = exitCodeError(status)) {
    *err = e;
    return kFfiError;
  }
  recordExit(ctx, status);
  return kFfiOk;
}

void injectOutputApi(lua_State* L) {
  lua_pushcfunction(L, exitYield);
  lua_setfield(L, LUA_REGISTRYINDEX, "lunet_exit_yield");
  const luaL_Reg fns[] = {{"say", say},
                          {"print", ngxPrint},
                          {"flush", flush},
                          {"eof", eof},
                          {"redirect", redirect},
                          {"exec", exec},
                          {"send_headers", sendHeaders},
                          {nullptr, nullptr}};
  for (const luaL_Reg* f = fns; f->name != nullptr; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
}

}  // namespace lunet::lua
