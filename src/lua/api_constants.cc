// ngx.OK & co, ngx.HTTP_*, log levels, ngx.null and ngx.config.
#include <lunet/version.h>

#include "lua/api.h"
#include "lua/vm.h"

namespace lunet::lua {

namespace {

struct IntConst {
  const char* name;
  int value;
};

const IntConst kConsts[] = {
    {"OK", 0},
    {"ERROR", -1},
    {"AGAIN", -2},
    {"DONE", -4},
    {"DECLINED", -5},
    // log levels
    {"STDERR", 0},
    {"EMERG", 1},
    {"ALERT", 2},
    {"CRIT", 3},
    {"ERR", 4},
    {"WARN", 5},
    {"NOTICE", 6},
    {"INFO", 7},
    {"DEBUG", 8},
    // methods (subrequest bits)
    {"HTTP_GET", 2},
    {"HTTP_HEAD", 4},
    {"HTTP_POST", 8},
    {"HTTP_PUT", 16},
    {"HTTP_DELETE", 32},
    {"HTTP_MKCOL", 64},
    {"HTTP_COPY", 128},
    {"HTTP_MOVE", 256},
    {"HTTP_OPTIONS", 512},
    {"HTTP_PROPFIND", 1024},
    {"HTTP_PROPPATCH", 2048},
    {"HTTP_LOCK", 4096},
    {"HTTP_UNLOCK", 8192},
    {"HTTP_PATCH", 16384},
    {"HTTP_TRACE", 32768},
    // status codes
    {"HTTP_CONTINUE", 100},
    {"HTTP_SWITCHING_PROTOCOLS", 101},
    {"HTTP_OK", 200},
    {"HTTP_CREATED", 201},
    {"HTTP_ACCEPTED", 202},
    {"HTTP_NO_CONTENT", 204},
    {"HTTP_PARTIAL_CONTENT", 206},
    {"HTTP_SPECIAL_RESPONSE", 300},
    {"HTTP_MOVED_PERMANENTLY", 301},
    {"HTTP_MOVED_TEMPORARILY", 302},
    {"HTTP_SEE_OTHER", 303},
    {"HTTP_NOT_MODIFIED", 304},
    {"HTTP_TEMPORARY_REDIRECT", 307},
    {"HTTP_PERMANENT_REDIRECT", 308},
    {"HTTP_BAD_REQUEST", 400},
    {"HTTP_UNAUTHORIZED", 401},
    {"HTTP_PAYMENT_REQUIRED", 402},
    {"HTTP_FORBIDDEN", 403},
    {"HTTP_NOT_FOUND", 404},
    {"HTTP_NOT_ALLOWED", 405},
    {"HTTP_NOT_ACCEPTABLE", 406},
    {"HTTP_REQUEST_TIMEOUT", 408},
    {"HTTP_CONFLICT", 409},
    {"HTTP_GONE", 410},
    {"HTTP_UPGRADE_REQUIRED", 426},
    {"HTTP_TOO_MANY_REQUESTS", 429},
    {"HTTP_CLOSE", 444},
    {"HTTP_ILLEGAL", 451},
    {"HTTP_INTERNAL_SERVER_ERROR", 500},
    {"HTTP_METHOD_NOT_IMPLEMENTED", 501},
    {"HTTP_NOT_IMPLEMENTED", 501},
    {"HTTP_BAD_GATEWAY", 502},
    {"HTTP_SERVICE_UNAVAILABLE", 503},
    {"HTTP_GATEWAY_TIMEOUT", 504},
    {"HTTP_VERSION_NOT_SUPPORTED", 505},
    {"HTTP_INSUFFICIENT_STORAGE", 507},
};

int configPrefix(lua_State* L) {
  Vm* vm = currentVm();
  if (vm == nullptr) {
    lua_pushliteral(L, "");
  } else {
    lua_pushlstring(L, vm->prefix().data(), vm->prefix().size());
  }
  return 1;
}

int configConfigure(lua_State* L) {
  lua_pushliteral(L, "");
  return 1;
}

}  // namespace

void injectConstantsApi(lua_State* L) {
  for (const IntConst& c : kConsts) {
    lua_pushinteger(L, c.value);
    lua_setfield(L, -2, c.name);
  }
  lua_pushlightuserdata(L, nullptr);
  lua_setfield(L, -2, "null");

  lua_createtable(L, 0, 8);
  lua_pushliteral(L, "http");
  lua_setfield(L, -2, "subsystem");
#ifdef LUNET_DEBUG
  lua_pushboolean(L, 1);
#else
  lua_pushboolean(L, 0);
#endif
  lua_setfield(L, -2, "debug");
  lua_pushcfunction(L, configPrefix);
  lua_setfield(L, -2, "prefix");
  lua_pushcfunction(L, configConfigure);
  lua_setfield(L, -2, "nginx_configure");
  lua_pushinteger(L, LUNET_NGINX_VERSION_NUM);
  lua_setfield(L, -2, "nginx_version");
  lua_pushinteger(L, LUNET_NGX_LUA_VERSION_NUM);
  lua_setfield(L, -2, "ngx_lua_version");
  lua_pushliteral(L, LUNET_VERSION);
  lua_setfield(L, -2, "lunet_version");
  lua_setfield(L, -2, "config");
}

}  // namespace lunet::lua
