// The HTTP core module: http/server/location blocks, listen, server_name,
// limits, timeouts, root/alias, types, error_page; listeners per worker;
// content type and URI-to-path mapping. Location matching is in
// find_config.cc, the error pages in special_response.cc.
#include "http/core_module.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "conf/cycle.h"
#include "http/connection.h"
#include "process/process.h"
#include "shm/counters.h"

namespace lunet::http {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

namespace {

HttpCoreMain* gMain = nullptr;  // run time: the worker's cycle

const conf::Module& mod();

HttpCoreSrv* srvc(ConfBase* c) { return static_cast<HttpCoreSrv*>(c); }
HttpCoreLoc* locc(ConfBase* c) { return static_cast<HttpCoreLoc*>(c); }

struct PendingListen {
  HttpCoreSrv* srv;
  sockaddr_storage addr;
  socklen_t len;
  std::string text;
  bool def;
  bool reuseport;
  bool bind;
  int backlog;
};
std::vector<PendingListen> gListens;  // config time

bool isWildcard(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr.s_addr == htonl(INADDR_ANY);
  }
  if (ss.ss_family == AF_INET6) {
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr);
  }
  return false;
}

uint16_t portOf(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) return reinterpret_cast<const sockaddr_in*>(&ss)->sin_port;
  if (ss.ss_family == AF_INET6) return reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port;
  return 0;
}

}  // namespace

HttpCoreMain* coreMain() {
  if (gMain != nullptr) return gMain;
  conf::Cycle* c = conf::currentCycle();
  return c ? c->conf<HttpCoreMain>(mod()) : nullptr;
}
const HttpCoreLoc* coreLoc(const conf::ConfLevel* l) { return l->locConf<HttpCoreLoc>(mod()); }
const HttpCoreSrv* coreSrv(const conf::ConfLevel* l) { return l->srvConf<HttpCoreSrv>(mod()); }

