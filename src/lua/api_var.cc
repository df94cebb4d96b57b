// ngx.var.NAME (read any variable, write `set`-able ones) and ngx.var[N]
// (regex captures).
#include <cstring>
#include <string>

#include "http/variables.h"
#include "lua/api.h"
#include "lua/context.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

// Lowercases into the arena when needed (variable names are
// case-insensitive in nginx).
std::string_view lowerName(http::Request& r, const char* k, size_t len) {
  bool upper = false;
  for (size_t i = 0; i < len; i++) upper = upper || (k[i] >= 'A' && k[i] <= 'Z');
  if (!upper) return {k, len};
  char* p = static_cast<char*>(r.arena.alloc(len, 1));
  for (size_t i = 0; i < len; i++) p[i] = (k[i] >= 'A' && k[i] <= 'Z') ? k[i] + 32 : k[i];
  return {p, len};
}

// lua-nginx-module's wording for a variable that cannot be written.
const char* varSetError(http::Request& r, std::string_view name, http::SetVarResult res) {
  std::string msg = "variable \"";
  msg.append(name);
  if (res == http::SetVarResult::kNotChangeable) {
    msg += "\" not changeable";
  } else {
    msg +=
        "\" not found for writing; maybe it is a built-in variable that is not changeable or "
        "you forgot to use \"set $";
    msg.append(name);
    msg += " '';\" in the config file to define it first";
  }
  return r.arena.dup(msg, true).data();
}

// ngx.var[key] with a key that is neither a string nor a number.
bool badName(lua_State* L) {
  int t = lua_type(L, 2);
  return t != LUA_TSTRING && t != LUA_TNUMBER;
}

int varIndex(lua_State* L) {
  checkPhase(L, kRequestPhases);
  RequestCtx* ctx = checkRequest(L);
  http::Request& r = *ctx->r;
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_Integer n = lua_tointeger(L, 2);
    if (n < 0 || r.captures == nullptr || n >= r.ncaptures) return 0;
    int from = r.captures[2 * n], to = r.captures[2 * n + 1];
    if (from < 0 || to < from) return 0;
    lua_pushlstring(L, r.captureSubject.data() + from, static_cast<size_t>(to - from));
    return 1;
  }
  if (badName(L)) return luaL_error(L, "bad variable name");
  size_t len = 0;
  const char* k = luaL_checklstring(L, 2, &len);
  http::VarValue v = http::getVariable(r, lowerName(r, k, len));
  if (v.notFound) return 0;
  lua_pushlstring(L, v.data.data(), v.data.size());
  return 1;
}

int varNewIndex(lua_State* L) {
  checkPhase(L, kRequestPhases);
  RequestCtx* ctx = checkRequest(L);
  http::Request& r = *ctx->r;
  if (badName(L)) return luaL_error(L, "bad variable name");
  size_t len = 0;
  const char* k = luaL_checklstring(L, 2, &len);
  std::string_view value;
  switch (lua_type(L, 3)) {
    case LUA_TNIL:
      break;
    case LUA_TSTRING:
    case LUA_TNUMBER: {
      size_t vl = 0;
      const char* v = lua_tolstring(L, 3, &vl);
      value = r.arena.dup({v, vl});
      break;
    }
    default:
      return luaL_error(L, "bad variable value type: %s", luaL_typename(L, 3));
  }
  std::string_view name = lowerName(r, k, len);
  http::SetVarResult res = http::trySetVariable(r, name, value);
  if (res != http::SetVarResult::kOk) return luaL_error(L, "%s", varSetError(r, {k, len}, res));
  return 0;
}

}  // namespace

// ---- FFI (lua/resty/core/var.lua) ----

// ngx.var.NAME (name != null) or ngx.var[capture]. kFfiDeclined: not found.
extern "C" int lunet_ffi_var_get(void* r, const char* name, size_t len, int capture,
                                 const char** value, size_t* vlen, const char** err) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) {
    *err = "API disabled in the current context";
    return kFfiBadContext;
  }
  http::Request& req = *ctx->r;
  if (name == nullptr) {
    if (capture < 0 || req.captures == nullptr || capture >= req.ncaptures) return kFfiDeclined;
    int from = req.captures[2 * capture], to = req.captures[2 * capture + 1];
    if (from < 0 || to < from) return kFfiDeclined;
    *value = req.captureSubject.data() + from;
    *vlen = static_cast<size_t>(to - from);
    return kFfiOk;
  }
  // (getVariable lowercases the name itself)
  http::VarValue v = http::getVariable(req, {name, len});
  if (v.notFound) return kFfiDeclined;
  *value = v.data.data();
  *vlen = v.data.size();
  return kFfiOk;
}

// value == null: nil.
extern "C" int lunet_ffi_var_set(void* r, const char* name, size_t len, const char* value,
                                 size_t vlen, const char** err) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) {
    *err = "API disabled in the current context";
    return kFfiBadContext;
  }
  http::Request& req = *ctx->r;
  // trySetVariable lowercases the name and copies the value into the arena
  std::string_view v = value == nullptr ? std::string_view() : std::string_view(value, vlen);
  http::SetVarResult res = http::trySetVariable(req, {name, len}, v);
  if (res == http::SetVarResult::kOk) return kFfiOk;
  *err = varSetError(req, {name, len}, res);
  return kFfiError;
}

void injectVarApi(lua_State* L) {
  lua_newtable(L);
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, varIndex);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, varNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "var");
}

}  // namespace lunet::lua
