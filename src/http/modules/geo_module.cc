// geo [$address] $var { ... } (nginx's ngx_http_geo_module): a variable
// whose value depends on the client address (or on an address held by a
// variable): the longest matching network wins, or, with `ranges`, the
// range that holds it. `proxy` networks are trusted to send X-Forwarded-For.
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "conf/cycle.h"
#include "core/log.h"
#include "http/modules/cidr.h"
#include "http/modules/modules.h"
#include "http/variables.h"

namespace lunet::http {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

struct Key6 {
  uint64_t hi, lo;
  bool operator==(const Key6&) const = default;
};
struct Key6Hash {
  size_t operator()(const Key6& k) const noexcept {
    return std::hash<uint64_t>{}(k.hi * 31 ^ k.lo);
  }
};

// One table per prefix length, probed longest first: a lookup costs one
// hash probe per distinct length in use, whatever the number of networks.
template <class K, class H>
struct PrefixTable {
  std::map<int, std::unordered_map<K, const std::string*, H>, std::greater<>> byLen;
};

struct Range {
  uint32_t start, end;  // inclusive, host order
  const std::string* value;
};

struct Geo {
  ComplexValue source;
  bool hasSource = false;
  bool ranges = false;
  std::vector<std::unique_ptr<std::string>> values;
  PrefixTable<uint32_t, std::hash<uint32_t>> v4;
  PrefixTable<Key6, Key6Hash> v6;
  std::map<uint32_t, Range> rangeMap;  // by start, non-overlapping
  std::vector<Range> sorted;           // rangeMap flattened for lookups
  const std::string* dflt = nullptr;
  std::vector<Cidr> proxies;
  bool proxyRecursive = false;
  int index = -1;
};

struct GeoMain : ConfBase {
  std::vector<std::unique_ptr<Geo>> geos;
};

const conf::Module& mod();

uint32_t bits4(const uint8_t* a) {
  uint32_t v;
  std::memcpy(&v, a, 4);
  return ntohl(v);
}

Key6 bits6(const uint8_t* a) {
  Key6 k{0, 0};
  for (int i = 0; i < 8; i++) k.hi = (k.hi << 8) | a[i];
  for (int i = 8; i < 16; i++) k.lo = (k.lo << 8) | a[i];
  return k;
}

int prefixLen(const Cidr& c) {
  int len = 0;
  for (int i = 0; i < (c.family == AF_INET ? 4 : 16); i++) len += __builtin_popcount(c.mask[i]);
  return len;
}

uint32_t mask4(int len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
Key6 mask6(const Key6& k, int len) {
  Key6 m{0, 0};
  if (len >= 64) {
    m.hi = k.hi;
    m.lo = len == 64 ? 0 : k.lo & (~uint64_t{0} << (128 - len));
  } else if (len > 0) {
    m.hi = k.hi & (~uint64_t{0} << (64 - len));
  }
  return m;
}

// Sets (or with value == nullptr deletes) a network; returns the value it
// replaced (for nginx's duplicate warning / delete check).
const std::string* putNet(Geo& g, const Cidr& c, const std::string* value, bool* existed) {
  int len = prefixLen(c);
  *existed = false;
  const std::string* old = nullptr;
  auto update = [&](auto& table, auto key) {
    auto& t = table.byLen[len];
    auto it = t.find(key);
    if (it != t.end()) {
      *existed = true;
      old = it->second;
      if (value == nullptr) {
        t.erase(it);
      } else {
        it->second = value;
      }
    } else if (value != nullptr) {
      t.emplace(key, value);
    }
  };
  if (c.family == AF_INET) {
    update(g.v4, bits4(c.addr));
  } else {
    update(g.v6, bits6(c.addr));
  }
  return old;
}

// Puts [start, end] over whatever was there (value == nullptr: removes).
// Returns whether anything was there.
bool putRange(Geo& g, uint32_t start, uint32_t end, const std::string* value) {
  bool overlapped = false;
  auto it = g.rangeMap.upper_bound(start);
  if (it != g.rangeMap.begin()) --it;
  while (it != g.rangeMap.end() && it->second.start <= end) {
    Range r = it->second;
    if (r.end < start) {
      ++it;
      continue;
    }
    overlapped = true;
    it = g.rangeMap.erase(it);
    if (r.start < start) g.rangeMap.emplace(r.start, Range{r.start, start - 1, r.value});
    if (r.end > end) g.rangeMap.emplace(end + 1, Range{end + 1, r.end, r.value});
  }
  if (value != nullptr) g.rangeMap.emplace(start, Range{start, end, value});
  return overlapped;
}

const std::string* lookup(const Geo& g, const sockaddr* sa) {
  const uint8_t* a4 = nullptr;
  if (sa->sa_family == AF_INET) {
    a4 = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(in6)) a4 = reinterpret_cast<const uint8_t*>(in6) + 12;
  }
  if (g.ranges) {
    uint32_t v = a4 != nullptr ? bits4(a4) : 0xffffffffu;
    auto it = std::upper_bound(g.sorted.begin(), g.sorted.end(), v,
                               [](uint32_t x, const Range& r) { return x < r.start; });
    if (it != g.sorted.begin()) {
      --it;
      if (v <= it->end) return it->value;
    }
    return g.dflt;
  }
  if (a4 != nullptr) {
    uint32_t v = bits4(a4);
    for (const auto& [len, t] : g.v4.byLen) {
      auto it = t.find(v & mask4(len));
      if (it != t.end()) return it->second;
    }
    return g.dflt;
  }
  if (sa->sa_family == AF_INET6) {
    Key6 k = bits6(
        reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr));
    for (const auto& [len, t] : g.v6.byLen) {
      auto it = t.find(mask6(k, len));
      if (it != t.end()) return it->second;
    }
  }
  return g.dflt;
}