namespace {

// ---- blocks ---------------------------------------------------------------------

void mergeLevel(Engine& e, conf::ConfLevel* parent, conf::ConfLevel* child) {
  for (const conf::Module* m : conf::allModules()) {
    if (m->type != conf::ModuleType::kHttp || !m->mergeLoc) continue;
    if (parent->loc[m->index] && child->loc[m->index]) {
      m->mergeLoc(e, parent->loc[m->index].get(), child->loc[m->index].get());
    }
  }
}

void mergeLocTree(Engine& e, HttpCoreLoc* loc) {
  auto all = [&](std::vector<HttpCoreLoc*>& v) {
    for (HttpCoreLoc* l : v) {
      mergeLevel(e, loc->level, l->level);
      mergeLocTree(e, l);
    }
  };
  all(loc->prefixLocs);
  all(loc->regexLocs);
  all(loc->namedLocs);
  all(loc->ifLocs);
}

void setHttp(Engine& e, const ConfNode& n, ConfBase*, const Directive&) {
  conf::Cycle& cycle = e.cycle();
  if (cycle.confs[mod().index]) fail(n, "\"http\" directive is duplicate");
  gListens.clear();
  auto lvl = e.newHttpLevel(*e.level(), true);
  for (const conf::Module* m : conf::allModules()) {
    if (m->type != conf::ModuleType::kHttp || !m->createMain) continue;
    cycle.confs[m->index] = m->createMain();
    lvl->main[m->index] = cycle.confs[m->index].get();
  }
  auto* cmcf = static_cast<HttpCoreMain*>(lvl->main[mod().index]);
  cmcf->level = lvl.get();
  conf::ConfLevel* http = lvl.get();
  cmcf->levels.push_back(std::move(lvl));
  auto* root = http->locConf<HttpCoreLoc>(mod());
  root->level = http;
  registerCoreVariables();
  e.processBlock(n.children, conf::kHttpMainCtx, http);

  for (const conf::Module* m : conf::allModules()) {
    if (m->type == conf::ModuleType::kHttp && m->initMain && http->main[m->index]) {
      m->initMain(e, http->main[m->index]);
    }
  }
  if (cmcf->servers.empty()) {
    // nginx runs an http{} without servers fine (no listeners).
  }
  checkUndefinedVariables();
  for (HttpCoreSrv* s : cmcf->servers) {
    for (const conf::Module* m : conf::allModules()) {
      if (m->type != conf::ModuleType::kHttp) continue;
      if (m->mergeSrv && http->srv[m->index] && s->level->srv[m->index]) {
        m->mergeSrv(e, http->srv[m->index].get(), s->level->srv[m->index].get());
      }
    }
    mergeLevel(e, http, s->level);
    mergeLocTree(e, s->rootLoc);
  }
  // Filters and phase handlers go into this cycle's tables; the process's
  // active tables change only in initProcess.
  struct LoadingGuard {
    explicit LoadingGuard(HttpCoreMain* m) { setLoadingMain(m); }
    ~LoadingGuard() { setLoadingMain(nullptr); }
  } guard(cmcf);
  // The shared counters' zone must exist before the master forks workers.
  {
    std::string err;
    if (!shm::bindCounters(e.cycle().zones, &err)) throw conf::ConfError(err);
  }
  resetFilters();
  for (const conf::Module* m : conf::allModules()) {
    if (m->type == conf::ModuleType::kHttp && m->postConfiguration) m->postConfiguration(e);
  }
  buildPhaseEngine(*cmcf);

  // Listening sockets: one per distinct address.
  for (const PendingListen& pl : gListens) {
    ListenAddr* a = nullptr;
    for (auto& x : cmcf->addrs) {
      if (x->addrLen == pl.len && std::memcmp(&x->addr, &pl.addr, pl.len) == 0) a = x.get();
    }
    if (a == nullptr) {
      cmcf->addrs.push_back(std::make_unique<ListenAddr>());
      a = cmcf->addrs.back().get();
      a->addr = pl.addr;
      a->addrLen = pl.len;
      a->text = pl.text;
    }
    if (std::find(a->servers.begin(), a->servers.end(), pl.srv) == a->servers.end()) {
      a->servers.push_back(pl.srv);
    }
    if (pl.def) {
      if (a->defaultServer != nullptr && a->defaultServer != pl.srv) {
        throw conf::ConfError("a duplicate default server for " + pl.text, n.file ? *n.file : "",
                              n.line);
      }
      a->defaultServer = pl.srv;
    }
    a->reuseport |= pl.reuseport;
    a->bind |= pl.bind || pl.reuseport;
    if (pl.backlog > 0) a->backlog = pl.backlog;
  }
  // As nginx: a specific address on a port that also has the wildcard gets
  // no socket of its own (unless `bind`): the wildcard socket accepts and
  // the connection's local address picks the specific servers table.
  for (auto& a : cmcf->addrs) {
    if (a->bind || isWildcard(a->addr)) continue;
    for (auto& w : cmcf->addrs) {
      if (w.get() != a.get() && isWildcard(w->addr) && w->addr.ss_family == a->addr.ss_family &&
          portOf(w->addr) == portOf(a->addr)) {
        w->subs.push_back(a.get());
        a->boundTo = w.get();
        break;
      }
    }
  }
  for (auto& a : cmcf->addrs) {
    if (a->defaultServer == nullptr) a->defaultServer = a->servers.front();
    if (a->boundTo != nullptr) continue;
    auto l = std::make_unique<conf::Listening>();
    l->text = a->text;
    l->addr = a->addr;
    l->addrLen = a->addrLen;
    l->backlog = a->backlog;
    l->reuseport = a->reuseport;
    l->owner = a.get();
    cycle.listening.push_back(std::move(l));
  }
  gListens.clear();
}

void setServer(Engine& e, const ConfNode& n, ConfBase*, const Directive&) {
  HttpCoreMain* cmcf = coreMain();
  auto lvl = e.newHttpLevel(*e.level(), true);
  conf::ConfLevel* l = lvl.get();
  cmcf->levels.push_back(std::move(lvl));
  auto* s = l->srvConf<HttpCoreSrv>(mod());
  s->level = l;
  auto* root = l->locConf<HttpCoreLoc>(mod());
  root->level = l;
  root->match = LocMatch::kServer;
  s->rootLoc = root;
  cmcf->servers.push_back(s);
  e.processBlock(n.children, conf::kHttpSrvCtx, l);
  if (!s->listenSeen) {
    PendingListen pl{};
    auto* sin = reinterpret_cast<sockaddr_in*>(&pl.addr);
    sin->sin_family = AF_INET;
    int port = ::geteuid() == 0 ? 80 : 8000;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    pl.len = sizeof(sockaddr_in);
    pl.text = "0.0.0.0:" + std::to_string(port);
    pl.srv = s;
    gListens.push_back(pl);
  }
  if (s->names.empty()) s->names.push_back(ServerName{"", nullptr});
  s->firstName = s->names.front().name;
}

HttpCoreLoc* findIn(std::vector<HttpCoreLoc*>& v, const std::string& name, LocMatch m) {
  for (HttpCoreLoc* l : v) {
    if (l->name == name &&
        (l->match == m || (m != LocMatch::kExact && l->match != LocMatch::kExact &&
                           l->match != LocMatch::kRegex && l->match != LocMatch::kRegexCaseless))) {
      return l;
    }
  }
  return nullptr;
}

void setLocation(Engine& e, const ConfNode& n, ConfBase* conf, const Directive&) {
  HttpCoreLoc* parent = locc(conf);
  if (parent->match == LocMatch::kExact) {
    fail(n, "location \"" + n.arg(0) + "\" cannot be inside the exact location \"" + parent->name +
                "\"");
  }
  if (parent->match == LocMatch::kNamed) {
    fail(n, "location \"" + n.arg(0) + "\" cannot be inside the named location \"" + parent->name +
                "\"");
  }
  LocMatch match = LocMatch::kPrefix;
  std::string name;
  if (n.args.size() == 2) {
    const std::string& m = n.arg(0);
    name = n.arg(1);
    if (m == "=") {
      match = LocMatch::kExact;
    } else if (m == "^~") {
      match = LocMatch::kNoRegex;
    } else if (m == "~") {
      match = LocMatch::kRegex;
    } else if (m == "~*") {
      match = LocMatch::kRegexCaseless;
    } else {
      fail(n, "invalid location modifier \"" + m + "\"");
    }
  } else {
    name = n.arg(0);
    if (name.size() > 1 && name[0] == '=') {
      match = LocMatch::kExact;
      name = name.substr(1);
    } else if (name.size() > 2 && name[0] == '^' && name[1] == '~') {
      match = LocMatch::kNoRegex;
      name = name.substr(2);
    } else if (name.size() > 2 && name[0] == '~' && name[1] == '*') {
      match = LocMatch::kRegexCaseless;
      name = name.substr(2);
    } else if (name.size() > 1 && name[0] == '~') {
      match = LocMatch::kRegex;
      name = name.substr(1);
    } else if (name[0] == '@') {
      match = LocMatch::kNamed;
    }
  }
  if (match == LocMatch::kNamed && parent->match != LocMatch::kServer) {
    fail(n, "named location \"" + name + "\" can be on the server level only");
  }
  std::unique_ptr<Regex> re;
  if (match == LocMatch::kRegex || match == LocMatch::kRegexCaseless) {
    std::string err;
    re.reset(Regex::compile(name, match == LocMatch::kRegexCaseless, &err));
    if (!re) fail(n, err);
  } else if (match != LocMatch::kNamed && parent->match != LocMatch::kServer &&
             parent->match != LocMatch::kRegex && parent->match != LocMatch::kRegexCaseless &&
             name.compare(0, parent->name.size(), parent->name) != 0) {
    fail(n, "location \"" + name + "\" is outside location \"" + parent->name + "\"");
  }
  std::vector<HttpCoreLoc*>& list = match == LocMatch::kNamed ? parent->namedLocs
                                    : re                      ? parent->regexLocs
                                                              : parent->prefixLocs;
  if (!re && findIn(list, name, match)) fail(n, "duplicate location \"" + name + "\"");
  HttpCoreMain* cmcf = coreMain();
  auto lvl = e.newHttpLevel(*e.level(), false);
  conf::ConfLevel* l = lvl.get();
  cmcf->levels.push_back(std::move(lvl));
  auto* loc = l->locConf<HttpCoreLoc>(mod());
  loc->level = l;
  loc->name = name;
  loc->match = match;
  loc->regex = std::move(re);
  loc->parentLoc = parent;
  list.push_back(loc);
  e.processBlock(n.children, conf::kHttpLocCtx, l);
}

// ---- simple directives -----------------------------------------------------------

bool parseAddr(const std::string& text, sockaddr_storage* ss, socklen_t* len) {
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size() && text[close + 1] == ':')
      port = text.substr(close + 2);
    else
      port = "80";
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      bool digits = !text.empty() && std::all_of(text.begin(), text.end(), ::isdigit);
      if (digits) {
        host = "0.0.0.0";
        port = text;
      } else {
        host = text;
        port = "80";
      }
    } else {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (host == "*") host = "0.0.0.0";
    }
  }
  if (port.empty() || !std::all_of(port.begin(), port.end(), ::isdigit)) return false;
  int p = std::atoi(port.c_str());
  if (p <= 0 || p > 65535) return false;
  std::memset(ss, 0, sizeof(*ss));
  auto* s4 = reinterpret_cast<sockaddr_in*>(ss);
  auto* s6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET, host.c_str(), &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons(static_cast<uint16_t>(p));
    *len = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(static_cast<uint16_t>(p));
    *len = sizeof(sockaddr_in6);
    return true;
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) return false;
  std::memcpy(ss, res->ai_addr, res->ai_addrlen);
  *len = static_cast<socklen_t>(res->ai_addrlen);
  s4->sin_port = htons(static_cast<uint16_t>(p));
  freeaddrinfo(res);
  return true;
}

