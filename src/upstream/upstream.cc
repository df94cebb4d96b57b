// The `upstream` block, its `server` lines, keepalive settings, and nginx's
// smooth weighted round robin with its passive health rules.
#include "upstream/upstream.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cstring>

#include "conf/cycle.h"
#include "core/time.h"
#include "net/resolver.h"

namespace lunet::upstream {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

namespace {

conf::ConfPtr createMain() { return std::make_unique<UpstreamMain>(); }

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// weight=, max_fails=, fail_timeout=, max_conns=, backup, down.
void setServer(Engine& e, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* m = static_cast<UpstreamMain*>(c);
  Upstream* u = m->current;
  int64_t weight = 1, maxFails = 1, failTimeout = 10000;
  bool backup = false, down = false;
  for (size_t i = 1; i < n.args.size(); i++) {
    const std::string& a = n.arg(i);
    auto number = [&](std::string_view key, int64_t* out) {
      std::string v = a.substr(key.size());
      if (!conf::tryParseNumber(v, out) || (key == "weight=" && *out == 0)) {
        fail(n, "invalid parameter \"" + a + "\"");
      }
    };
    if (startsWith(a, "weight=")) {
      number("weight=", &weight);
    } else if (startsWith(a, "max_fails=")) {
      number("max_fails=", &maxFails);
    } else if (startsWith(a, "fail_timeout=")) {
      ConfNode t = n;
      t.args = {conf::ConfArg{a.substr(13), false}};
      failTimeout = conf::parseMsec(t, 0);
    } else if (a == "backup") {
      backup = true;
    } else if (a == "down") {
      down = true;
    } else if (startsWith(a, "max_conns=") || startsWith(a, "slow_start=") || a == "resolve" ||
               startsWith(a, "service=") || a == "drain") {
      fail(n, "parameter \"" + a + "\" of \"server\" is not supported by Lunet yet");
    } else {
      fail(n, "invalid parameter \"" + a + "\"");
    }
  }
  (void)e;
  std::vector<Peer> peers = resolveServer(n, n.arg(0), 80, true);
  for (Peer& p : peers) {
    p.weight = weight;
    p.effectiveWeight = weight;
    p.maxFails = maxFails;
    p.failTimeout = failTimeout;
    p.backup = backup;
    p.down = down;
    (backup ? u->backups : u->peers).push_back(std::move(p));
  }
}

void setKeepalive(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  Upstream* u = static_cast<UpstreamMain*>(c)->current;
  int64_t v = 0;
  if (!conf::tryParseNumber(n.arg(0), &v) || v == 0) {
    fail(n, "invalid value \"" + n.arg(0) + "\" in \"" + n.name + "\" directive");
  }
  if (u->keepalive != 0) fail(n, "\"keepalive\" directive is duplicate");
  u->keepalive = v;
}

void setKeepaliveTimeout(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  static_cast<UpstreamMain*>(c)->current->keepaliveTimeout = conf::parseMsec(n, 0);
}
void setKeepaliveTime(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  static_cast<UpstreamMain*>(c)->current->keepaliveTime = conf::parseMsec(n, 0);
}
void setKeepaliveRequests(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  int64_t v = 0;
  if (!conf::tryParseNumber(n.arg(0), &v)) fail(n, "\"" + n.name + "\" directive invalid number");
  static_cast<UpstreamMain*>(c)->current->keepaliveRequests = v;
}

void setNotYet(Engine&, const ConfNode& n, ConfBase*, const Directive&) {
  fail(n, "\"" + n.name + "\" is not supported by Lunet yet");
}

void setUpstream(Engine& e, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* m = static_cast<UpstreamMain*>(c);
  const std::string& name = n.arg(0);
  for (const auto& u : m->upstreams) {
    if (u->name == name && !u->implicit) fail(n, "duplicate upstream \"" + name + "\"");
  }
  auto u = std::make_unique<Upstream>();
  u->name = name;
  u->file = n.file ? *n.file : "";
  u->line = n.line;
  u->poolPrefix = "ups:" + name + ":";
  m->current = u.get();
  Upstream* raw = u.get();
  m->upstreams.push_back(std::move(u));
  e.processBlock(n.children, conf::kHttpUpsCtx, e.level());
  m->current = nullptr;
  if (raw->peers.empty() && raw->backups.empty() && raw->balancer == nullptr) {
    fail(n, "no servers are inside upstream");
  }
  if (raw->peers.empty() && !raw->backups.empty()) {
    raw->peers = std::move(raw->backups);
    raw->backups.clear();
  }
}

const Directive kDirectives[] = {
    {"upstream", conf::kHttpMainCtx, conf::kBlock | conf::kTake1, setUpstream, conf::Slot::kMain},
    {"server", conf::kHttpUpsCtx, conf::k1More, setServer, conf::Slot::kMain},
    {"keepalive", conf::kHttpUpsCtx, conf::kTake1, setKeepalive, conf::Slot::kMain},
    {"keepalive_timeout", conf::kHttpUpsCtx, conf::kTake1, setKeepaliveTimeout, conf::Slot::kMain},
    {"keepalive_time", conf::kHttpUpsCtx, conf::kTake1, setKeepaliveTime, conf::Slot::kMain},
    {"keepalive_requests", conf::kHttpUpsCtx, conf::kTake1, setKeepaliveRequests,
     conf::Slot::kMain},
    {"least_conn", conf::kHttpUpsCtx, conf::kNoArgs, setNotYet, conf::Slot::kNone},
    {"ip_hash", conf::kHttpUpsCtx, conf::kNoArgs, setNotYet, conf::Slot::kNone},
    {"hash", conf::kHttpUpsCtx, conf::kTake12, setNotYet, conf::Slot::kNone},
    {"random", conf::kHttpUpsCtx, conf::kNoArgs | conf::kTake12, setNotYet, conf::Slot::kNone},
    {"zone", conf::kHttpUpsCtx, conf::kTake12, setNotYet, conf::Slot::kNone},
};

const conf::Module kModule{
    .name = "http_upstream",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .nginxModules = "http_upstream_keepalive_module",
    .createMain = createMain,
};

}  // namespace

const conf::Module& httpUpstreamModule() { return kModule; }

UpstreamMain* upstreamMain(conf::Engine& e) noexcept {
  auto& confs = e.cycle().confs;
  if (confs.size() <= kModule.index) return nullptr;
  return static_cast<UpstreamMain*>(confs[kModule.index].get());
}

Upstream* UpstreamMain::find(std::string_view name) noexcept {
  for (const auto& u : upstreams) {
    if (u->name == name) return u.get();
  }
  return nullptr;
}

std::vector<Peer> resolveServer(const ConfNode& n, std::string_view addr, uint16_t dfltPort,
                                bool upstreamWording) {
  std::vector<Peer> out;
  std::string what = upstreamWording ? " in upstream \"" + std::string(addr) + "\""
                                     : " in upstream \"" + std::string(addr) + "\"";
  if (startsWith(addr, "unix:")) {
    Peer p;
    p.target.path = std::string(addr.substr(5));
    if (p.target.path.empty()) fail(n, "no path in the unix domain socket" + what);
    p.name = std::string(addr);
    p.server = std::string(addr);
    out.push_back(std::move(p));
    return out;
  }
  std::string host;
  uint16_t port = dfltPort;
  std::string_view rest = addr;
  if (!rest.empty() && rest[0] == '[') {
    size_t e = rest.find(']');
    if (e == std::string_view::npos) fail(n, "invalid host" + what);
    host = std::string(rest.substr(1, e - 1));
    rest = rest.substr(e + 1);
    if (!rest.empty() && rest[0] != ':') fail(n, "invalid host" + what);
  } else {
    size_t c = rest.rfind(':');
    host = std::string(rest.substr(0, c));
    rest = c == std::string_view::npos ? std::string_view{} : rest.substr(c);
  }
  if (!rest.empty()) {
    int64_t v = 0;
    if (!conf::tryParseNumber(std::string(rest.substr(1)), &v) || v < 1 || v > 65535) {
      fail(n, "invalid port" + what);
    }
    port = static_cast<uint16_t>(v);
  }
  if (host.empty()) fail(n, "no host" + what);
  net::SockAddr sa;
  if (net::parseNumeric(host, port, &sa)) {
    Peer p;
    p.target.host = host;
    p.target.port = port;
    p.name = sa.text();
    p.server = std::string(addr);
    out.push_back(std::move(p));
    return out;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
    fail(n, "host not found" + what);
  }
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    char text[64];
    const void* src =
        a->ai_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr);
    if (inet_ntop(a->ai_family, src, text, sizeof text) == nullptr) continue;
    if (!net::parseNumeric(text, port, &sa)) continue;
    bool dup = false;
    for (const Peer& q : out) dup = dup || q.target.host == text;
    if (dup) continue;
    Peer p;
    p.target.host = text;
    p.target.port = port;
    p.name = sa.text();
    p.server = std::string(addr);
    out.push_back(std::move(p));
  }
  freeaddrinfo(res);
  if (out.empty()) fail(n, "host not found" + what);
  return out;
}

