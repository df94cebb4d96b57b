#include "lua/context.h"

#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {
RunCtx gCurrent;
}  // namespace

namespace detail {
char gFakeRequest;
}  // namespace detail

RunCtx& current() { return gCurrent; }

const char* phaseName(uint32_t phase) {
  switch (phase) {
    case kInit:
      return "init";
    case kInitWorker:
      return "init_worker";
    case kSet:
      return "set";
    case kRewrite:
      return "rewrite";
    case kAccess:
      return "access";
    case kContent:
      return "content";
    case kHeaderFilter:
      return "header_filter";
    case kBodyFilter:
      return "body_filter";
    case kLog:
      return "log";
    case kTimer:
      return "timer";
    case kBalancer:
      return "balancer";
    case kExitWorker:
      return "exit_worker";
    default:
      return "unknown";
  }
}

const char* phaseContextName(uint32_t phase) {
  switch (phase) {
    case kInit:
      return "init_by_lua*";
    case kInitWorker:
      return "init_worker_by_lua*";
    case kSet:
      return "set_by_lua*";
    case kRewrite:
      return "rewrite_by_lua*";
    case kAccess:
      return "access_by_lua*";
    case kContent:
      return "content_by_lua*";
    case kHeaderFilter:
      return "header_filter_by_lua*";
    case kBodyFilter:
      return "body_filter_by_lua*";
    case kLog:
      return "log_by_lua*";
    case kTimer:
      return "ngx.timer";
    case kBalancer:
      return "balancer_by_lua*";
    case kExitWorker:
      return "exit_worker_by_lua*";
    default:
      return "(unknown)";
  }
}

void checkPhase(lua_State* L, uint32_t allowed) {
  uint32_t p = gCurrent.phase;
  if ((p & allowed) != 0) return;
  // init_by_lua has no (fake) request at all, unlike the other phases.
  if (p == kInit || p == kNone) luaL_error(L, "no request found");
  luaL_error(L, "API disabled in the context of %s", phaseContextName(p));
}

int ffiCheck(uint32_t allowed, RequestCtx** ctx, const char** err) noexcept {
  // "API disabled in the context of X", built once per phase.
  static const char* const kDisabled[] = {
      "API disabled in the context of init_by_lua*",
      "API disabled in the context of init_worker_by_lua*",
      "API disabled in the context of set_by_lua*",
      "API disabled in the context of rewrite_by_lua*",
      "API disabled in the context of access_by_lua*",
      "API disabled in the context of content_by_lua*",
      "API disabled in the context of header_filter_by_lua*",
      "API disabled in the context of body_filter_by_lua*",
      "API disabled in the context of log_by_lua*",
      "API disabled in the context of ngx.timer",
      "API disabled in the context of balancer_by_lua*",
      "API disabled in the context of exit_worker_by_lua*",
  };
  uint32_t p = gCurrent.phase;
  if (p == kInit || p == kNone) {
    *err = "no request found";
    return kFfiNoReqCtx;
  }
  if ((p & allowed) == 0) {
    // A timer has a fake request in OpenResty, whose FFI functions then
    // refuse it with this wording.
    if (p == kTimer) {
      *err = "API disabled in the current context";
      return kFfiBadContext;
    }
    int bit = __builtin_ctz(p);
    *err = bit < 12 ? kDisabled[bit] : "API disabled in the context of (unknown)";
    return kFfiBadContext;
  }
  if (gCurrent.req == nullptr) {
    *err = "no request found";
    return kFfiNoReqCtx;
  }
  *ctx = gCurrent.req;
  return kFfiOk;
}

// resty.core.base.get_request() reads the RunCtx itself (a load, not a call,
// inside a trace); these give it the addresses.
extern "C" const RunCtx* lunet_ffi_run_ctx() noexcept { return &gCurrent; }
extern "C" void* lunet_ffi_fake_request() noexcept { return &detail::gFakeRequest; }

// ngx.get_phase(): the bit number of the Phase (lua/resty/core/phase.lua maps
// it to the name), -1 when no Lua phase runs.
extern "C" int lunet_ffi_get_phase() noexcept {
  return gCurrent.phase == kNone ? -1 : __builtin_ctz(gCurrent.phase);
}

RequestCtx* checkRequest(lua_State* L) {
  if (gCurrent.req == nullptr) luaL_error(L, "no request found");
  // closed under the running handler (see holdHandlerRequest)
  if (http::requestFreed(*gCurrent.req->r)) luaL_error(L, "request closed");
  return gCurrent.req;
}

}  // namespace lunet::lua