void setListen(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  HttpCoreSrv* s = srvc(c);
  s->listenSeen = true;
  PendingListen pl{};
  pl.srv = s;
  if (n.arg(0).rfind("unix:", 0) == 0)
    fail(n, "unix domain sockets are not supported in \"listen\"");
  if (!parseAddr(n.arg(0), &pl.addr, &pl.len)) {
    fail(n, "host not found in \"" + n.arg(0) + "\" of the \"listen\" directive");
  }
  pl.text = n.arg(0);
  if (pl.text.find(':') == std::string::npos) pl.text = "0.0.0.0:" + pl.text;
  for (size_t i = 1; i < n.args.size(); i++) {
    const std::string& a = n.arg(i);
    if (a == "default_server" || a == "default") {
      pl.def = true;
    } else if (a == "reuseport") {
      pl.reuseport = true;
    } else if (a.rfind("backlog=", 0) == 0) {
      pl.backlog = std::atoi(a.c_str() + 8);
      if (pl.backlog <= 0) fail(n, "invalid backlog \"" + a.substr(8) + "\"");
      pl.bind = true;
    } else if (a == "bind" || a == "deferred" || a.rfind("so_keepalive=", 0) == 0 ||
               a.rfind("rcvbuf=", 0) == 0 || a.rfind("sndbuf=", 0) == 0 ||
               a.rfind("ipv6only=", 0) == 0 || a.rfind("fastopen", 0) == 0) {
      // nginx implies `bind` for socket options; the tuning itself is ignored
      pl.bind = true;
    } else {
      fail(n, "invalid parameter \"" + a + "\"");
    }
  }
  gListens.push_back(pl);
}

