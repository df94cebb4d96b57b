// valid_referers and $invalid_referer (nginx's ngx_http_referer_module):
// $invalid_referer is "" when the Referer header names an allowed site
// (host, wildcard, host/uri prefix, regex, this server's names), "1" if not.
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "conf/cycle.h"
#include "http/core_module.h"
#include "http/modules/modules.h"
#include "http/regex.h"
#include "http/variables.h"

namespace lunet::http {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

const conf::Module& mod();

using Uri = std::optional<std::string>;  // nullopt: any uri

struct Wild {
  std::string part;   // ".example.com" (head) or "www.example." (tail)
  bool bare = false;  // ".example.com" matches "example.com" too
  Uri uri;
};

struct RefererLoc : ConfBase {
  bool set = false;
  bool none = false;
  bool blocked = false;
  bool serverNames = false;
  std::unordered_map<std::string, Uri> exact;
  std::vector<Wild> heads, tails;
  std::vector<std::shared_ptr<Regex>> regexes;
  int64_t hashMaxSize = -1;
  int64_t hashBucketSize = -1;
};

struct RefererMain : ConfBase {};

std::string lowered(std::string_view s) {
  std::string o(s);
  for (char& c : o) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
  }
  return o;
}

bool endsWith(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// The uri rule for `host`, or false if no host entry matches.
bool findHost(const RefererLoc& c, std::string_view host, const Uri** uri) {
  auto it = c.exact.find(std::string(host));
  if (it != c.exact.end()) {
    *uri = &it->second;
    return true;
  }
  const Wild* best = nullptr;
  for (const Wild& w : c.heads) {
    bool hit = (host.size() > w.part.size() && endsWith(host, w.part)) ||
               (w.bare && host == std::string_view(w.part).substr(1));
    if (hit && (best == nullptr || w.part.size() > best->part.size())) best = &w;
  }
  if (best == nullptr) {
    for (const Wild& w : c.tails) {
      bool hit = host.size() > w.part.size() && host.compare(0, w.part.size(), w.part) == 0;
      if (hit && (best == nullptr || w.part.size() > best->part.size())) best = &w;
    }
  }
  if (best == nullptr) return false;
  *uri = &best->uri;
  return true;
}

// Does a server_name (exact or wildcard) cover host?
bool serverNameMatches(const ServerName& sn, std::string_view host) {
  std::string_view n = sn.name;
  if (n.empty()) return false;
  if (n[0] == '.') return host == n.substr(1) || (host.size() > n.size() && endsWith(host, n));
  if (n.size() > 1 && n[0] == '*' && n[1] == '.') {
    return host.size() > n.size() - 1 && endsWith(host, n.substr(1));
  }
  if (n.back() == '*') {
    std::string_view pre = n.substr(0, n.size() - 1);
    return host.size() > pre.size() && host.compare(0, pre.size(), pre) == 0;
  }
  return host == n;
}

bool valid(Request& r, const RefererLoc& c) {
  const Header* h = r.headersIn.referer;
  if (h == nullptr) return c.none;
  std::string_view ref = h->value;
  bool scheme = false;
  if (ref.size() >= 11) {
    if (ieq(ref.substr(0, 7), "http://")) {
      ref.remove_prefix(7);
      scheme = true;
    } else if (ieq(ref.substr(0, 8), "https://")) {
      ref.remove_prefix(8);
      scheme = true;
    }
  }
  if (!scheme) return c.blocked;
  size_t end = 0;
  while (end < ref.size() && ref[end] != '/' && ref[end] != ':') end++;
  if (end > 256) return false;
  std::string host = lowered(ref.substr(0, end));
  const Uri* uri = nullptr;
  bool found = findHost(c, host, &uri);
  if (!found && c.serverNames) {
    for (const ServerName& sn : r.cscf()->names) {
      if (sn.regex ? sn.regex->exec(host, nullptr, 0) > 0 : serverNameMatches(sn, host))
        return true;
    }
  }
  if (found) {
    if (!uri->has_value()) return true;
    size_t slash = ref.find('/', end);
    std::string_view rest =
        slash == std::string_view::npos ? std::string_view() : ref.substr(slash);
    return rest.size() >= (*uri)->size() && rest.compare(0, (*uri)->size(), **uri) == 0;
  }
  for (const auto& re : c.regexes) {
    if (re->exec(ref, nullptr, 0) > 0) return true;
  }
  return false;
}

void invalidGet(Request& r, std::string_view, VarValue* out, uintptr_t) {
  const auto* c = r.loc<RefererLoc>(mod());
  out->data = !c->set || valid(r, *c) ? std::string_view() : std::string_view("1");
  out->notFound = false;
}

void addHost(const ConfNode& n, RefererLoc& c, const std::string& arg) {
  size_t slash = arg.find('/');
  std::string host = lowered(arg.substr(0, slash));
  Uri uri;
  if (slash != std::string::npos) uri = arg.substr(slash);
  size_t star = host.find('*');
  bool dot = host.size() > 1 && host[0] == '.' && star == std::string::npos;
  bool head =
      host.size() > 2 && host[0] == '*' && host[1] == '.' && host.find('*', 1) == std::string::npos;
  bool tail = host.size() > 2 && host.back() == '*' && host[host.size() - 2] == '.' &&
              star == host.size() - 1;
  if ((star != std::string::npos && !head && !tail) || host.empty()) {
    fail(n, "invalid hostname or wildcard \"" + arg + "\"");
  }
  if (dot || head) {
    c.heads.push_back({head ? host.substr(1) : host, dot, uri});
  } else if (tail) {
    c.tails.push_back({host.substr(0, host.size() - 1), false, uri});
  } else {
    c.exact[host] = uri;
  }
}

void setValidReferers(Engine&, const ConfNode& n, ConfBase* conf, const Directive&) {
  auto* c = static_cast<RefererLoc*>(conf);
  c->set = true;
  for (const conf::ConfArg& a : n.args) {
    const std::string& v = a.value;
    if (v.empty()) fail(n, "invalid referer \"\"");
    if (v == "none") {
      c->none = true;
    } else if (v == "blocked") {
      c->blocked = true;
    } else if (v == "server_names") {
      c->serverNames = true;
    } else if (v[0] == '~') {
      std::string err;
      std::shared_ptr<Regex> re(Regex::compile(v.substr(1), true, &err));
      if (!re) fail(n, err);
      c->regexes.push_back(std::move(re));
    } else {
      addHost(n, *c, v);
    }
  }
}

void mergeLoc(Engine&, ConfBase* p, ConfBase* ch) {
  auto* pa = static_cast<RefererLoc*>(p);
  auto* c = static_cast<RefererLoc*>(ch);
  if (c->set && (c->none || c->blocked) && !c->serverNames && c->exact.empty() &&
      c->heads.empty() && c->tails.empty() && c->regexes.empty()) {
    throw conf::ConfError(
        "the \"none\" or \"blocked\" referers are specified in the \"valid_referers\" directive "
        "without any valid referer");
  }
  if (!c->set && pa->set) {
    c->set = true;
    c->none = pa->none;
    c->blocked = pa->blocked;
    c->serverNames = pa->serverNames;
    c->exact = pa->exact;
    c->heads = pa->heads;
    c->tails = pa->tails;
    c->regexes = pa->regexes;
  }
}

void initMain(Engine&, ConfBase*) { addVariable("invalid_referer", invalidGet, 0, 0); }

constexpr uint32_t kSrvLoc = conf::kHttpSrvCtx | conf::kHttpLocCtx;

const Directive kDirectives[] = {
    {"valid_referers", kSrvLoc, conf::k1More, setValidReferers, conf::Slot::kLoc},
    {"referer_hash_max_size", kSrvLoc, conf::kTake1, conf::setNumber<&RefererLoc::hashMaxSize>,
     conf::Slot::kLoc},
    {"referer_hash_bucket_size", kSrvLoc, conf::kTake1,
     conf::setNumber<&RefererLoc::hashBucketSize>, conf::Slot::kLoc},
};

const conf::Module kModule{
    .name = "http_referer",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .nginxModules = "http_referer_module",
    .createMain = [] { return conf::ConfPtr(std::make_unique<RefererMain>()); },
    .createLoc = [] { return conf::ConfPtr(std::make_unique<RefererLoc>()); },
    .initMain = initMain,
    .mergeLoc = mergeLoc,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpRefererModule() { return kModule; }

}  // namespace lunet::http
