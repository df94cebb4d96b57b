// require "ngx.balancer" over FFI (lua/ngx/balancer.lua): the calls
// balancer_by_lua* code makes to choose the upstream peer of a try, with
// lua-nginx-module's checks and error strings. The state they write is the
// upstream layer's (upstream::BalancerState, read by src/upstream/proxy.cc).
#include <cstring>
#include <string>

#include "lua/context.h"
#include "lua/request_ctx.h"
#include "net/resolver.h"
#include "upstream/upstream.h"

namespace {

using lunet::lua::ffiRequest;
using lunet::lua::kFfiError;
using lunet::lua::kFfiOk;
using lunet::upstream::BalancerState;

// The balancer state of the request behind handle r, or null with *err set.
BalancerState* stateOf(void* r, const char** err, lunet::http::Request** req) noexcept {
  lunet::lua::RequestCtx* ctx = r != nullptr ? ffiRequest(r) : nullptr;
  if (ctx == nullptr) {
    *err = "no request found";
    return nullptr;
  }
  BalancerState* b = lunet::upstream::balancerState(*ctx->r);
  if (b == nullptr) {
    *err = "no upstream found";
    return nullptr;
  }
  if (lunet::lua::current().phase != lunet::lua::kBalancer) {
    *err = "API disabled in the current context";
    return nullptr;
  }
  if (req != nullptr) *req = ctx->r;
  return b;
}

}  // namespace

// set_current_peer(addr, port): addr is an IP address (a name is "no host
// allowed", as nginx parses it without resolving); "host:port" in addr
// when port is 0.
extern "C" int lunet_ffi_balancer_set_current_peer(void* r, const unsigned char* addr, size_t len,
                                                   int port, const char** err) noexcept {
  BalancerState* b = stateOf(r, err, nullptr);
  if (b == nullptr) return kFfiError;
  std::string host(reinterpret_cast<const char*>(addr), len);
  if (port <= 0) {
    size_t c = host.rfind(':');
    if (c == std::string::npos || host.find(']', c) != std::string::npos) {
      *err = "no port in upstream";
      return kFfiError;
    }
    port = std::atoi(host.c_str() + c + 1);
    host.resize(c);
  }
  if (port <= 0 || port > 65535) {
    *err = "invalid port";
    return kFfiError;
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  lunet::net::SockAddr sa;
  if (!lunet::net::parseNumeric(host, static_cast<uint16_t>(port), &sa)) {
    *err = "no host allowed";
    return kFfiError;
  }
  b->peer.target.host = host;
  b->peer.target.port = static_cast<uint16_t>(port);
  b->peer.target.path.clear();
  b->peer.name = sa.text();
  b->peer.poolKey.clear();
  b->peerSet = true;
  return kFfiOk;
}

// Adds count tries; *err "reduced tries due to limit" (still kFfiOk) when
// proxy_next_upstream_tries cut them.
extern "C" int lunet_ffi_balancer_set_more_tries(void* r, int count, const char** err) noexcept {
  lunet::http::Request* req = nullptr;
  BalancerState* b = stateOf(r, err, &req);
  if (b == nullptr) return kFfiError;
  *err = nullptr;
  if (!lunet::upstream::addTries(*req, count)) *err = "reduced tries due to limit";
  return kFfiOk;
}

// The state of the last try: 0 none yet, 2 next, 4 failed; *status its
// status code.
extern "C" int lunet_ffi_balancer_get_last_failure(void* r, int* status,
                                                   const char** err) noexcept {
  BalancerState* b = stateOf(r, err, nullptr);
  if (b == nullptr) return kFfiError;
  *status = b->lastStatus;
  return b->lastState;
}

// Milliseconds; < 0 leaves that timeout as configured.
extern "C" int lunet_ffi_balancer_set_timeouts(void* r, long connect, long send, long read,
                                               const char** err) noexcept {
  BalancerState* b = stateOf(r, err, nullptr);
  if (b == nullptr) return kFfiError;
  if (connect > 0) b->connectTimeout = connect;
  if (send > 0) b->sendTimeout = send;
  if (read > 0) b->readTimeout = read;
  return kFfiOk;
}

// The request head is built again for this try (headers changed by the code).
extern "C" int lunet_ffi_balancer_recreate_request(void* r, const char** err) noexcept {
  BalancerState* b = stateOf(r, err, nullptr);
  if (b == nullptr) return kFfiError;
  b->recreate = true;
  return kFfiOk;
}