// limit_except METHOD ... { allow all; | deny all; }
void setLimitExcept(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  HttpCoreLoc* l = locc(c);
  if (l->limitExcept != 0) fail(n, "\"limit_except\" directive is duplicate");
  static const std::pair<const char*, uint32_t> kMethods[] = {
      {"GET", kGet | kHead}, {"HEAD", kHead},       {"POST", kPost},   {"PUT", kPut},
      {"DELETE", kDelete},   {"OPTIONS", kOptions}, {"PATCH", kPatch},
  };
  static const char* const kWebDav[] = {"MKCOL",     "COPY", "MOVE",  "PROPFIND",
                                        "PROPPATCH", "LOCK", "UNLOCK"};
  uint32_t mask = 0;
  for (const auto& a : n.args) {
    std::string m = a.value;
    std::transform(m.begin(), m.end(), m.begin(), ::toupper);
    bool found = false;
    for (const auto& [name, bit] : kMethods) {
      if (m == name) {
        mask |= bit;
        found = true;
      }
    }
    for (const char* name : kWebDav) {
      if (m == name) fail(n, "method \"" + a.value + "\" in \"limit_except\" is not supported");
    }
    if (!found) fail(n, "invalid method \"" + a.value + "\"");
  }
  bool deny = false;
  for (const ConfNode& ch : n.children) {
    if ((ch.name == "deny" || ch.name == "allow") && ch.args.size() == 1 && ch.arg(0) == "all") {
      deny = ch.name == "deny";
      break;  // the first matching rule wins
    }
    fail(ch, "\"" + ch.name + (ch.args.empty() ? "" : " " + ch.arg(0)) +
                 "\" is not supported inside \"limit_except\" (only \"allow all\" and \"deny "
                 "all\")");
  }
  l->limitExcept = mask;
  l->limitExceptDeny = deny;
}

void setServerName(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  HttpCoreSrv* s = srvc(c);
  for (const auto& a : n.args) {
    std::string name = a.value;
    if (!name.empty() && name[0] == '~') {
      std::string err;
      Regex* re = Regex::compile(name.substr(1), true, &err);
      if (!re) fail(n, err);
      s->names.push_back(ServerName{name, std::unique_ptr<Regex>(re)});
      continue;
    }
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    if (name.find('*') != std::string::npos &&
        !(name.size() > 2 && ((name[0] == '*' && name[1] == '.') ||
                              (name.back() == '*' && name[name.size() - 2] == '.')))) {
      fail(n, "invalid server name or wildcard \"" + name + "\" on " + n.where());
    }
    if (name == "$hostname") {
      char hn[256] = {0};
      gethostname(hn, sizeof(hn) - 1);
      name = hn;
    }
    s->names.push_back(ServerName{name, nullptr});
  }
}

void setRoot(Engine&, const ConfNode& n, ConfBase* c, const Directive& d) {
  HttpCoreLoc* l = locc(c);
  bool alias = d.name == "alias";
  if (l->rootSet) {
    if (l->alias != alias) {
      fail(n, "\"" + n.name + "\" directive is duplicate, \"" + (l->alias ? "alias" : "root") +
                  "\" directive was specified earlier");
    }
    fail(n, "\"" + n.name + "\" directive is duplicate");
  }
  if (alias && l->match == LocMatch::kNamed) {
    fail(n, "\"alias\" directive cannot be used inside the named location");
  }
  l->rootSet = true;
  l->alias = alias;
  std::string v = n.arg(0);
  if (!alias && v.size() > 1 && v.back() == '/') v.pop_back();
  l->root = v;
  l->aliasLen = alias ? l->name.size() : 0;
  l->rootValue.compile(n, v);
}

void setTypes(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  HttpCoreLoc* l = locc(c);
  if (!l->ownTypes) l->ownTypes = std::make_unique<std::unordered_map<std::string, std::string>>();
  for (const ConfNode& t : n.children) {
    if (t.name == "include") continue;
    if (t.block) fail(t, "unexpected \"{\"");
    for (const auto& ext : t.args) {
      std::string e = ext.value;
      std::transform(e.begin(), e.end(), e.begin(), ::tolower);
      (*l->ownTypes)[e] = t.name;
    }
  }
  l->types = l->ownTypes.get();
}

void setDefaultType(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  locc(c)->defaultType = n.arg(0);
}

void setLargeBuffers(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  HttpCoreSrv* s = srvc(c);
  s->largeHeaderBuffersNum = conf::parseNumber(n, 0);
  s->largeHeaderBuffersSize = conf::parseSize(n, 1);
  if (s->largeHeaderBuffersNum <= 0 || s->largeHeaderBuffersSize <= 0) {
    fail(n, "invalid value \"" + n.arg(0) + "\"");
  }
}

void setKeepaliveTimeout(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  HttpCoreLoc* l = locc(c);
  l->keepaliveTimeout = conf::parseMsec(n, 0);
  if (n.args.size() == 2) {
    // nginx parses header_timeout in seconds: "ms" is not a unit here.
    const std::string& v = n.arg(1);
    if (v.size() >= 2 && v.compare(v.size() - 2, 2, "ms") == 0) {
      fail(n, "\"keepalive_timeout\" directive invalid value");
    }
    l->keepaliveHeader = conf::parseMsec(n, 1) / 1000;
  }
}

void setLingeringClose(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  const std::string& v = n.arg(0);
  HttpCoreLoc* l = locc(c);
  if (v == "off")
    l->lingeringClose = 0;
  else if (v == "on")
    l->lingeringClose = 1;
  else if (v == "always")
    l->lingeringClose = 2;
  else
    fail(n, "invalid value \"" + v + "\" in \"lingering_close\" directive");
}

// satisfy all | any (nginx's ngx_http_core_module; the access phase in
// request.cc applies it across access, auth_basic, ...).
void setSatisfy(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  const std::string& v = n.arg(0);
  HttpCoreLoc* l = locc(c);
  if (l->satisfy != -1) fail(n, "\"satisfy\" directive is duplicate");
  if (v == "all")
    l->satisfy = 0;
  else if (v == "any")
    l->satisfy = 1;
  else
    fail(n, "invalid value \"" + v + "\" in \"satisfy\" directive, it must be \"all\" or \"any\"");
}

