// The magic fields of the ngx table: ngx.arg (lua_CFunction), and the FFI
// side of ngx.ctx, ngx.status, ngx.headers_sent, ngx.is_subrequest.
#include <cstring>

#include "core/log.h"
#include "lua/api.h"
#include "lua/context.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

// ngx.ctx outside requests (init_worker, exit_worker, timers): one table per
// run, a ref into the same table as the requests' (see releaseCtxRef).
int gAuxCtxRef = LUA_NOREF;

// ngx.arg through the ngx table's metatable (ngx.ctx, ngx.status,
// ngx.headers_sent and ngx.is_subrequest: lua/resty/core/ctx.lua and misc.lua,
// whose __index falls back to this one, over the FFI below).
int ngxIndex(lua_State* L) {
  size_t len = 0;
  const char* k = lua_tolstring(L, 2, &len);
  if (k == nullptr) return 0;
  std::string_view key(k, len);
  if (key == "arg") {
    lua_rawgeti(L, LUA_REGISTRYINDEX, static_cast<int>(lua_tointeger(L, lua_upvalueindex(1))));
    return 1;
  }
  return 0;
}

int ngxNewIndex(lua_State* L) {
  lua_rawset(L, 1);
  return 0;
}

// ngx.arg[i]
int argIndex(lua_State* L) {
  RequestCtx* ctx = current().req;
  if (current().phase != kSet && current().phase != kBodyFilter) {
    return luaL_error(L, "API disabled in the current context");
  }
  if (ctx == nullptr) return 0;
  lua_Integer i = lua_tointeger(L, 2);
  if (current().phase == kSet) {
    if (i < 1 || i > ctx->nsetArgs) return 0;
    std::string_view v = ctx->setArgs[i - 1];
    lua_pushlstring(L, v.data(), v.size());
    return 1;
  }
  if (current().phase == kBodyFilter) {
    if (i == 1) {
      lua_pushlstring(L, ctx->bodyChunk.data(), ctx->bodyChunk.size());
      return 1;
    }
    if (i == 2) {
      lua_pushboolean(L, ctx->bodyEof);
      return 1;
    }
  }
  return 0;
}

int argLen(lua_State* L) {
  RequestCtx* ctx = current().req;
  int n = 0;
  if (ctx != nullptr && current().phase == kSet) n = ctx->nsetArgs;
  if (ctx != nullptr && current().phase == kBodyFilter) n = 2;
  lua_pushinteger(L, n);
  return 1;
}

int argNewIndex(lua_State* L) {
  if (current().phase != kBodyFilter) return luaL_error(L, "API disabled in the current context");
  RequestCtx* ctx = current().req;
  lua_Integer i = lua_tointeger(L, 2);
  if (i == 2) {
    ctx->bodyEof = lua_toboolean(L, 3);
    return 0;
  }
  if (i != 1) return luaL_error(L, "bad index: %d", static_cast<int>(i));
  size_t len = 0;
  const char* data = nullptr;
  switch (lua_type(L, 3)) {
    case LUA_TNIL:
      data = "";
      break;
    case LUA_TSTRING:
    case LUA_TNUMBER:
      data = lua_tolstring(L, 3, &len);
      break;
    case LUA_TTABLE: {
      // a (nested) array of strings, as ngx.print accepts
      lua_getglobal(L, "table");
      lua_getfield(L, -1, "concat");
      lua_pushvalue(L, 3);
      lua_call(L, 1, 1);
      data = lua_tolstring(L, -1, &len);
      break;
    }
    default:
      return luaL_error(L, "bad chunk data type: %s", luaL_typename(L, 3));
  }
  ctx->bodyChunk = ctx->r->arena.dup({data, len});
  ctx->bodyChunkChanged = true;
  return 0;
}

}  // namespace

void releaseCtxRef(lua_State* L, int* ref) {
  if (*ref >= 0) {
    // lua-resty-core's ref_in_table and luaL_ref share the free list at [0].
    lua_getfield(L, LUA_REGISTRYINDEX, "ngx_lua_ctx_tables");
    if (lua_istable(L, -1)) luaL_unref(L, -1, *ref);
    lua_pop(L, 1);
  }
  *ref = LUA_NOREF;
}

void resetAuxCtx(lua_State* L) { releaseCtxRef(L, &gAuxCtxRef); }

// ---- FFI (lua/resty/core/ctx.lua, lua/resty/core/misc.lua) ----

// The ref of the ngx.ctx table of r in registry.ngx_lua_ctx_tables, < 0 if
// it has none yet.
// The fake request of init_worker/exit_worker/timers: the running owner's
// (a timer run has an ngx.ctx of its own), else the one aux slot.
int* ctxRefSlot(void* r) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx != nullptr) return &ctx->ctxRef;
  if (Owner* o = current().owner; o != nullptr) return &o->ctxRef;
  return &gAuxCtxRef;
}

int* runCtxCtxRef(RequestCtx* req, Owner* owner) noexcept {
  if (req != nullptr) return &req->ctxRef;
  if (owner != nullptr) return &owner->ctxRef;
  return &gAuxCtxRef;
}

extern "C" int lunet_ffi_get_ctx_ref(void* r) noexcept { return *ctxRefSlot(r); }

extern "C" int lunet_ffi_set_ctx_ref(void* r, int ref) noexcept {
  *ctxRefSlot(r) = ref;
  return kFfiOk;
}

extern "C" int lunet_ffi_get_resp_status(void* r) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) return kFfiBadContext;
  const http::Request& req = *ctx->r;
  return req.headersOut.status != 0 ? req.headersOut.status : req.status;
}

extern "C" int lunet_ffi_set_resp_status(void* r, int status) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) return kFfiBadContext;
  http::Request& req = *ctx->r;
  if (req.headerSent && current().phase != kHeaderFilter) {
    ctx->log().error(core::Level::kError, 0,
                     "attempt to set ngx.status after sending out response headers");
    return kFfiOk;
  }
  req.headersOut.status = status;
  req.headersOut.statusLine = {};
  return kFfiOk;
}

extern "C" int lunet_ffi_headers_sent(void* r) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) return kFfiBadContext;
  // nginx marks the header sent after the header filters, Lua's included
  if (current().phase == kHeaderFilter) return 0;
  return ctx->r->headerSent ? 1 : 0;
}

extern "C" int lunet_ffi_is_subrequest(void* r) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) return kFfiBadContext;
  return ctx->r->parent != nullptr ? 1 : 0;
}

void injectCtxApi(lua_State* L) {
  // ngx.arg proxy
  lua_newtable(L);
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, argIndex);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, argNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, argLen);
  lua_setfield(L, -2, "__len");
  lua_setmetatable(L, -2);
  int argRef = luaL_ref(L, LUA_REGISTRYINDEX);

  lua_createtable(L, 0, 2);
  lua_pushinteger(L, argRef);
  lua_pushcclosure(L, ngxIndex, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ngxNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
}

}  // namespace lunet::lua
