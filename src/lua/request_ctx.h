// The Lua side of one HTTP request: its ngx.ctx table, the entry thread of
// the phase running now, ngx.exit()/ngx.exec() results and filter arguments.
// Lives in the request's arena; a request cleanup releases what it holds in
// the VM (threads, registry refs).
#pragma once

#include <lua.hpp>
#include <string_view>

#include "http/filter.h"
#include "http/request.h"
#include "lua/scheduler.h"

namespace lunet::lua {

class RequestCtx {
 public:
  // The ctx of r, created on first use (registers the cleanup).
  static RequestCtx* of(http::Request& r) noexcept;
  static RequestCtx* find(http::Request& r) noexcept;

  explicit RequestCtx(http::Request& r) noexcept : r(&r) {}

  http::Request* r;
  EntryThread* thread = nullptr;  // thread of the current rewrite/access/content
  uint32_t phase = 0;

  int ctxRef = LUA_NOREF;  // ngx.ctx

  // ngx.exit / ngx.exec / ngx.redirect outcome of the current thread.
  bool exited = false;
  int exitCode = 0;
  bool exec = false;
  std::string_view execUri, execArgs;
  bool uriJump = false;  // ngx.req.set_uri(uri, true)

  bool eofSent = false;
  bool waitingBody = false;
  bool waitingFlush = false;

  // set_by_lua arguments / body_filter ngx.arg[1], ngx.arg[2].
  http::Request::VarSlot* setArgs = nullptr;
  int nsetArgs = 0;
  std::string_view bodyChunk;
  bool bodyEof = false;
  bool bodyChunkChanged = false;

  const core::Log& log() const { return r->log; }
};

}  // namespace lunet::lua