void setIfModifiedSince(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  const std::string& v = n.arg(0);
  HttpCoreLoc* l = locc(c);
  if (v == "off")
    l->ifModifiedSince = 0;
  else if (v == "exact")
    l->ifModifiedSince = 1;
  else if (v == "before")
    l->ifModifiedSince = 2;
  else
    fail(n, "invalid value \"" + v + "\" in \"if_modified_since\" directive");
}

void setServerTokens(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  const std::string& v = n.arg(0);
  HttpCoreLoc* l = locc(c);
  if (v == "off")
    l->serverTokens = 0;
  else if (v == "on")
    l->serverTokens = 1;
  else if (v == "build")
    l->serverTokens = 1;
  else
    fail(n, "invalid value \"" + v + "\" in \"server_tokens\" directive");
}

void setInternal(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  HttpCoreLoc* l = locc(c);
  if (l->internalSeen) fail(n, "\"internal\" directive is duplicate");
  l->internal = l->internalSeen = true;
}

void setErrorPage(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  HttpCoreLoc* l = locc(c);
  size_t last = n.args.size() - 1;
  int overwrite = -1;
  size_t end = last;
  const std::string& maybe = n.arg(last - 1);
  if (!maybe.empty() && maybe[0] == '=') {
    end = last - 1;
    if (maybe.size() == 1) {
      overwrite = 0;
    } else {
      overwrite = std::atoi(maybe.c_str() + 1);
      if (overwrite <= 0 || overwrite > 999) fail(n, "invalid value \"" + maybe + "\"");
    }
  }
  if (end == 0) fail(n, "invalid number of arguments in \"error_page\" directive");
  for (size_t i = 0; i < end; i++) {
    const std::string& codeS = n.arg(i);
    int code = std::atoi(codeS.c_str());
    if (code < 300 || code > 599) fail(n, "value \"" + codeS + "\" must be between 300 and 599");
    if (code == 499) fail(n, "value \"" + codeS + "\" must be between 300 and 599");
    ErrorPage ep;
    ep.status = code;
    ep.overwrite = overwrite;
    ep.uri.compile(n, n.arg(last));
    l->errorPages.push_back(std::move(ep));
  }
  l->errorPagesSet = true;
}

void setHttpErrorLog(Engine& e, const ConfNode& n, ConfBase* c, const Directive&) {
  HttpCoreLoc* l = locc(c);
  core::Level level = core::Level::kError;
  if (n.args.size() >= 2 && !core::parseLevel(n.arg(1), &level)) {
    fail(n, "invalid log level \"" + n.arg(1) + "\"");
  }
  if (!l->ownErrorLog) l->ownErrorLog = std::make_unique<core::ErrorLog>();
  std::string path = n.arg(0);
  if (path != "stderr") path = e.cycle().fullPath(path);
  int err = l->ownErrorLog->add(path, level);
  if (err != 0) fail(n, "open() \"" + path + "\" failed (" + std::strerror(err) + ")");
}

using C = HttpCoreLoc;
using S = HttpCoreSrv;
constexpr uint32_t kMainSrvLoc = conf::kHttpMainCtx | conf::kHttpSrvCtx | conf::kHttpLocCtx;
constexpr uint32_t kMainSrv = conf::kHttpMainCtx | conf::kHttpSrvCtx;
constexpr uint32_t kAllLoc = kMainSrvLoc | conf::kHttpLifCtx | conf::kHttpSifCtx;

