// The API families injected into the `ngx` table. Each expects the ngx table
// on the top of the stack and leaves the stack as it found it.
#pragma once

#include <lua.hpp>

namespace lunet::lua {

void injectConstantsApi(lua_State* L);  // api_constants.cc: ngx.OK, HTTP_*, null, config
void injectTimeApi(lua_State* L);       // api_time.cc
void injectStringApi(lua_State* L);     // api_string.cc: escape, args, base64, hashes, sql
void injectLogApi(lua_State* L);        // api_log.cc: ngx.log, print
void injectWorkerApi(lua_State* L);     // api_worker.cc: ngx.worker.*, get_phase
void injectSleepApi(lua_State* L);      // api_sleep.cc
void injectRequestApi(lua_State* L);    // api_request.cc: ngx.req.*
void injectOutputApi(lua_State* L);     // api_output.cc: say, print, flush, eof, exit, ...
void injectHeadersApi(lua_State* L);    // api_headers.cc: ngx.header, ngx.resp
void injectVarApi(lua_State* L);        // api_var.cc: ngx.var
void injectCtxApi(lua_State* L);        // api_ctx.cc: ngx.ctx, ngx.status, ngx.arg
void injectNotYetApi(lua_State* L);     // api_not_yet.cc: stubs raising clear errors

// Raises a Lua error "<name>: not yet implemented in Lunet". Never returns.
int notYet(lua_State* L, const char* name);

// Pushes the printable form of argument `idx` as ngx.log/ngx.say do it.
// Returns false (without pushing) for values they reject.
bool appendPrintable(lua_State* L, int idx, struct luaL_Buffer* b, bool forLog);

}  // namespace lunet::lua
