// The `upstream` block, its `server` lines, keepalive settings, and nginx's
// smooth weighted round robin with its passive health rules.
#include "upstream/upstream.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <array>
#include <cstdlib>
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

void setBalance(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  Upstream* u = static_cast<UpstreamMain*>(c)->current;
  if (u->balance != Balance::kRoundRobin) fail(n, "load balancing method redefined");
  if (n.name == "least_conn") {
    u->balance = Balance::kLeastConn;
  } else if (n.name == "ip_hash") {
    u->balance = Balance::kIpHash;
  } else if (n.name == "hash") {
    if (n.args.size() == 2) {
      if (n.arg(1) != "consistent") fail(n, "invalid parameter \"" + n.arg(1) + "\"");
      fail(n, "\"hash ... consistent\" is not supported by Lunet yet");
    }
    u->balance = Balance::kHash;
    u->hashKey = std::make_shared<http::ComplexValue>();
    u->hashKey->compile(n, n.arg(0));
  } else {
    u->balance = Balance::kRandom;
    if (!n.args.empty()) {
      if (n.arg(0) != "two") fail(n, "invalid parameter \"" + n.arg(0) + "\"");
      if (n.args.size() == 2 && n.arg(1) != "least_conn") {
        fail(n, "invalid parameter \"" + n.arg(1) + "\"");
      }
      u->balance = Balance::kRandomTwo;
    }
  }
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
    {"least_conn", conf::kHttpUpsCtx, conf::kNoArgs, setBalance, conf::Slot::kMain},
    {"ip_hash", conf::kHttpUpsCtx, conf::kNoArgs, setBalance, conf::Slot::kMain},
    {"hash", conf::kHttpUpsCtx, conf::kTake12, setBalance, conf::Slot::kMain},
    {"random", conf::kHttpUpsCtx, conf::kNoArgs | conf::kTake12, setBalance, conf::Slot::kMain},
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
  pick->r = &r;
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

namespace {

bool usable(const Peer& p, uint64_t now) {
  if (p.down) return false;
  return !(p.maxFails > 0 && p.fails >= p.maxFails &&
           now - p.checked <= static_cast<uint64_t>(p.failTimeout));
}

Peer* take(std::vector<Peer>& peers, uint8_t* tried, size_t i, uint64_t now) {
  Peer& p = peers[i];
  tried[i] = 1;
  if (now - p.checked > static_cast<uint64_t>(p.failTimeout)) p.checked = now;
  return &p;
}

// The peer the weight point w falls on (nginx walks the list the same way).
size_t byWeight(const std::vector<Peer>& peers, uint64_t w) {
  size_t i = 0;
  while (i + 1 < peers.size() && w >= static_cast<uint64_t>(peers[i].weight)) {
    w -= static_cast<uint64_t>(peers[i].weight);
    i++;
  }
  return i;
}

uint64_t totalWeight(const std::vector<Peer>& peers) {
  uint64_t t = 0;
  for (const Peer& p : peers) t += static_cast<uint64_t>(p.weight);
  return t;
}

uint32_t crc32(uint32_t crc, std::string_view s) {
  static const auto kTable = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  for (unsigned char ch : s) crc = kTable[(crc ^ ch) & 0xff] ^ (crc >> 8);
  return crc;
}

// nginx's ngx_http_upstream_get_ip_hash_peer: the first three bytes of an
// IPv4 client address (all sixteen of IPv6), 20 misses at most.
Peer* ipHashPeer(PeerPick* pick) {
  std::vector<Peer>& peers = pick->ups->peers;
  uint64_t now = core::nowMsec();
  unsigned char addr[16];
  size_t len = 0;
  std::string text(http::clientAddrText(*pick->r));
  if (inet_pton(AF_INET, text.c_str(), addr) == 1) {
    len = 3;
  } else if (inet_pton(AF_INET6, text.c_str(), addr) == 1) {
    len = 16;
  }
  uint64_t total = totalWeight(peers);
  if (len == 0 || total == 0) return nullptr;
  uint32_t hash = pick->hash == 0 ? 89 : pick->hash;
  for (;;) {
    for (size_t i = 0; i < len; i++) hash = (hash * 113 + addr[i]) % 6271;
    size_t i = byWeight(peers, hash % total);
    if (!pick->tried[i] && usable(peers[i], now)) {
      pick->hash = hash;
      return take(peers, pick->tried, i, now);
    }
    if (++pick->hashTries > 20) return nullptr;
  }
}

// nginx's ngx_http_upstream_get_hash_peer (Cache::Memcached compatible):
// ((crc32([REHASH] KEY) >> 16) & 0x7fff) + PREV_HASH.
Peer* hashPeer(PeerPick* pick) {
  std::vector<Peer>& peers = pick->ups->peers;
  uint64_t now = core::nowMsec();
  uint64_t total = totalWeight(peers);
  if (total == 0) return nullptr;
  std::string_view key = pick->ups->hashKey->eval(*pick->r);
  for (;;) {
    uint32_t crc = 0xffffffffu;
    if (pick->rehash > 0) crc = crc32(crc, std::to_string(pick->rehash));
    crc = crc32(crc, key) ^ 0xffffffffu;
    pick->hash += (crc >> 16) & 0x7fff;
    pick->rehash++;
    size_t i = byWeight(peers, pick->hash % total);
    if (!pick->tried[i] && usable(peers[i], now)) return take(peers, pick->tried, i, now);
    if (++pick->hashTries > 20) return nullptr;
  }
}

// least_conn: the fewest connections per weight; ties by weighted round robin.
Peer* leastConnPeer(std::vector<Peer>& peers, uint8_t* tried) {
  uint64_t now = core::nowMsec();
  Peer* best = nullptr;
  for (size_t i = 0; i < peers.size(); i++) {
    Peer& p = peers[i];
    if (tried[i] || !usable(p, now)) continue;
    if (best == nullptr || p.conns * best->weight < best->conns * p.weight) best = &p;
  }
  if (best == nullptr) return nullptr;
  Peer* chosen = nullptr;
  size_t chosenIdx = 0;
  int64_t total = 0;
  for (size_t i = 0; i < peers.size(); i++) {
    Peer& p = peers[i];
    if (tried[i] || !usable(p, now) || p.conns * best->weight != best->conns * p.weight) continue;
    p.currentWeight += p.effectiveWeight;
    total += p.effectiveWeight;
    if (p.effectiveWeight < p.weight) p.effectiveWeight++;
    if (chosen == nullptr || p.currentWeight > chosen->currentWeight) {
      chosen = &p;
      chosenIdx = i;
    }
  }
  chosen->currentWeight -= total;
  return take(peers, tried, chosenIdx, now);
}

// random [two [least_conn]]: by weight; of two, the one with fewer
// connections.
Peer* randomPeer(std::vector<Peer>& peers, uint8_t* tried, bool two) {
  uint64_t now = core::nowMsec();
  uint64_t total = totalWeight(peers);
  if (total == 0) return nullptr;
  auto one = [&]() -> long {
    for (int n = 0; n < 20; n++) {
      size_t i = byWeight(peers, static_cast<uint64_t>(std::rand()) % total);
      if (!tried[i] && usable(peers[i], now)) return static_cast<long>(i);
    }
    return -1;
  };
  long a = one();
  if (a < 0) return nullptr;
  if (two) {
    long b = one();
    if (b >= 0 && peers[b].conns * peers[a].weight < peers[a].conns * peers[b].weight) a = b;
  }
  return take(peers, tried, static_cast<size_t>(a), now);
}

}  // namespace

Peer* getPeer(PeerPick* pick) noexcept {
  Upstream* u = pick->ups;
  Peer* p = nullptr;
  if (!u->single() && !pick->onBackups && u->balance != Balance::kRoundRobin) {
    switch (u->balance) {
      case Balance::kLeastConn:
        p = leastConnPeer(u->peers, pick->tried);
        break;
      case Balance::kIpHash:
        if (pick->hashTries <= 20) p = ipHashPeer(pick);
        break;
      case Balance::kHash:
        if (pick->hashTries <= 20) p = hashPeer(pick);
        break;
      default:
        p = randomPeer(u->peers, pick->tried, u->balance == Balance::kRandomTwo);
        break;
    }
    if (p != nullptr) {
      pick->current = p;
      p->conns++;
      return p;
    }
  }
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