const Directive kDirectives[] = {
    {"http", conf::kMainCtx, conf::kBlock | conf::kNoArgs, setHttp, conf::Slot::kNone},
    {"server", conf::kHttpMainCtx, conf::kBlock | conf::kNoArgs, setServer, conf::Slot::kNone},
    {"location", conf::kHttpSrvCtx | conf::kHttpLocCtx, conf::kBlock | conf::kTake12, setLocation,
     conf::Slot::kLoc},
    {"listen", conf::kHttpSrvCtx, conf::k1More, setListen, conf::Slot::kSrv},
    {"limit_except", conf::kHttpLocCtx, conf::kBlock | conf::k1More, setLimitExcept,
     conf::Slot::kLoc},
    {"server_name", conf::kHttpSrvCtx, conf::k1More, setServerName, conf::Slot::kSrv},
    {"root", kAllLoc, conf::kTake1, setRoot, conf::Slot::kLoc},
    {"alias", conf::kHttpLocCtx, conf::kTake1, setRoot, conf::Slot::kLoc},
    {"types", kMainSrvLoc, conf::kBlock | conf::kNoArgs, setTypes, conf::Slot::kLoc},
    {"default_type", kMainSrvLoc, conf::kTake1, setDefaultType, conf::Slot::kLoc},
    {"internal", conf::kHttpLocCtx, conf::kNoArgs, setInternal, conf::Slot::kLoc},
    {"error_page", kAllLoc, conf::k2More, setErrorPage, conf::Slot::kLoc},
    {"error_log", kMainSrvLoc, conf::kTake12, setHttpErrorLog, conf::Slot::kLoc},
    {"client_header_buffer_size", kMainSrv, conf::kTake1, conf::setSize<&S::clientHeaderBufferSize>,
     conf::Slot::kSrv},
    {"large_client_header_buffers", kMainSrv, conf::kTake2, setLargeBuffers, conf::Slot::kSrv},
    {"client_header_timeout", kMainSrv, conf::kTake1, conf::setMsec<&S::clientHeaderTimeout>,
     conf::Slot::kSrv},
    {"merge_slashes", kMainSrv, conf::kFlag, conf::setFlag<&S::mergeSlashes>, conf::Slot::kSrv},
    {"underscores_in_headers", kMainSrv, conf::kFlag, conf::setFlag<&S::underscoresInHeaders>,
     conf::Slot::kSrv},
    {"ignore_invalid_headers", kMainSrv, conf::kFlag, conf::setFlag<&S::ignoreInvalidHeaders>,
     conf::Slot::kSrv},
    {"client_max_body_size", kMainSrvLoc, conf::kTake1, conf::setSize<&C::clientMaxBodySize>,
     conf::Slot::kLoc},
    {"client_body_buffer_size", kMainSrvLoc, conf::kTake1, conf::setSize<&C::clientBodyBufferSize>,
     conf::Slot::kLoc},
    {"client_body_timeout", kMainSrvLoc, conf::kTake1, conf::setMsec<&C::clientBodyTimeout>,
     conf::Slot::kLoc},
    {"send_timeout", kMainSrvLoc, conf::kTake1, conf::setMsec<&C::sendTimeout>, conf::Slot::kLoc},
    {"keepalive_timeout", kMainSrvLoc, conf::kTake12, setKeepaliveTimeout, conf::Slot::kLoc},
    {"keepalive_requests", kMainSrvLoc, conf::kTake1, conf::setNumber<&C::keepaliveRequests>,
     conf::Slot::kLoc},
    {"lingering_close", kMainSrvLoc, conf::kTake1, setLingeringClose, conf::Slot::kLoc},
    {"satisfy", kMainSrvLoc, conf::kTake1, setSatisfy, conf::Slot::kLoc},
    {"lingering_time", kMainSrvLoc, conf::kTake1, conf::setMsec<&C::lingeringTime>,
     conf::Slot::kLoc},
    {"lingering_timeout", kMainSrvLoc, conf::kTake1, conf::setMsec<&C::lingeringTimeout>,
     conf::Slot::kLoc},
    {"sendfile", kMainSrvLoc | conf::kHttpLifCtx, conf::kFlag, conf::setFlag<&C::sendfile>,
     conf::Slot::kLoc},
    {"tcp_nodelay", kMainSrvLoc, conf::kFlag, conf::setFlag<&C::tcpNodelay>, conf::Slot::kLoc},
    {"tcp_nopush", kMainSrvLoc, conf::kFlag, conf::setIgnored, conf::Slot::kNone},
    {"server_tokens", kMainSrvLoc, conf::kTake1, setServerTokens, conf::Slot::kLoc},
    {"etag", kMainSrvLoc, conf::kFlag, conf::setFlag<&C::etag>, conf::Slot::kLoc},
    {"if_modified_since", kMainSrvLoc, conf::kTake1, setIfModifiedSince, conf::Slot::kLoc},
    {"log_not_found", kMainSrvLoc, conf::kFlag, conf::setFlag<&C::logNotFound>, conf::Slot::kLoc},
    {"absolute_redirect", kMainSrvLoc, conf::kFlag, conf::setFlag<&C::absoluteRedirect>,
     conf::Slot::kLoc},
    {"server_name_in_redirect", kMainSrvLoc, conf::kFlag, conf::setFlag<&C::serverNameInRedirect>,
     conf::Slot::kLoc},
    {"port_in_redirect", kMainSrvLoc, conf::kFlag, conf::setFlag<&C::portInRedirect>,
     conf::Slot::kLoc},
    {"recursive_error_pages", kMainSrvLoc, conf::kFlag, conf::setFlag<&C::recursiveErrorPages>,
     conf::Slot::kLoc},
    {"chunked_transfer_encoding", kMainSrvLoc, conf::kFlag,
     conf::setFlag<&C::chunkedTransferEncoding>, conf::Slot::kLoc},
    {"msie_padding", kMainSrvLoc, conf::kFlag, conf::setFlag<&C::msie_padding>, conf::Slot::kLoc},
    // Temp paths: Lunet buffers bodies in memory and never spills to disk
    // for these modules, so the paths have no effect.
    {"client_body_temp_path", kMainSrvLoc, conf::kTake1234, conf::setIgnored, conf::Slot::kNone},
    {"proxy_temp_path", kMainSrvLoc, conf::kTake1234, conf::setIgnored, conf::Slot::kNone},
    {"fastcgi_temp_path", kMainSrvLoc, conf::kTake1234, conf::setIgnored, conf::Slot::kNone},
    {"uwsgi_temp_path", kMainSrvLoc, conf::kTake1234, conf::setIgnored, conf::Slot::kNone},
    {"scgi_temp_path", kMainSrvLoc, conf::kTake1234, conf::setIgnored, conf::Slot::kNone},
    // Hash sizing knobs: Lunet's tables grow as needed.
    {"variables_hash_max_size", conf::kHttpMainCtx, conf::kTake1, conf::setIgnored,
     conf::Slot::kNone},
    {"variables_hash_bucket_size", conf::kHttpMainCtx, conf::kTake1, conf::setIgnored,
     conf::Slot::kNone},
    {"server_names_hash_max_size", conf::kHttpMainCtx, conf::kTake1, conf::setIgnored,
     conf::Slot::kNone},
    {"server_names_hash_bucket_size", conf::kHttpMainCtx, conf::kTake1, conf::setIgnored,
     conf::Slot::kNone},
    {"types_hash_max_size", kMainSrvLoc, conf::kTake1, conf::setIgnored, conf::Slot::kNone},
    {"types_hash_bucket_size", kMainSrvLoc, conf::kTake1, conf::setIgnored, conf::Slot::kNone},
    {"reset_timedout_connection", kMainSrvLoc, conf::kFlag, conf::setIgnored, conf::Slot::kNone},
};

