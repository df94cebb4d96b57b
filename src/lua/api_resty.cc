// require "lunet.resty.c": the C side of lua/lunet/resty.lua, the runner of
// the `resty` command (see src/resty/resty.cc). Registered only in a process
// started as `resty`.
#include <memory>

#include "lua/api.h"
#include "lua/resty.h"

namespace lunet::lua {

namespace {

std::unique_ptr<RestyParams> gParams;

void pushStrings(lua_State* L, const std::vector<std::string>& v) {
  lua_createtable(L, static_cast<int>(v.size()), 0);
  for (size_t i = 0; i < v.size(); i++) {
    lua_pushlstring(L, v[i].data(), v[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

// params() -> { code?, file?, args, pre, program, libs, jit? }
int params(lua_State* L) {
  const RestyParams& p = *gParams;
  lua_createtable(L, 0, 8);
  if (p.hasCode) {
    lua_pushlstring(L, p.code.data(), p.code.size());
    lua_setfield(L, -2, "code");
  }
  if (!p.file.empty()) {
    lua_pushlstring(L, p.file.data(), p.file.size());
    lua_setfield(L, -2, "file");
  }
  pushStrings(L, p.args);
  lua_setfield(L, -2, "args");
  pushStrings(L, p.pre);
  lua_setfield(L, -2, "pre");
  lua_pushlstring(L, p.program.data(), p.program.size());
  lua_setfield(L, -2, "program");
  pushStrings(L, p.libs);
  lua_setfield(L, -2, "libs");
  if (!p.jit.empty()) {
    lua_pushlstring(L, p.jit.data(), p.jit.size());
    lua_setfield(L, -2, "jit");
  }
  return 1;
}

// exit(code): os.exit of a resty script (stdio flushed, no atexit work).
int exitNow(lua_State* L) {
  int code = 0;
  if (lua_isboolean(L, 1)) {
    code = lua_toboolean(L, 1) ? 0 : 1;
  } else if (!lua_isnoneornil(L, 1)) {
    code = static_cast<int>(luaL_checkinteger(L, 1));
  }
  gParams->exitNow(code);
  return 0;
}

// done(): the script returned; the server quits gracefully.
int done(lua_State*) {
  gParams->done();
  return 0;
}

int openRestyC(lua_State* L) {
  const luaL_Reg fns[] = {
      {"params", params}, {"exit", exitNow}, {"done", done}, {nullptr, nullptr}};
  lua_createtable(L, 0, 3);
  for (const luaL_Reg* f = fns; f->name != nullptr; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  return 1;
}

}  // namespace

void setRestyParams(RestyParams p) { gParams = std::make_unique<RestyParams>(std::move(p)); }

void injectRestyApi(lua_State* L) {
  if (!gParams) return;
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, openRestyC);
  lua_setfield(L, -2, "lunet.resty.c");
  lua_pop(L, 2);
}

}  // namespace lunet::lua
