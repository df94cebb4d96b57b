// Upstream blocks, their peers and the balancer (nginx's ngx_http_upstream
// configuration and ngx_http_upstream_round_robin): `upstream NAME { server
// ADDR weight= max_fails= fail_timeout= backup down; keepalive N; ... }` and
// the implicit one-server upstreams `proxy_pass http://host:port` makes.
// See docs/design/upstream.md.
//
// Configuration lives in the cycle (the module's main conf); the run-time
// peer state (weights, failures) is per worker, in the same objects (each
// worker has its own copy after fork), as nginx keeps it without a zone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conf/module.h"
#include "http/request.h"
#include "http/variables.h"
#include "net/connect.h"

namespace lunet::upstream {

struct Peer {
  std::string name;    // "127.0.0.1:8080", "unix:/path": $upstream_addr
  std::string server;  // the `server` directive's address as written
  net::Target target;  // numeric host + port, or unix path
  int64_t weight = 1;
  int64_t maxFails = 1;
  int64_t failTimeout = 10000;  // ms
  bool backup = false;
  bool down = false;
  // Run time (per worker).
  int64_t currentWeight = 0;
  int64_t effectiveWeight = 1;
  int64_t fails = 0;
  uint64_t accessed = 0;  // loop ms of the last failure
  uint64_t checked = 0;   // loop ms of the last try after being counted out
  int64_t conns = 0;
  std::string poolKey;  // "ups:NAME:ADDR" (made on first use)
};

// balancer_by_lua*: src/lua runs the handler through this hook (the
// upstream layer cannot see Lua). Returns kOk or kError (then 500).
using BalancerRun = int (*)(http::Request& r, const void* handler) noexcept;

// What the balancer code said for the try being chosen (ngx.balancer).
struct BalancerState {
  bool peerSet = false;  // set_current_peer
  Peer peer;             // its address
  int lastState = 0;     // get_last_failure: 0 none, 2 next, 4 failed (nginx's NGX_PEER_*)
  int lastStatus = 0;
  int64_t connectTimeout = -1, sendTimeout = -1, readTimeout = -1;  // set_timeouts (ms)
  bool recreate = false;                                            // recreate_request
  int64_t totalTries = 0;                                           // added by set_more_tries
};

// The balancing method of an upstream block.
enum class Balance : uint8_t { kRoundRobin, kLeastConn, kIpHash, kHash, kRandom, kRandomTwo };

struct Upstream {
  std::string name;  // the block's name, or "host:port" for an implicit one
  bool implicit = false;
  std::string file;  // where it was defined (messages)
  int line = 0;
  std::vector<Peer> peers;    // primary
  std::vector<Peer> backups;  // `backup`
  // keepalive: idle connections cached per peer (0: none).
  int64_t keepalive = 0;
  int64_t keepaliveTimeout = 60000;
  int64_t keepaliveRequests = 1000;
  int64_t keepaliveTime = 3600000;
  // balancer_by_lua*: the Lua runtime's handler and runner (set by src/lua).
  const void* balancer = nullptr;
  BalancerRun balancerRun = nullptr;
  Balance balance = Balance::kRoundRobin;
  std::shared_ptr<http::ComplexValue> hashKey;  // hash KEY
  bool randomLeastConn = false;                 // random two least_conn
  // "ups:NAME:" prefix of this upstream's keepalive pool keys.
  std::string poolPrefix;
  bool single() const noexcept { return peers.size() == 1 && backups.empty(); }
};

// One request's walk over the peers (nginx's ngx_http_upstream_rr_peer_data).
struct PeerPick {
  Upstream* ups = nullptr;
  uint8_t* tried = nullptr;  // one byte per peer then per backup (request arena)
  Peer* current = nullptr;
  int64_t tries = 0;     // tries left
  int64_t maxTries = 0;  // proxy_next_upstream_tries (0: none)
  bool onBackups = false;
  BalancerState* bal = nullptr;  // with balancer_by_lua* (request arena)
  bool balancerPeer = false;     // the current try's peer came from the balancer
  http::Request* r = nullptr;
  uint32_t hash = 0;       // ip_hash / hash: carried over retries as nginx
  uint32_t rehash = 0;     // hash: iterations so far
  uint32_t hashTries = 0;  // ip_hash / hash: misses before falling back to round robin
};

// The balancer state of r's upstream (null when r has no upstream with
// balancer_by_lua*), for ngx.balancer.
BalancerState* balancerState(http::Request& r) noexcept;
// set_more_tries: adds count tries, within proxy_next_upstream_tries;
// returns false when the limit reduced them.
bool addTries(http::Request& r, int64_t count) noexcept;

// Prepares a pick for r (arena memory); tries = the upstream's peers as
// nginx counts them (down ones excluded), at least 1.
void initPick(http::Request& r, Upstream* u, PeerPick* pick) noexcept;
// Chooses the next peer: smooth weighted round robin over the live peers
// not tried yet, then the backups. Null: none is live ("no live upstreams").
Peer* getPeer(PeerPick* pick) noexcept;
// The peer of the last getPeer() is done: failed (counts towards
// max_fails) or not.
void freePeer(http::Request& r, PeerPick* pick, bool failed) noexcept;

// The `upstream` blocks of the cycle and the implicit upstreams.
struct UpstreamMain : conf::ConfBase {
  std::vector<std::unique_ptr<Upstream>> upstreams;
  Upstream* current = nullptr;  // the block being parsed
  Upstream* find(std::string_view name) noexcept;
};

const conf::Module& httpUpstreamModule();
// proxy_pass and the proxy_* directives (proxy_module.cc).
const conf::Module& proxyModule();

// The module's main conf of the cycle being configured (null outside http{}).
UpstreamMain* upstreamMain(conf::Engine& e) noexcept;

// Resolves "host[:port]" / "unix:/path" at config load as nginx does
// (getaddrinfo; a name may give several peers). Throws ConfError "host not
// found in upstream ..." / "invalid port in upstream ...".
std::vector<Peer> resolveServer(const conf::ConfNode& n, std::string_view addr, uint16_t dfltPort,
                                bool upstreamWording);

}  // namespace lunet::upstream
