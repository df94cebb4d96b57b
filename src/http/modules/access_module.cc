// allow / deny (nginx's ngx_http_access_module): rules checked in config
// order against the client address, the first match wins. A level without
// rules inherits all of its parent's. The handler is installed only when
// the configuration has rules.
#include <vector>

#include "conf/cycle.h"
#include "http/core_module.h"
#include "http/modules/cidr.h"
#include "http/modules/modules.h"
#include "http/phases.h"

namespace lunet::http {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;

const conf::Module& mod();

struct Rule {
  Cidr cidr;
  bool deny = false;
};

struct AccessMain : ConfBase {
  bool used = false;
};

// Per address family, as nginx keeps rules, rules6 and rules_un: `all`
// goes into each list, so order across families is kept per family.
struct AccessLoc : ConfBase {
  std::vector<Rule> v4, v6, un;
  bool set = false;
};

void setRule(Engine& e, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* a = static_cast<AccessLoc*>(c);
  static_cast<AccessMain*>(e.cycle().confs[mod().index].get())->used = true;
  a->set = true;
  bool deny = n.name == "deny";
  const std::string& v = n.arg(0);
  Rule r;
  r.deny = deny;
  if (v == "all") {
    r.cidr.family = AF_INET;
    a->v4.push_back(r);
    r.cidr.family = AF_INET6;
    a->v6.push_back(r);
    r.cidr.family = AF_UNIX;
    a->un.push_back(r);
    return;
  }
  if (v == "unix:") {
    r.cidr.family = AF_UNIX;
    a->un.push_back(r);
    return;
  }
  r.cidr = parseCidrArg(n, v);
  (r.cidr.family == AF_INET ? a->v4 : a->v6).push_back(r);
}

void mergeLoc(Engine&, ConfBase* p, ConfBase* c) {
  auto* pa = static_cast<AccessLoc*>(p);
  auto* ch = static_cast<AccessLoc*>(c);
  if (!ch->set && pa->set) {
    ch->v4 = pa->v4;
    ch->v6 = pa->v6;
    ch->un = pa->un;
    ch->set = true;
  }
}

int handler(Request& r) {
  const auto* a = r.loc<AccessLoc>(mod());
  if (!a->set) return kDeclined;
  const sockaddr* sa = clientSockaddr(r);
  const std::vector<Rule>* rules = &a->un;
  if (sa->sa_family == AF_INET) {
    rules = &a->v4;
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    rules = IN6_IS_ADDR_V4MAPPED(in6) ? &a->v4 : &a->v6;
  }
  for (const Rule& rule : *rules) {
    if (!cidrMatch(rule.cidr, sa)) continue;
    if (!rule.deny) return kOk;
    if (r.clcf()->satisfy == 0) {
      LUNET_LOG(r.log, core::Level::kError, 0, "access forbidden by rule");
    }
    return 403;
  }
  return kDeclined;
}

void postConf(Engine& e) {
  auto* m = static_cast<AccessMain*>(e.cycle().confs[mod().index].get());
  if (m != nullptr && m->used) addPhaseHandler(Phase::kAccess, handler);
}

constexpr uint32_t kCtx = conf::kAnyHttpCtx | conf::kHttpLmtCtx;

const Directive kDirectives[] = {
    {"allow", kCtx, conf::kTake1, setRule, conf::Slot::kLoc},
    {"deny", kCtx, conf::kTake1, setRule, conf::Slot::kLoc},
};

const conf::Module kModule{
    .name = "http_access",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .nginxModules = "http_access_module",
    .createMain = [] { return conf::ConfPtr(std::make_unique<AccessMain>()); },
    .createLoc = [] { return conf::ConfPtr(std::make_unique<AccessLoc>()); },
    .mergeLoc = mergeLoc,
    .postConfiguration = postConf,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpAccessModule() { return kModule; }

}  // namespace lunet::http
