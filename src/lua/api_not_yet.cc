// Placeholders for the parts of the ngx API that later issues bring
// (light threads, ngx.req.socket, request body files). Calling one
// raises a clear error instead of silently doing nothing. A family that is
// implemented injects its table first; these stubs only fill what is absent.
#include <string>

#include "lua/api.h"

namespace lunet::lua {

namespace {

int stub(lua_State* L) { return notYet(L, lua_tostring(L, lua_upvalueindex(1))); }

void setStub(lua_State* L, const char* field, const char* fullName) {
  lua_getfield(L, -1, field);
  bool present = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (present) return;
  lua_pushstring(L, fullName);
  lua_pushcclosure(L, stub, 1);
  lua_setfield(L, -2, field);
}

// Ensures ngx[name] is a table (pushed) and fills stubs into it.
void stubTable(lua_State* L, const char* name, const char* const* fields) {
  lua_getfield(L, -1, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, name);
  }
  for (const char* const* f = fields; *f != nullptr; f++) {
    std::string full = std::string("ngx.") + name + "." + *f;
    setStub(L, *f, full.c_str());
  }
  lua_pop(L, 1);
}

}  // namespace

int notYet(lua_State* L, const char* name) {
  return luaL_error(L, "%s is not yet implemented in Lunet", name);
}

void injectNotYetApi(lua_State* L) {
  static const char* const kThread[] = {"spawn", "wait", "kill", nullptr};
  static const char* const kReq[] = {"socket",        "init_body",     "append_body",
                                     "finish_body",   "get_body_file", "set_body_data",
                                     "set_body_file", nullptr};
  stubTable(L, "thread", kThread);
  stubTable(L, "req", kReq);
  setStub(L, "run_worker_thread", "ngx.run_worker_thread");
}

}  // namespace lunet::lua
