// ngx.timer.* (at, every, pending_count, running_count, cancel) and the
// require "lunet.timer" extension (every with name/overlap/jitter, stats).
// The store itself is timer.cc.
#include "lua/api.h"
#include "lua/context.h"
#include "lua/timer.h"

namespace lunet::lua {

namespace {

// lua-nginx-module: no fake request in init_by_lua (nor outside any phase).
bool noRequest() {
  uint32_t p = current().phase;
  return p == kInit || p == kNone || TimerStore::tryGet() == nullptr;
}

int helper(lua_State* L, bool every) {
  int n = lua_gettop(L);
  if (n < 2) return luaL_error(L, "expecting at least 2 arguments but got %d", n);
  lua_Number delay = luaL_checknumber(L, 1);
  if (every && delay == 0) return luaL_error(L, "delay cannot be zero");
  if (!lua_isfunction(L, 2) || lua_iscfunction(L, 2)) {
    return luaL_argerror(L, 2, "Lua function expected");
  }
  if (noRequest()) return luaL_error(L, "no request");
  return TimerStore::get().create(L, delay, every, 2, n - 2, nullptr);
}

int at(lua_State* L) { return helper(L, false); }
int every(lua_State* L) { return helper(L, true); }

int pendingCount(lua_State* L) {
  if (noRequest()) return luaL_error(L, "no request");
  lua_pushinteger(L, static_cast<lua_Integer>(TimerStore::get().pendingCount()));
  return 1;
}

int runningCount(lua_State* L) {
  if (noRequest()) return luaL_error(L, "no request");
  lua_pushinteger(L, static_cast<lua_Integer>(TimerStore::get().runningCount()));
  return 1;
}

int cancel(lua_State* L) {
  lua_Number h = luaL_checknumber(L, 1);
  if (noRequest()) return luaL_error(L, "no request");
  if (TimerStore::get().cancel(h)) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushnil(L);
  lua_pushliteral(L, "not found");
  return 2;
}

// lunet.timer.every(interval, fn, opts)
int jobEvery(lua_State* L) {
  lua_Number interval = luaL_checknumber(L, 1);
  if (!(interval > 0)) return luaL_argerror(L, 1, "interval must be > 0");
  if (!lua_isfunction(L, 2) || lua_iscfunction(L, 2)) {
    return luaL_argerror(L, 2, "Lua function expected");
  }
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  size_t nameLen = 0;
  const char* name = nullptr;
  bool overlap = true;
  double jitter = 0;
  if (lua_istable(L, 3)) {
    lua_getfield(L, 3, "name");
    if (!lua_isnil(L, -1)) {
      if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "opts.name must be a string");
      name = lua_tolstring(L, -1, &nameLen);
    }
    lua_getfield(L, 3, "overlap");
    if (!lua_isnil(L, -1)) overlap = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, 3, "jitter");
    if (!lua_isnil(L, -1)) {
      if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) < 0) {
        return luaL_error(L, "opts.jitter must be a number >= 0");
      }
      jitter = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    lua_getfield(L, 3, "once_per_node");
    bool once = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (once) {
      // The callback becomes the lease wrapper (lua/lunet/timer_lease.lua).
      if (name == nullptr) return luaL_error(L, "opts.once_per_node needs opts.name");
      lua_getfield(L, 3, "dict");
      if (lua_type(L, -1) != LUA_TSTRING) {
        return luaL_error(L, "opts.once_per_node needs opts.dict (a lua_shared_dict name)");
      }
      int dict = lua_gettop(L);
      lua_getglobal(L, "require");
      lua_pushliteral(L, "lunet.timer_lease");
      lua_call(L, 1, 1);
      lua_getfield(L, -1, "wrap");
      lua_pushvalue(L, 2);
      lua_pushnumber(L, interval);
      lua_pushlstring(L, name, nameLen);
      lua_pushvalue(L, dict);
      lua_call(L, 4, 1);
      lua_replace(L, 2);
      lua_pop(L, 2);  // the module, the dict name
    }
    // the name stays on the stack (index 4) while it is used below
  }
  if (noRequest()) return luaL_error(L, "no request");
  // No C++ object with a destructor may live where a Lua error can be
  // raised: the options are built only now, after every check.
  int rc;
  {
    TimerStore::JobOptions opts;
    if (name != nullptr) opts.name.assign(name, nameLen);
    opts.overlap = overlap;
    opts.jitter = jitter;
    rc = TimerStore::get().create(L, interval, true, 2, 0, &opts);
  }
  return rc;
}

int jobStats(lua_State* L) {
  if (noRequest()) return luaL_error(L, "no request");
  TimerStore::get().pushStats(L);
  return 1;
}

int openLunetTimer(lua_State* L) {
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, jobEvery);
  lua_setfield(L, -2, "every");
  lua_pushcfunction(L, jobStats);
  lua_setfield(L, -2, "stats");
  lua_pushcfunction(L, cancel);
  lua_setfield(L, -2, "cancel");
  return 1;
}

}  // namespace

void injectTimerApi(lua_State* L) {
  lua_createtable(L, 0, 5);
  const luaL_Reg fns[] = {{"at", at},
                          {"every", every},
                          {"pending_count", pendingCount},
                          {"running_count", runningCount},
                          {"cancel", cancel},
                          {nullptr, nullptr}};
  for (const luaL_Reg* f = fns; f->name != nullptr; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  lua_setfield(L, -2, "timer");

  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, openLunetTimer);
  lua_setfield(L, -2, "lunet.timer");
  lua_pop(L, 2);
}

}  // namespace lunet::lua