void geoGet(Request& r, std::string_view, VarValue* out, uintptr_t data) {
  const auto* g = reinterpret_cast<const Geo*>(data);
  sockaddr_in6 addr;
  bool ok = true;
  if (g->hasSource) {
    ok = parseAddr(g->source.eval(r), &addr);
  } else {
    const sockaddr* sa = clientSockaddr(r);
    std::memset(&addr, 0, sizeof(addr));
    std::memcpy(&addr, sa, sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  }
  if (!ok) {
    // nginx looks an unparsable address up as 255.255.255.255.
    auto* in4 = reinterpret_cast<sockaddr_in*>(&addr);
    std::memset(&addr, 0, sizeof(addr));
    in4->sin_family = AF_INET;
    in4->sin_addr.s_addr = INADDR_NONE;
  } else if (!g->proxies.empty()) {
    std::string_view xff = joinedHeader(r, "X-Forwarded-For");
    if (!xff.empty()) forwardedAddr(xff, g->proxies, g->proxyRecursive, &addr);
  }
  const std::string* v = lookup(*g, reinterpret_cast<const sockaddr*>(&addr));
  out->data = v != nullptr ? std::string_view(*v) : std::string_view();
  out->notFound = false;
  setIndexed(r, g->index, out->data);
}

const std::string* keep(Geo& g, const std::string& v) {
  for (const auto& s : g.values) {
    if (*s == v) return s.get();
  }
  g.values.push_back(std::make_unique<std::string>(v));
  return g.values.back().get();
}

bool parseIp4(std::string_view s, uint32_t* out) {
  sockaddr_in6 a;
  if (!parseAddr(s, &a) || a.sin6_family != AF_INET) return false;
  *out = ntohl(reinterpret_cast<sockaddr_in*>(&a)->sin_addr.s_addr);
  return true;
}

void warn(const ConfNode& n, const std::string& msg) {
  std::string where = n.where();
  LUNET_LOG(core::processLog(), core::Level::kWarn, 0, "%s in %s", msg.c_str(), where.c_str());
}

void addEntry(const ConfNode& n, Geo& g, bool* seenNet) {
  if (n.block) fail(n, "unexpected \"{\"");
  const std::string& key = n.name;
  if (n.args.empty()) {
    if (key == "ranges") {
      if (*seenNet)
        fail(n, "the \"ranges\" directive must be the first directive inside \"geo\" block");
      g.ranges = true;
      return;
    }
    if (key == "proxy_recursive") {
      g.proxyRecursive = true;
      return;
    }
  }
  if (n.args.size() != 1) fail(n, "invalid number of the geo parameters");
  const std::string& arg = n.arg(0);
  if (key == "proxy") {
    g.proxies.push_back(parseCidrArg(n, arg));
    return;
  }
  *seenNet = true;
  bool del = key == "delete";
  const std::string& net = del ? arg : key;
  const std::string* value = del ? nullptr : keep(g, arg);
  if (key == "default") {
    if (g.ranges) {
      g.dflt = value;
      return;
    }
    g.dflt = value;
    return;
  }
  if (g.ranges) {
    uint32_t s = 0, e = 0;
    size_t dash = net.find('-');
    if (dash == std::string::npos || !parseIp4(std::string_view(net).substr(0, dash), &s) ||
        !parseIp4(std::string_view(net).substr(dash + 1), &e) || s > e) {
      fail(n, "invalid range \"" + net + "\"");
    }
    bool had = putRange(g, s, e, value);
    if (del && !had) warn(n, "no address range \"" + net + "\" to delete");
    return;
  }
  Cidr c;
  CidrParse rc = parseCidr(net, &c);
  if (net == "255.255.255.255") {  // nginx's geo takes it bare (inet_addr cannot)
    c.family = AF_INET;
    std::memset(c.addr, 0xff, 4);
    std::memset(c.mask, 0xff, 4);
    rc = CidrParse::kOk;
  }
  if (rc == CidrParse::kError) fail(n, "invalid network \"" + net + "\"");
  if (rc == CidrParse::kLowBits) warn(n, "low address bits of " + net + " are meaningless");
  bool existed = false;
  const std::string* old = putNet(g, c, value, &existed);
  if (del && !existed) warn(n, "no network \"" + net + "\" to delete");
  if (!del && existed) {
    warn(n, "duplicate network \"" + net + "\", value: \"" + *value + "\", old value: \"" + *old +
                "\"");
  }
}

// geo [$address] $var { ... }
void setGeo(Engine& e, const ConfNode& n, ConfBase*, const Directive&) {
  auto* main = static_cast<GeoMain*>(e.cycle().confs[mod().index].get());
  auto g = std::make_unique<Geo>();
  const std::string& name = n.args.size() == 2 ? n.arg(1) : n.arg(0);
  if (name.size() < 2 || name[0] != '$') fail(n, "invalid variable name \"" + name + "\"");
  if (n.args.size() == 2) {
    const std::string& src = n.arg(0);
    if (src.size() < 2 || src[0] != '$') fail(n, "invalid variable name \"" + src + "\"");
    g->source.compile(n, src);
    g->hasSource = true;
  }
  bool seenNet = false;
  for (const ConfNode& c : n.children) addEntry(c, *g, &seenNet);
  for (const auto& [start, r] : g->rangeMap) g->sorted.push_back(r);
  std::string var = name.substr(1);
  Variable* v = addVariable(var, geoGet, reinterpret_cast<uintptr_t>(g.get()), 0);
  if (v->get != geoGet && !(v->flags & kVarChangeable)) {
    fail(n, "the duplicate \"" + var + "\" variable");
  }
  v->get = geoGet;
  v->data = reinterpret_cast<uintptr_t>(g.get());
  v->flags |= kVarChangeable;
  g->index = variableIndex(var, false);
  main->geos.push_back(std::move(g));
}

const Directive kDirectives[] = {
    {"geo", conf::kHttpMainCtx, conf::kBlock | conf::kTake12, setGeo, conf::Slot::kNone},
};

const conf::Module kModule{
    .name = "http_geo",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .nginxModules = "http_geo_module",
    .createMain = [] { return conf::ConfPtr(std::make_unique<GeoMain>()); },
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpGeoModule() { return kModule; }

}  // namespace lunet::http