// ---- Round robin --------------------------------------------------------------

void initPick(http::Request& r, Upstream* u, PeerPick* pick) noexcept {
  pick->ups = u;
  size_t n = u->peers.size() + u->backups.size();
  pick->tried = static_cast<uint8_t*>(r.arena.alloc(n > 0 ? n : 1, 1));
  std::memset(pick->tried, 0, n > 0 ? n : 1);
  int64_t tries = 0;
  for (const Peer& p : u->peers) tries += p.down ? 0 : 1;
  for (const Peer& p : u->backups) tries += p.down ? 0 : 1;
  pick->tries = tries > 0 ? tries : 1;
  pick->current = nullptr;
  pick->onBackups = false;
}

namespace {

Peer* pickFrom(std::vector<Peer>& peers, uint8_t* tried) noexcept {
  uint64_t now = core::nowMsec();
  Peer* best = nullptr;
  int64_t total = 0;
  size_t bestIdx = 0;
  for (size_t i = 0; i < peers.size(); i++) {
    Peer& p = peers[i];
    if (tried[i] || p.down) continue;
    if (p.maxFails > 0 && p.fails >= p.maxFails &&
        now - p.checked <= static_cast<uint64_t>(p.failTimeout)) {
      continue;
    }
    p.currentWeight += p.effectiveWeight;
    total += p.effectiveWeight;
    if (p.effectiveWeight < p.weight) p.effectiveWeight++;
    if (best == nullptr || p.currentWeight > best->currentWeight) {
      best = &p;
      bestIdx = i;
    }
  }
  if (best == nullptr) return nullptr;
  tried[bestIdx] = 1;
  best->currentWeight -= total;
  if (now - best->checked > static_cast<uint64_t>(best->failTimeout)) best->checked = now;
  return best;
}

}  // namespace

