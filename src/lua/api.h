// The API families injected into the `ngx` table. Each expects the ngx table
// on the top of the stack and leaves the stack as it found it.
#pragma once

#include <lua.hpp>
#include <string_view>

#include "http/request.h"

namespace lunet::lua {

void injectConstantsApi(lua_State* L);   // api_constants.cc: ngx.OK, HTTP_*, null, config
void injectStringApi(lua_State* L);      // api_string.cc: encode/decode_args, hmac_sha1, sql
void injectLogApi(lua_State* L);         // api_log.cc: ngx.log, print
void injectSleepApi(lua_State* L);       // api_sleep.cc
void injectTimerApi(lua_State* L);       // api_timer.cc: ngx.timer.*, require "lunet.timer"
void injectOnAbortApi(lua_State* L);     // api_on_abort.cc: ngx.on_abort
void injectRequestApi(lua_State* L);     // api_request.cc: ngx.req.* (not FFI)
void injectOutputApi(lua_State* L);      // api_output.cc: say, print, flush, eof, ...
void injectHeadersApi(lua_State* L);     // api_headers.cc: ngx.resp
void injectCtxApi(lua_State* L);         // api_ctx.cc: ngx.arg
void injectShdictApi(lua_State* L);      // api_shdict.cc: ngx.shared, lunet.shdict
void injectSocketTcpApi(lua_State* L);   // api_socket_tcp.cc: ngx.socket.tcp, connect
void injectSocketUdpApi(lua_State* L);   // api_socket_udp.cc: ngx.socket.udp
void injectSubrequestApi(lua_State* L);  // api_subrequest.cc: ngx.location.capture*
void injectNotYetApi(lua_State* L);      // api_not_yet.cc: stubs raising clear errors
void injectRestyApi(lua_State* L);       // api_resty.cc: "lunet.resty.c" (resty command only)
void injectPipeApi(lua_State* L);        // api_pipe.cc: "lunet.pipe.c" under require "ngx.pipe"

// Kills and closes every pipe child left at VM teardown (api_pipe.cc).
void closeAllPipes() noexcept;
// SIGKILLs every live pipe child (async-signal-safe: kill() only; resty's
// Ctrl-C handler).
void killAllPipes() noexcept;

// Registry ref of the metatable that lets header tables be indexed as
// t.Content_Type (api_headers.cc).
int headersNormalizingMeta();
// Pushes a header name, lowercased unless raw.
void pushLowerName(lua_State* L, std::string_view name, bool raw);
// t[key] = value with repeated keys turned into arrays; pops key and value.
void addMulti(lua_State* L, int t);

// ngx.req.set_header(name, values): replaces request header `name` with
// values[0..n) (n == 0: removes it) and re-derives what depends on it
// (Host, Content-Length). Copies name and values into the request's arena
// (api_request.cc).
void setRequestHeader(http::Request& r, std::string_view name, const std::string_view* values,
                      size_t n) noexcept;

// Drops the ngx.ctx table used outside requests (api_ctx.cc).
void resetAuxCtx(lua_State* L);
// Frees an ngx.ctx ref (registry.ngx_lua_ctx_tables) and sets *ref to
// LUA_NOREF.
void releaseCtxRef(lua_State* L, int* ref);

// Raises a Lua error "<name>: not yet implemented in Lunet". Never returns.
int notYet(lua_State* L, const char* name);

// Pushes the printable form of argument `idx` as ngx.log/ngx.say do it.
// Returns false (without pushing) for values they reject.
bool appendPrintable(lua_State* L, int idx, struct luaL_Buffer* b, bool forLog);

}  // namespace lunet::lua