conf::ConfPtr createMain() { return std::make_unique<HttpCoreMain>(); }
conf::ConfPtr createSrv() { return std::make_unique<HttpCoreSrv>(); }
conf::ConfPtr createLoc() { return std::make_unique<HttpCoreLoc>(); }

void mergeSrv(Engine&, ConfBase* p, ConfBase* ch) {
  auto* pa = srvc(p);
  auto* c = srvc(ch);
  using conf::mergeValue;
  mergeValue(c->clientHeaderBufferSize, pa->clientHeaderBufferSize, int64_t{1024});
  mergeValue(c->largeHeaderBuffersNum, pa->largeHeaderBuffersNum, int64_t{4});
  mergeValue(c->largeHeaderBuffersSize, pa->largeHeaderBuffersSize, int64_t{8192});
  mergeValue(c->clientHeaderTimeout, pa->clientHeaderTimeout, int64_t{60000});
  mergeValue(c->mergeSlashes, pa->mergeSlashes, int64_t{1});
  mergeValue(c->underscoresInHeaders, pa->underscoresInHeaders, int64_t{0});
  mergeValue(c->ignoreInvalidHeaders, pa->ignoreInvalidHeaders, int64_t{1});
  if (c->clientHeaderBufferSize < 16) c->clientHeaderBufferSize = 16;
}

void mergeLoc(Engine&, ConfBase* p, ConfBase* ch) {
  auto* pa = locc(p);
  auto* c = locc(ch);
  using conf::mergeValue;
  if (!c->rootSet && pa->rootSet) {
    c->root = pa->root;
    c->alias = pa->alias;
    c->rootValue = pa->rootValue;
    c->aliasLen = pa->aliasLen;
    c->rootSet = true;
  }
  if (!c->rootSet) {
    c->root = "html";
    c->rootSet = true;
    conf::ConfNode dummy;
    c->rootValue.compile(dummy, "html");
  }
  if (!c->types) c->types = pa->types;
  if (!c->types) {
    // nginx's built-in types when no types{} is configured anywhere.
    static std::unordered_map<std::string, std::string> kDefault{
        {"html", "text/html"}, {"gif", "image/gif"}, {"jpg", "image/jpeg"}};
    c->types = &kDefault;
  }
  if (!c->defaultType) c->defaultType = pa->defaultType ? pa->defaultType : "text/plain";
  mergeValue(c->clientMaxBodySize, pa->clientMaxBodySize, int64_t{1024 * 1024});
  mergeValue(c->clientBodyBufferSize, pa->clientBodyBufferSize, int64_t{16384});
  mergeValue(c->clientBodyTimeout, pa->clientBodyTimeout, int64_t{60000});
  mergeValue(c->sendTimeout, pa->sendTimeout, int64_t{60000});
  mergeValue(c->keepaliveTimeout, pa->keepaliveTimeout, int64_t{75000});
  mergeValue(c->keepaliveHeader, pa->keepaliveHeader, int64_t{0});
  mergeValue(c->keepaliveRequests, pa->keepaliveRequests, int64_t{1000});
  mergeValue(c->lingeringClose, pa->lingeringClose, int64_t{1});
  mergeValue(c->satisfy, pa->satisfy, int64_t{0});
  mergeValue(c->lingeringTime, pa->lingeringTime, int64_t{30000});
  mergeValue(c->lingeringTimeout, pa->lingeringTimeout, int64_t{5000});
  mergeValue(c->sendfile, pa->sendfile, int64_t{0});
  mergeValue(c->tcpNodelay, pa->tcpNodelay, int64_t{1});
  mergeValue(c->serverTokens, pa->serverTokens, int64_t{1});
  mergeValue(c->etag, pa->etag, int64_t{1});
  mergeValue(c->ifModifiedSince, pa->ifModifiedSince, int64_t{1});
  mergeValue(c->logNotFound, pa->logNotFound, int64_t{1});
  mergeValue(c->absoluteRedirect, pa->absoluteRedirect, int64_t{1});
  mergeValue(c->serverNameInRedirect, pa->serverNameInRedirect, int64_t{0});
  mergeValue(c->portInRedirect, pa->portInRedirect, int64_t{1});
  mergeValue(c->msie_padding, pa->msie_padding, int64_t{1});
  mergeValue(c->recursiveErrorPages, pa->recursiveErrorPages, int64_t{0});
  mergeValue(c->chunkedTransferEncoding, pa->chunkedTransferEncoding, int64_t{1});
  if (!c->errorPagesSet && pa->errorPagesSet) {
    c->errorPages = pa->errorPages;
    c->errorPagesSet = true;
  }
  if (!c->ownErrorLog && pa->ownErrorLog) {
    // share the parent's sinks: copy the paths
    c->ownErrorLog = std::make_unique<core::ErrorLog>();
    for (const auto& s : pa->ownErrorLog->sinks()) c->ownErrorLog->add(s.path, s.level);
  }
}

// ---- worker side ------------------------------------------------------------------

void onConnection(uv_stream_t* server, int status) {
  if (status != 0) return;
  auto* a = static_cast<ListenAddr*>(server->data);
  acceptConnection(server, a);
}