Peer* getPeer(PeerPick* pick) noexcept {
  Upstream* u = pick->ups;
  Peer* p = nullptr;
  if (u->single()) {
    // nginx: a lone server is never counted out by max_fails.
    p = (u->peers[0].down || pick->tried[0]) ? nullptr : &u->peers[0];
    if (p != nullptr) pick->tried[0] = 1;
  } else {
    if (!pick->onBackups) p = pickFrom(u->peers, pick->tried);
    if (p == nullptr && !u->backups.empty()) {
      pick->onBackups = true;
      p = pickFrom(u->backups, pick->tried + u->peers.size());
    }
  }
  pick->current = p;
  if (p != nullptr) p->conns++;
  return p;
}

void freePeer(http::Request& r, PeerPick* pick, bool failed) noexcept {
  Peer* p = pick->current;
  if (p == nullptr) return;
  pick->current = nullptr;
  p->conns--;
  if (pick->ups->single()) {
    pick->tries = 0;
    return;
  }
  uint64_t now = core::nowMsec();
  if (failed) {
    p->fails++;
    p->accessed = now;
    p->checked = now;
    if (p->maxFails > 0) {
      p->effectiveWeight -= p->weight / p->maxFails;
      if (p->fails >= p->maxFails) {
        LUNET_LOG(r.log, core::Level::kWarn, 0, "upstream server temporarily disabled");
      }
    }
    if (p->effectiveWeight < 0) p->effectiveWeight = 0;
  } else if (p->accessed < p->checked) {
    p->fails = 0;
  }
  if (pick->tries > 0) pick->tries--;
}

}  // namespace lunet::upstream
