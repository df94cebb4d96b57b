// ngx.now, ngx.time, ngx.update_time, ngx.today, ngx.localtime, ngx.utctime,
// ngx.http_time, ngx.cookie_time, ngx.parse_http_time.
#include <cstdio>
#include <ctime>

#include "core/time.h"
#include "lua/api.h"

namespace lunet::lua {

namespace {

int now(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(core::nowMsec()) / 1000.0);
  return 1;
}

int timeSec(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(core::nowSec()));
  return 1;
}

int updateTime(lua_State*) {
  core::updateTime();
  return 0;
}

int pushTm(lua_State* L, bool utc, bool withTime) noexcept {
  time_t t = core::nowSec();
  struct tm tm;
  if (utc) {
    gmtime_r(&t, &tm);
  } else {
    localtime_r(&t, &tm);
  }
  char buf[32];
  int n;
  if (withTime) {
    n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  } else {
    n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday);
  }
  lua_pushlstring(L, buf, static_cast<size_t>(n));
  return 1;
}

int today(lua_State* L) { return pushTm(L, false, false); }
int localtime(lua_State* L) { return pushTm(L, false, true); }
int utctime(lua_State* L) { return pushTm(L, true, true); }

int httpTime(lua_State* L) {
  auto t = static_cast<time_t>(luaL_checknumber(L, 1));
  char buf[64];
  size_t n = core::formatHttpTime(t, buf);
  lua_pushlstring(L, buf, n);
  return 1;
}

int cookieTime(lua_State* L) {
  auto t = static_cast<time_t>(luaL_checknumber(L, 1));
  char buf[64];
  size_t n = core::formatCookieTime(t, buf);
  lua_pushlstring(L, buf, n);
  return 1;
}

int parseHttpTime(lua_State* L) {
  size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  time_t t = core::parseHttpTime({s, len});
  if (t == -1) {
    lua_pushnil(L);
  } else {
    lua_pushnumber(L, static_cast<lua_Number>(t));
  }
  return 1;
}

}  // namespace

void injectTimeApi(lua_State* L) {
  const luaL_Reg fns[] = {{"now", now},
                          {"time", timeSec},
                          {"update_time", updateTime},
                          {"today", today},
                          {"localtime", localtime},
                          {"utctime", utctime},
                          {"http_time", httpTime},
                          {"cookie_time", cookieTime},
                          {"parse_http_time", parseHttpTime},
                          {nullptr, nullptr}};
  for (const luaL_Reg* f = fns; f->name != nullptr; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
}

}  // namespace lunet::lua
