// Which phase Lua code runs in, and the phase rules of the ngx API.
//
// Like lua-nginx-module, every API checks the context it is called from
// against the set of contexts it allows and raises
// "API disabled in the context of <phase>" otherwise. The context of the
// running code is process-global state (one Lua VM per process, one
// coroutine running at a time), set by the phase entries and the scheduler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <lua.hpp>

namespace lunet::lua {

// Context bits, as lua-nginx-module's NGX_HTTP_LUA_CONTEXT_*.
enum Phase : uint32_t {
  kNone = 0,
  kInit = 1u << 0,
  kInitWorker = 1u << 1,
  kSet = 1u << 2,
  kRewrite = 1u << 3,
  kAccess = 1u << 4,
  kContent = 1u << 5,
  kHeaderFilter = 1u << 6,
  kBodyFilter = 1u << 7,
  kLog = 1u << 8,
  kTimer = 1u << 9,
  kBalancer = 1u << 10,
  kExitWorker = 1u << 11,
};

// Handy sets.
inline constexpr uint32_t kYieldable = kRewrite | kAccess | kContent | kTimer;
inline constexpr uint32_t kRequestPhases =
    kSet | kRewrite | kAccess | kContent | kHeaderFilter | kBodyFilter | kLog | kBalancer;
inline constexpr uint32_t kAnyPhase = 0xffffffffu;

// "content", as ngx.get_phase() returns it.
const char* phaseName(uint32_t phase);
// "content_by_lua*", as error messages name it.
const char* phaseContextName(uint32_t phase);

class RequestCtx;
class Owner;

// What is running right now. lua/resty/core/base.lua reads `phase` and
// `req` through FFI (lunet_ffi_run_ctx): keep them first, in this order.
struct RunCtx {
  uint32_t phase = kNone;
  // ngx.req.get_method()'s answer for req, read by lua/resty/core/request.lua
  // without a call: the bit number of its method (1..8 GET..TRACE), 0 when
  // the name must be asked for, kFfiBadContext (-101) without a request.
  // Set with req; ngx.req.set_method keeps it in step.
  int32_t method = -101;
  RequestCtx* req = nullptr;  // null outside request phases (init, timer, ...)
  Owner* owner = nullptr;     // the running thread's owner (request, timer)
  // The ngx.ctx ref slot of the running code (lua/resty/core/ctx.lua reads
  // it without a call): the request's, else the owner's, else the aux one.
  int* ctxRef = nullptr;
};
static_assert(offsetof(RunCtx, phase) == 0 && offsetof(RunCtx, method) == 4 &&
                  offsetof(RunCtx, req) == sizeof(void*) &&
                  offsetof(RunCtx, ctxRef) == 3 * sizeof(void*),
              "lua/resty/core/base.lua's lunet_ffi_run_ctx_t");

// The RunCtx::method value for a request (api_request.cc).
int32_t runCtxMethod(const RequestCtx* req) noexcept;
// The RunCtx::ctxRef value for a request or owner (api_ctx.cc).
int* runCtxCtxRef(RequestCtx* req, Owner* owner) noexcept;

RunCtx& current();

// Sets the current context for the lifetime of the object.
class ScopedRunCtx {
 public:
  ScopedRunCtx(uint32_t phase, RequestCtx* req, Owner* owner = nullptr) : saved_(current()) {
    current().phase = phase;
    current().method = runCtxMethod(req);
    current().req = req;
    current().owner = owner;
    current().ctxRef = runCtxCtxRef(req, owner);
  }
  ~ScopedRunCtx() { current() = saved_; }
  ScopedRunCtx(const ScopedRunCtx&) = delete;
  ScopedRunCtx& operator=(const ScopedRunCtx&) = delete;

 private:
  RunCtx saved_;
};

// Raises "API disabled in the context of X" unless the current phase is in
// `allowed`. Does not return on failure (lua_error). No C++ object with a
// destructor may be alive in the caller when it raises.
void checkPhase(lua_State* L, uint32_t allowed);

// The request of the running code; raises "no request found" without one.
RequestCtx* checkRequest(lua_State* L);

// FFI return codes (as lua-resty-core's FFI_* in resty.core.base).
inline constexpr int kFfiOk = 0;
inline constexpr int kFfiError = -1;
inline constexpr int kFfiDeclined = -5;
inline constexpr int kFfiNoReqCtx = -100;
inline constexpr int kFfiBadContext = -101;

// The FFI form of checkPhase + checkRequest: returns kFfiOk with *ctx set,
// or an error code with *err pointing at a static message.
int ffiCheck(uint32_t allowed, RequestCtx** ctx, const char** err) noexcept;

// ---- The request handle of the FFI API (lua-resty-core's get_request) ----
//
// resty.core.base.get_request() returns, from the RunCtx (read through
// lunet_ffi_run_ctx): the RequestCtx of the running request phase (req);
// with no req, in the contexts where OpenResty
// runs Lua with a fake request (init_worker, timers, exit_worker) the
// address of a process-wide marker, so that per-request APIs answer
// kFfiBadContext ("API disabled in the current context") there while
// ngx.ctx still works; nullptr otherwise (init_by_lua, no Lua running), for
// which the wrappers raise "no request found". Every lunet_ffi_* export that
// needs the request takes this handle as its first argument and turns it
// back with ffiRequest().
namespace detail {
extern char gFakeRequest;  // only its address matters
}  // namespace detail
inline void* fakeRequest() noexcept { return &detail::gFakeRequest; }
// The RequestCtx behind a handle, or nullptr for the fake request.
inline RequestCtx* ffiRequest(void* r) noexcept {
  return r == fakeRequest() ? nullptr : static_cast<RequestCtx*>(r);
}

}  // namespace lunet::lua
