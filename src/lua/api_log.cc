// ngx.log(level, ...) and print(...): "[lua] FILE:LINE: FUNC(): message".
#include "core/log.h"
#include "lua/api.h"
#include "lua/context.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

const core::Log& currentLog() {
  if (Owner* o = current().owner; o != nullptr) return o->log();
  RequestCtx* rc = current().req;
  return rc != nullptr ? rc->log() : core::processLog();
}

// Replaces argument i with its string form; false if not printable.
bool toPrintable(lua_State* L, int i) {
  switch (lua_type(L, i)) {
    case LUA_TSTRING:
      return true;
    case LUA_TNUMBER:
      lua_pushvalue(L, i);
      lua_tostring(L, -1);
      lua_replace(L, i);
      return true;
    case LUA_TNIL:
      lua_pushliteral(L, "nil");
      lua_replace(L, i);
      return true;
    case LUA_TBOOLEAN:
      lua_pushstring(L, lua_toboolean(L, i) ? "true" : "false");
      lua_replace(L, i);
      return true;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, i) == nullptr) {
        lua_pushliteral(L, "null");
        lua_replace(L, i);
        return true;
      }
      return false;
    case LUA_TTABLE:
      if (luaL_callmeta(L, i, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
        lua_replace(L, i);
        return true;
      }
      return false;
    default:
      return false;
  }
}

int logArgs(lua_State* L, int level, int first) {
  const core::Log& log = currentLog();
  if (!log.enabled(static_cast<core::Level>(level))) return 0;
  int n = lua_gettop(L);
  for (int i = first; i <= n; i++) {
    if (!toPrintable(L, i)) {
      // Numbered among the message arguments, as lua-nginx-module does; the
      // function name comes from the call ('?' through pcall).
      return luaL_argerror(L, i - first + 1, "expected table to have __tostring metamethod");
    }
  }
  lua_Debug ar;
  const char* src = "?";
  int line = 0;
  const char* name = nullptr;
  if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Snl", &ar)) {
    // lua-nginx-module prints what follows the last '/' of short_src (the
    // base name of a file; also cuts "content_by_lua(../x.conf:2)").
    src = ar.short_src;
    for (const char* p = ar.short_src; *p != '\0'; p++) {
      if (*p == '/') src = p + 1;
    }
    line = ar.currentline;
    name = ar.name;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (name != nullptr) {
    lua_pushfstring(L, "[lua] %s:%d: %s(): ", src, line, name);
  } else {
    lua_pushfstring(L, "[lua] %s:%d: ", src, line);
  }
  luaL_addvalue(&b);
  for (int i = first; i <= n; i++) {
    lua_pushvalue(L, i);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  size_t len = 0;
  const char* msg = lua_tolstring(L, -1, &len);
  // Written as is: a NUL byte in the message is kept.
  log.message(static_cast<core::Level>(level), {msg, len});
  return 0;
}

int ngxLog(lua_State* L) {
  lua_Integer level = luaL_checkinteger(L, 1);
  if (level < 0 || level > 8) {
    lua_pushfstring(L, "bad log level: %d", static_cast<int>(level));
    return luaL_argerror(L, 1, lua_tostring(L, -1));
  }
  return logArgs(L, static_cast<int>(level), 2);
}

int print(lua_State* L) { return logArgs(L, 6 /* NOTICE */, 1); }

}  // namespace

// ---- FFI (lua/ngx/errlog.lua) ----

// ngx.errlog.raw_log(level, msg): msg as is, without the "[lua] FILE:LINE:"
// prefix; r (resty.core.base.get_request) may be null. kFfiError: bad level.
extern "C" int lunet_ffi_raw_log(void* r, int level, const char* s, size_t len) noexcept {
  if (level < 0 || level > 8) return kFfiError;
  RequestCtx* ctx = r != nullptr ? ffiRequest(r) : nullptr;
  Owner* o = current().owner;
  const core::Log& log = ctx != nullptr ? ctx->log() : o != nullptr ? o->log() : core::processLog();
  auto l = static_cast<core::Level>(level);
  if (log.enabled(l)) log.error(l, 0, "%.*s", static_cast<int>(len), s);
  return kFfiOk;
}

void injectLogApi(lua_State* L) {
  lua_pushcfunction(L, ngxLog);
  lua_setfield(L, -2, "log");
  lua_pushcfunction(L, print);
  lua_setglobal(L, "print");
}

}  // namespace lunet::lua
