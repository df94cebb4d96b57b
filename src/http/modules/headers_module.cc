// add_header [always] and expires (nginx's ngx_http_headers_filter_module).
// The header filter is installed only when the configuration uses one of
// them, so a config without them pays nothing per request.
#include <cstdio>

#include "conf/cycle.h"
#include "core/time.h"
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

enum class Expires : uint8_t { kUnset, kOff, kEpoch, kMax, kAccess, kModified };

struct HeadersMain : ConfBase {
  bool used = false;  // some add_header/expires: install the filter
};

struct HeadersLoc : ConfBase {
  std::vector<AddHeader> headers;
  bool set = false;
  Expires expires = Expires::kUnset;
  int64_t expiresSec = 0;
};

void markUsed(Engine& e) {
  auto* m = static_cast<HeadersMain*>(e.cycle().confs[mod().index].get());
  if (m != nullptr) m->used = true;
}

// expires [modified] TIME | epoch | max | off
void setExpires(Engine& e, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* h = static_cast<HeadersLoc*>(c);
  if (h->expires != Expires::kUnset) fail(n, "\"expires\" directive is duplicate");
  size_t i = 0;
  bool modified = false;
  if (n.args.size() == 2) {
    if (n.arg(0) != "modified") fail(n, "invalid value \"" + n.arg(0) + "\"");
    modified = true;
    i = 1;
  }
  const std::string& v = n.arg(i);
  if (!modified && v == "off") {
    h->expires = Expires::kOff;
    return;
  }
  markUsed(e);
  if (!modified && v == "epoch") {
    h->expires = Expires::kEpoch;
    return;
  }
  if (!modified && v == "max") {
    h->expires = Expires::kMax;
    return;
  }
  if (!v.empty() && v[0] == '@') fail(n, "\"expires @time\" is not supported");
  bool minus = !v.empty() && v[0] == '-';
  bool plus = !v.empty() && v[0] == '+';
  // nginx's ngx_parse_time(…, 1): "1y 2M 3w 4d 5h 6m 7s", a bare number is seconds.
  int64_t total = 0, num = -1;
  for (size_t k = (minus || plus) ? 1 : 0; k < v.size(); k++) {
    char ch = v[k];
    if (ch >= '0' && ch <= '9') {
      num = (num < 0 ? 0 : num) * 10 + (ch - '0');
      if (num > (int64_t{1} << 40)) fail(n, "invalid value \"" + v + "\"");
      continue;
    }
    int64_t mul = 0;
    switch (ch) {
      case 'y':
        mul = 365 * 86400;
        break;
      case 'M':
        mul = 30 * 86400;
        break;
      case 'w':
        mul = 7 * 86400;
        break;
      case 'd':
        mul = 86400;
        break;
      case 'h':
        mul = 3600;
        break;
      case 'm':
        mul = 60;
        break;
      case 's':
        mul = 1;
        break;
      case ' ':
        continue;
      default:
        fail(n, "invalid value \"" + v + "\"");
    }
    if (num < 0) fail(n, "invalid value \"" + v + "\"");
    total += num * mul;
    num = -1;
  }
  if (num >= 0) total += num;
  if (total == 0 && v.find_first_of("0123456789") == std::string::npos) {
    fail(n, "invalid value \"" + v + "\"");
  }
  h->expiresSec = minus ? -total : total;
  h->expires = modified ? Expires::kModified : Expires::kAccess;
}

void setAddHeader(Engine& e, const ConfNode& n, ConfBase* c, const Directive&) {
  markUsed(e);
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
  if (ch->expires == Expires::kUnset) {
    ch->expires = pa->expires;
    ch->expiresSec = pa->expiresSec;
  }
}

HeaderFilter gNext = nullptr;

// Sets Expires and Cache-Control as nginx's ngx_http_set_expires does.
void setExpiresHeaders(Request& r, const HeadersLoc& h) {
  char* date = static_cast<char*>(r.arena.alloc(32, 1));
  std::string_view cc;
  if (h.expires == Expires::kEpoch) {
    r.headersOut.list.remove("Expires");
    r.headersOut.list.add(r.arena, "Expires", "Thu, 01 Jan 1970 00:00:01 GMT");
    cc = "no-cache";
  } else if (h.expires == Expires::kMax) {
    r.headersOut.list.remove("Expires");
    r.headersOut.list.add(r.arena, "Expires", "Thu, 31 Dec 2037 23:55:55 GMT");
    cc = "max-age=315360000";
  } else {
    time_t now = core::nowSec();
    time_t base = now;
    if (h.expires == Expires::kModified) {
      base = r.headersOut.lastModified >= 0 ? r.headersOut.lastModified : now;
    }
    time_t expTime = base + h.expiresSec;
    size_t n = core::formatHttpTime(expTime, date);
    r.headersOut.list.remove("Expires");
    r.headersOut.list.add(r.arena, "Expires", {date, n});
    int64_t maxAge = static_cast<int64_t>(expTime - now);
    if (h.expires == Expires::kAccess && h.expiresSec == 0) maxAge = 0;
    if (maxAge < 0) {
      cc = "no-cache";
    } else {
      char* p = static_cast<char*>(r.arena.alloc(32, 1));
      int len = std::snprintf(p, 32, "max-age=%lld", static_cast<long long>(maxAge));
      cc = {p, static_cast<size_t>(len)};
    }
  }
  r.headersOut.list.remove("Cache-Control");
  r.headersOut.list.add(r.arena, "Cache-Control", cc);
}

int headerFilter(Request& r) {
  if (r.main != &r) return gNext(r);
  const auto* h = r.loc<HeadersLoc>(mod());
  bool expires = h->expires != Expires::kUnset && h->expires != Expires::kOff;
  if (h->headers.empty() && !expires) return gNext(r);
  int st = r.headersOut.status;
  bool ok = st == 200 || st == 201 || st == 204 || st == 206 || st == 301 || st == 302 ||
            st == 303 || st == 304 || st == 307 || st == 308;
  if (ok && expires) setExpiresHeaders(r, *h);
  for (const AddHeader& a : h->headers) {
    if (!ok && !a.always) continue;
    std::string_view v = a.value.eval(r);
    if (v.empty()) continue;
    r.headersOut.list.add(r.arena, a.name, v);
  }
  return gNext(r);
}

void postConf(Engine& e) {
  auto* m = static_cast<HeadersMain*>(e.cycle().confs[mod().index].get());
  if (m != nullptr && m->used) gNext = pushHeaderFilter(headerFilter);
}

constexpr uint32_t kCtx = conf::kAnyHttpCtx | conf::kHttpLifCtx;

const Directive kDirectives[] = {
    {"add_header", kCtx, conf::kTake23, setAddHeader, conf::Slot::kLoc},
    {"expires", kCtx, conf::kTake12, setExpires, conf::Slot::kLoc},
};

const conf::Module kModule{
    .name = "http_headers",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .createMain = [] { return conf::ConfPtr(std::make_unique<HeadersMain>()); },
    .createLoc = [] { return conf::ConfPtr(std::make_unique<HeadersLoc>()); },
    .mergeLoc = mergeLoc,
    .postConfiguration = postConf,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpHeadersModule() { return kModule; }

}  // namespace lunet::http
