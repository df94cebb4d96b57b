// add_header [always] and expires-free header filter.
#include "http/core_module.h"
#include "http/filter.h"
#include "http/modules/modules.h"

namespace lunet::http {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

const conf::Module& mod();

struct AddHeader {
  std::string name;
  ComplexValue value;
  bool always = false;
};

struct HeadersLoc : ConfBase {
  std::vector<AddHeader> headers;
  bool set = false;
};

void setAddHeader(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* h = static_cast<HeadersLoc*>(c);
  AddHeader a;
  a.name = n.arg(0);
  a.value.compile(n, n.arg(1));
  if (n.args.size() == 3) {
    if (n.arg(2) != "always") fail(n, "invalid parameter \"" + n.arg(2) + "\"");
    a.always = true;
  }
  h->headers.push_back(std::move(a));
  h->set = true;
}

void mergeLoc(Engine&, ConfBase* p, ConfBase* c) {
  auto* pa = static_cast<HeadersLoc*>(p);
  auto* ch = static_cast<HeadersLoc*>(c);
  if (!ch->set && pa->set) {
    ch->headers = pa->headers;
    ch->set = true;
  }
}

HeaderFilter gNext = nullptr;

int headerFilter(Request& r) {
  if (r.main != &r) return gNext(r);
  const auto* h = r.loc<HeadersLoc>(mod());
  if (h->headers.empty()) return gNext(r);
  int st = r.headersOut.status;
  bool ok = st == 200 || st == 201 || st == 204 || st == 206 || st == 301 || st == 302 ||
            st == 303 || st == 304 || st == 307 || st == 308;
  for (const AddHeader& a : h->headers) {
    if (!ok && !a.always) continue;
    std::string_view v = a.value.eval(r);
    if (v.empty()) continue;
    r.headersOut.list.add(r.arena, a.name, v);
  }
  return gNext(r);
}

void postConf(Engine&) { gNext = pushHeaderFilter(headerFilter); }

constexpr uint32_t kCtx = conf::kAnyHttpCtx | conf::kHttpLifCtx;

const Directive kDirectives[] = {
    {"add_header", kCtx, conf::kTake23, setAddHeader, conf::Slot::kLoc},
};

const conf::Module kModule{
    .name = "http_headers",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .createLoc = [] { return conf::ConfPtr(std::make_unique<HeadersLoc>()); },
    .mergeLoc = mergeLoc,
    .postConfiguration = postConf,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpHeadersModule() { return kModule; }

}  // namespace lunet::http
