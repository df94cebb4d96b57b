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

class RequestCtx final : public Owner {
 public:
  // The ctx of r, created on first use (registers the cleanup).
  static RequestCtx* of(http::Request& r) noexcept;
  static RequestCtx* find(http::Request& r) noexcept;

  explicit RequestCtx(http::Request& r) noexcept : r(&r) {}

  http::Request* r;
  EntryThread* thread = nullptr;  // thread of the current rewrite/access/content
  uint32_t phase = 0;

  // lua_code_cache off: the request's own globals table (see freshEnv()).
  int envRef = LUA_NOREF;

  // ngx.on_abort (api_on_abort.cc).
  bool abortWatched = false;           // lua_check_client_abort watch started
  int onAbortRef = LUA_NOREF;          // the callback
  uint32_t onAbortPhase = 0;           // phase it was registered in
  EntryThread* abortThread = nullptr;  // the callback's thread while it runs

  // ngx.exit / ngx.exec / ngx.redirect outcome of the current thread.
  bool exited = false;
  int exitCode = 0;
  bool exec = false;
  std::string_view execUri, execArgs;
  bool uriJump = false;  // ngx.req.set_uri(uri, true)

  bool eofSent = false;
  bool mimeSet = false;  // Content-Type set or cleared from Lua: no default_type
  // lua_http10_buffering: an HTTP/1.0 response without Content-Length is
  // held here (header not sent) until the end, to send a Content-Length.
  bool buffering = false;
  http::Buf* buffered = nullptr;
  http::Buf** bufferedTail = &buffered;
  int64_t bufferedBytes = 0;
  bool filterFailed = false;
  bool outputFailed = false;  // the filter chain returned an error     // a Lua header/body filter
                              // raised: pass through
  bool waitingBody = false;   // ngx.req.read_body() suspended
  bool waitingNeedBody = false;  // lua_need_request_body before content
  bool waitingFlush = false;

  // set_by_lua arguments / body_filter ngx.arg[1], ngx.arg[2].
  const std::string_view* setArgs = nullptr;
  int nsetArgs = 0;
  std::string_view bodyChunk;
  bool bodyEof = false;
  bool bodyChunkChanged = false;

  const core::Log& log() const noexcept override { return r->log; }

  // Owner
  bool alive() const noexcept override { return !http::requestFreed(*r); }
  void hold() noexcept override;
  void unhold() noexcept override;
  RequestCtx* request() noexcept override { return this; }
  uint32_t ownerPhase() const noexcept override { return phase; }

  // The waits of ngx.flush(true) and ngx.req.read_body(): one per request,
  // so two requests waiting at once never share one.
  Wait flushWait;
  Wait bodyWait;

  // Saved ngx.exit state around a nested filter thread.
  struct ExitState {
    bool exited, exec, uriJump;
    int exitCode;
  };
  ExitState saveExit() const { return {exited, exec, uriJump, exitCode}; }
  void restoreExit(const ExitState& s) {
    exited = s.exited;
    exec = s.exec;
    uriJump = s.uriJump;
    exitCode = s.exitCode;
  }
  void clearExit() {
    exited = exec = uriJump = false;
    exitCode = 0;
  }
};

// ---- Helpers shared by the phase entries (request_ctx.cc) ----

struct LuaHandler;

// Starts handler `h` in a new entry thread of `ctx` for `phase`. A load
// error or a runtime error is logged here. On kSuspended the thread stays in
// ctx->thread (when keep is true) and onFinish runs when it ends.
RunStatus runRequestHandler(RequestCtx* ctx, uint32_t phase, LuaHandler& h, bool codeCache,
                            void (*onFinish)(EntryThread*, RunStatus) noexcept, EntryThread** out,
                            int nargs = 0);
// A Lua handler entry (phase handler, filter, resumed thread) holds its
// request (http::holdRequest) so that a connection closed by something it
// calls — a write error under ngx.say, a nested finalize — never destroys
// the request under it. unholdHandlerRequest returns false when the
// request was closed meanwhile; its destruction then waits for the end of
// the current libuv callback (Scheduler::defer), so the callers up the
// stack may still look at it, but must not use its connection.
void holdHandlerRequest(http::Request& r) noexcept;
bool unholdHandlerRequest(http::Request& r) noexcept;

// Releases ctx->thread.
void releaseThread(RequestCtx* ctx) noexcept;
// Starts the client-abort watch of ctx's request if lua_check_client_abort
// is on (api_on_abort.cc).
void startAbortWatch(RequestCtx* ctx) noexcept;
// Sends the response header unless already sent, applying default_type
// first (lua_use_default_type). Returns an http rc.
int sendHeaderOnce(RequestCtx* ctx) noexcept;
// Sends the header (if not yet) and the last buf (if not yet). Returns an
// http rc for finalize().
int finishOutput(RequestCtx* ctx) noexcept;
// lua_http10_buffering: true if output of ctx's request is to be held now
// (HTTP/1.0 main request, header not sent, no Content-Length set, not HEAD).
bool wantsBuffering(RequestCtx* ctx) noexcept;
// Ends the buffering: sends the header (with the buffered size as
// Content-Length if `setLength` and none was set) and the held output.
int flushBuffered(RequestCtx* ctx, bool setLength) noexcept;
// Translates the end of a rewrite/access/content thread into the result
// the phase engine expects. `content`: result goes to finalize().
int threadResult(RequestCtx* ctx, RunStatus s, bool content) noexcept;

}  // namespace lunet::lua