void initProcess(conf::Cycle& cycle) {
  auto* cmcf = cycle.conf<HttpCoreMain>(mod());
  if (cmcf == nullptr) return;
  gMain = cmcf;
  installTables(cmcf);
  if (conf::processType() == conf::ProcessType::kPrivilegedAgent) return;
  int64_t listening = 0;
  for (auto& lp : cycle.listening) {
    conf::Listening& l = *lp;
    auto* a = static_cast<ListenAddr*>(l.owner);
    bool mine = false;
    for (auto& x : cmcf->addrs) mine |= x.get() == a;
    if (!mine) continue;
    int fd = l.fd;
    if (l.reuseport && !l.fds.empty()) {
      int id = process::workerId();
      fd = l.fds[static_cast<size_t>(id >= 0 ? id : 0) % l.fds.size()];
    }
    if (fd < 0) continue;
    LUNET_UV_CHECK(uv_tcp_init(event::loop(), a->handle.get()));
    a->handle.markInitialized();
    a->handle->data = a;
    int rc = uv_tcp_open(a->handle.get(), fd);
    if (rc == 0) rc = uv_listen(a->handle.stream(), a->backlog, onConnection);
    if (rc != 0) {
      core::processLog().error(core::Level::kAlert, -rc, "listen() to %s failed", a->text.c_str());
    } else {
      listening++;
    }
  }
  setConnectionLimit(cycle.core().workerConnections, listening);
}

void shutdownProcess(conf::Cycle& cycle) {
  auto* cmcf = cycle.conf<HttpCoreMain>(mod());
  if (cmcf == nullptr) return;
  for (auto& a : cmcf->addrs) {
    // The fd belongs to the cycle (the master closes it); libuv closing the
    // handle would close it too, which is fine in a worker that is leaving.
    a->handle.reset();
  }
  shutdownConnections();
}

void exitProcess(conf::Cycle&) { gMain = nullptr; }

const conf::Module kModule{
    .name = "http_core",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    // http{} itself, and regex locations/server names with PCRE2's JIT.
    .nginxModules = "http pcre pcre-jit",
    .createMain = createMain,
    .createSrv = createSrv,
    .createLoc = createLoc,
    .mergeSrv = mergeSrv,
    .mergeLoc = mergeLoc,
    .initProcess = initProcess,
    .shutdownProcess = shutdownProcess,
    .exitProcess = exitProcess,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpCoreModule() { return kModule; }

void setContentType(Request& r) noexcept {
  const HttpCoreLoc* l = r.clcf();
  if (!r.headersOut.contentType.empty()) return;
  if (l->types != nullptr && !r.exten.empty()) {
    char buf[32];
    std::string key;
    bool hasUpper = false;
    for (char ch : r.exten) hasUpper |= (ch >= 'A' && ch <= 'Z');
    if (r.exten.size() < sizeof(buf)) {
      for (size_t i = 0; i < r.exten.size(); i++) {
        char ch = r.exten[i];
        buf[i] = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch | 0x20) : ch;
      }
      key.assign(buf, r.exten.size());
      (void)hasUpper;
      auto it = l->types->find(key);
      if (it != l->types->end()) {
        r.headersOut.contentType = it->second;
        return;
      }
    }
  }
  r.headersOut.contentType = *l->defaultType;
}

std::string_view mapUriToPath(Request& r, size_t* rootLen, size_t reserve) noexcept {
  const HttpCoreLoc* l = r.clcf();
  std::string_view root =
      l->rootValue.isLiteral() ? std::string_view(l->rootValue.literal()) : l->rootValue.eval(r);
  std::string_view uri = r.uri;
  if (l->alias) {
    if (l->match == LocMatch::kRegex || l->match == LocMatch::kRegexCaseless) {
      uri = {};  // regex alias: the alias is the whole path
    } else if (uri.size() >= l->aliasLen) {
      uri = uri.substr(l->aliasLen);
    }
  }
  std::string prefix;
  bool rel = root.empty() || root[0] != '/';
  std::string_view pfx;
  if (rel) {
    conf::Cycle* c = conf::currentCycle();
    pfx = c->options.prefix;
  }
  size_t total = pfx.size() + root.size() + uri.size() + reserve + 1;
  char* p = static_cast<char*>(r.arena.alloc(total, 1));
  char* o = p;
  if (!pfx.empty()) std::memcpy(o, pfx.data(), pfx.size());
  o += pfx.size();
  if (!root.empty()) std::memcpy(o, root.data(), root.size());
  o += root.size();
  *rootLen = static_cast<size_t>(o - p);
  if (!uri.empty()) std::memcpy(o, uri.data(), uri.size());
  o += uri.size();
  *o = '\0';
  return {p, static_cast<size_t>(o - p)};
}

HttpCoreLoc* newIfLevel(Engine& e, const ConfNode& n, uint32_t ctx) {
  HttpCoreMain* cmcf = coreMain();
  conf::ConfLevel* parentLevel = e.level();
  auto* parent = parentLevel->locConf<HttpCoreLoc>(httpCoreModule());
  auto lvl = e.newHttpLevel(*parentLevel, false);
  conf::ConfLevel* l = lvl.get();
  cmcf->levels.push_back(std::move(lvl));
  auto* loc = l->locConf<HttpCoreLoc>(httpCoreModule());
  loc->level = l;
  loc->name = parent->name;
  loc->match = parent->match == LocMatch::kServer ? LocMatch::kPrefix : parent->match;
  loc->aliasLen = parent->aliasLen;
  loc->parentLoc = parent;
  parent->ifLocs.push_back(loc);
  e.processBlock(n.children, ctx, l);
  return loc;
}

}  // namespace lunet::http
