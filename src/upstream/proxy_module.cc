// The proxy module's directives (nginx's ngx_http_proxy_module): proxy_pass
// and the proxy_* settings, their merge, and the $proxy_* / $upstream_*
// variables. The request/response machine is proxy.cc.
//
// The file lives in src/upstream/ rather than src/http/modules/: it uses the
// upstream layer (upstream.h), which sits above http (docs/design/layers.md).
#include <cstdio>
#include <cstring>

#include "http/core_module.h"
#include "upstream/proxy_internal.h"

namespace lunet::upstream {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;
using http::Request;
using http::VarValue;

namespace {

conf::ConfPtr createLoc() { return std::make_unique<ProxyLoc>(); }

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

bool parseProxyUrl(std::string_view url, ProxyUrl* out, std::string* err) {
  if (!startsWith(url, "http://")) {
    *err = "invalid URL prefix in \"" + std::string(url) + "\"";
    return false;
  }
  std::string rest(url.substr(7));
  std::string hostPart;
  if (startsWith(rest, "unix:")) {
    // http://unix:/path:/uri
    size_t colon = rest.find(':', 5);
    hostPart = rest.substr(0, colon);
    rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
    out->hostText = "unix:" + hostPart.substr(5);
    out->portText = "";
    out->upsName = hostPart;
  } else {
    size_t slash = rest.find_first_of("/?");
    hostPart = rest.substr(0, slash);
    rest = slash == std::string::npos ? "" : rest.substr(slash);
    if (hostPart.empty()) {
      *err = "no host in upstream \"" + std::string(url.substr(7)) + "\"";
      return false;
    }
    size_t colon = hostPart.rfind(':');
    bool hasPort = colon != std::string::npos && hostPart.find(']', colon) == std::string::npos;
    if (hasPort) {
      std::string port = hostPart.substr(colon + 1);
      int64_t v = 0;
      if (!conf::tryParseNumber(port, &v) || v < 1 || v > 65535) {
        *err = "invalid port in upstream \"" + hostPart + "\"";
        return false;
      }
      out->portText = port;
      out->hostText = v == 80 ? hostPart.substr(0, colon) : hostPart;
      out->upsName = hostPart;
      out->hasPort = true;
    } else {
      out->portText = "80";
      out->hostText = hostPart;
      out->upsName = hostPart;
    }
  }
  out->hasUri = !rest.empty();
  out->uri = rest;
  return true;
}

namespace {

void setPass(Engine& e, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* p = static_cast<ProxyLoc*>(c);
  auto* clcf = const_cast<http::HttpCoreLoc*>(http::coreLoc(e.level()));
  if (p->pass || clcf->handler != nullptr) fail(n, "\"proxy_pass\" directive is duplicate");
  std::string url = n.arg(0);
  if (url.find('$') != std::string::npos) {
    // Evaluated per request (proxy.cc); only the scheme is checked now.
    if (!startsWith(url, "http://") && !startsWith(url, "$")) {
      if (startsWith(url, "https://")) {
        fail(n, "\"proxy_pass https://\" is not supported by Lunet yet");
      }
      fail(n, "invalid URL prefix in \"" + url + "\"");
    }
    p->urlValue = std::make_shared<http::ComplexValue>();
    p->urlValue->compile(n, url);
    p->pass = true;
    p->passNode = n;
    p->locName = clcf->name;
    p->url = url;
    clcf->handler = proxyHandler;
    return;
  }
  if (startsWith(url, "https://")) {
    fail(n, "\"proxy_pass https://\" is not supported by Lunet yet");
  }
  ProxyUrl u;
  std::string err;
  if (!parseProxyUrl(url, &u, &err)) fail(n, err);
  p->hostText = u.hostText;
  p->portText = u.portText;
  p->upsName = u.upsName;
  p->implicitOk = true;
  p->hasUri = u.hasUri;
  p->uri = u.uri;
  p->url = url;
  if (p->hasUri &&
      (clcf->match == http::LocMatch::kRegex || clcf->match == http::LocMatch::kRegexCaseless ||
       clcf->match == http::LocMatch::kNamed || (e.ctx() & conf::kHttpLifCtx) ||
       clcf->limitExcept != 0)) {
    fail(n,
         "\"proxy_pass\" cannot have URI part in location given by regular expression, or "
         "inside named location, or inside \"if\" statement, or inside \"limit_except\" block");
  }
  p->pass = true;
  p->passNode = n;
  p->locName = clcf->name;
  clcf->handler = proxyHandler;
}

void setSetHeader(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* p = static_cast<ProxyLoc*>(c);
  if (!p->userHeaders) p->userHeaders = std::make_shared<HeaderTpls>();
  HeaderTpl t;
  t.name = n.arg(0);
  t.value.compile(n, n.arg(1));
  t.empty = n.arg(1).empty();
  p->userHeaders->push_back(std::move(t));
}

void setHide(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* p = static_cast<ProxyLoc*>(c);
  p->hide.push_back(n.arg(0));
  p->hideSet = true;
}

void setPassHeader(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* p = static_cast<ProxyLoc*>(c);
  p->passHdr.push_back(n.arg(0));
  p->passHdrSet = true;
}

void setHttpVersion(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* p = static_cast<ProxyLoc*>(c);
  if (p->httpVersion != -1) fail(n, "\"proxy_http_version\" directive is duplicate");
  if (n.arg(0) == "1.0") {
    p->httpVersion = 1000;
  } else if (n.arg(0) == "1.1") {
    p->httpVersion = 1001;
  } else {
    fail(n, "invalid value \"" + n.arg(0) + "\" in \"proxy_http_version\" directive");
  }
}

void setNext(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* p = static_cast<ProxyLoc*>(c);
  if (p->nextUpstream != -1) fail(n, "\"proxy_next_upstream\" directive is duplicate");
  static const std::pair<std::string_view, int64_t> kNames[] = {
      {"error", kFtError},
      {"timeout", kFtTimeout},
      {"invalid_header", kFtInvalidHeader},
      {"http_500", kFt500},
      {"http_502", kFt502},
      {"http_503", kFt503},
      {"http_504", kFt504},
      {"http_403", kFt403},
      {"http_404", kFt404},
      {"http_429", kFt429},
      {"non_idempotent", kFtNonIdempotent},
      {"off", kFtOff},
  };
  int64_t mask = 0;
  for (const auto& a : n.args) {
    if (a.value == "updating") fail(n, "\"updating\" needs proxy_cache, which Lunet lacks yet");
    bool found = false;
    for (const auto& [name, bit] : kNames) {
      if (a.value == name) {
        mask |= bit;
        found = true;
      }
    }
    if (!found) {
      fail(n, "invalid value \"" + a.value + "\" in \"" + n.name + "\" directive");
    }
  }
  if ((mask & kFtOff) && mask != kFtOff) {
    fail(n, "invalid value \"off\" in \"proxy_next_upstream\" directive");
  }
  p->nextUpstream = mask;
}

void setRedirect(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* p = static_cast<ProxyLoc*>(c);
  if (n.args.size() == 1) {
    if (n.arg(0) == "off") {
      if (p->redirect == 2) fail(n, "invalid parameter \"off\"");
      p->redirect = 0;
      return;
    }
    if (n.arg(0) == "default") {
      p->redirect = 1;
      return;
    }
    fail(n, "invalid parameter \"" + n.arg(0) + "\"");
  }
  if (n.arg(0).find('$') != std::string::npos || n.arg(1).find('$') != std::string::npos ||
      startsWith(n.arg(0), "~")) {
    fail(n,
         "\"proxy_redirect\" with variables or regular expressions is not supported by "
         "Lunet yet");
  }
  p->redirect = 2;
  p->redirects.emplace_back(n.arg(0), n.arg(1));
}

void setIgnoredNumberPair(Engine&, const ConfNode& n, ConfBase*, const Directive&) {
  // proxy_buffers N SIZE: Lunet streams through one buffer per request; the
  // values are checked, not used (docs/directives/proxy.md).
  (void)conf::parseNumber(n, 0);
  (void)conf::parseSize(n, 1);
}

void setIgnoredSize(Engine&, const ConfNode& n, ConfBase*, const Directive&) {
  (void)conf::parseSize(n, 0);
}

template <auto Member>
void setComplex(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto& field = static_cast<ProxyLoc*>(c)->*Member;
  if (field) fail(n, "\"" + n.name + "\" directive is duplicate");
  field = std::make_shared<http::ComplexValue>();
  field->compile(n, n.arg(0));
}

void setIgnoreHeaders(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* p = static_cast<ProxyLoc*>(c);
  if (p->ignoreHeaders != -1) fail(n, "\"proxy_ignore_headers\" directive is duplicate");
  static constexpr std::string_view kNames[] = {
      "X-Accel-Redirect",  "X-Accel-Expires", "X-Accel-Limit-Rate",
      "X-Accel-Buffering", "X-Accel-Charset", "Expires",
      "Cache-Control",     "Set-Cookie",      "Vary"};
  int64_t bits = 0;
  for (const auto& a : n.args) {
    bool known = false;
    for (std::string_view k : kNames) known = known || http::ieq(k, a.value);
    if (!known) fail(n, "invalid value \"" + a.value + "\" in \"" + n.name + "\" directive");
    if (http::ieq(a.value, "X-Accel-Redirect")) bits |= kIgnoreAccelRedirect;
  }
  p->ignoreHeaders = bits;
}

void setNotYet(Engine&, const ConfNode& n, ConfBase*, const Directive&) {
  fail(n, "\"" + n.name + "\" is not supported by Lunet yet");
}

constexpr uint32_t kLoc = conf::kAnyHttpCtx;
constexpr uint32_t kLocIf = conf::kHttpLocCtx | conf::kHttpLifCtx;

const Directive kDirectives[] = {
    {"proxy_pass", kLocIf | conf::kHttpLmtCtx, conf::kTake1, setPass},
    {"proxy_set_header", kLoc, conf::kTake2, setSetHeader},
    {"proxy_hide_header", kLoc, conf::kTake1, setHide},
    {"proxy_pass_header", kLoc, conf::kTake1, setPassHeader},
    {"proxy_http_version", kLoc, conf::kTake1, setHttpVersion},
    {"proxy_connect_timeout", kLoc, conf::kTake1, conf::setMsec<&ProxyLoc::connectTimeout>},
    {"proxy_send_timeout", kLoc, conf::kTake1, conf::setMsec<&ProxyLoc::sendTimeout>},
    {"proxy_read_timeout", kLoc, conf::kTake1, conf::setMsec<&ProxyLoc::readTimeout>},
    {"proxy_buffer_size", kLoc, conf::kTake1, conf::setSize<&ProxyLoc::bufferSize>},
    {"proxy_next_upstream", kLoc, conf::k1More, setNext},
    {"proxy_next_upstream_tries", kLoc, conf::kTake1, conf::setNumber<&ProxyLoc::nextTries>},
    {"proxy_next_upstream_timeout", kLoc, conf::kTake1, conf::setMsec<&ProxyLoc::nextTimeout>},
    {"proxy_pass_request_headers", kLoc, conf::kFlag, conf::setFlag<&ProxyLoc::passRequestHeaders>},
    {"proxy_pass_request_body", kLoc, conf::kFlag, conf::setFlag<&ProxyLoc::passRequestBody>},
    {"proxy_buffering", kLoc, conf::kFlag, conf::setFlag<&ProxyLoc::buffering>},
    {"proxy_intercept_errors", kLoc, conf::kFlag, conf::setFlag<&ProxyLoc::interceptErrors>},
    {"proxy_ignore_client_abort", kLoc, conf::kFlag, conf::setFlag<&ProxyLoc::ignoreClientAbort>},
    {"proxy_redirect", kLoc, conf::kTake12, setRedirect},
    {"proxy_buffers", kLoc, conf::kTake2, setIgnoredNumberPair},
    {"proxy_busy_buffers_size", kLoc, conf::kTake1, setIgnoredSize},
    {"proxy_max_temp_file_size", kLoc, conf::kTake1, setIgnoredSize},
    {"proxy_temp_file_write_size", kLoc, conf::kTake1, setIgnoredSize},
    {"proxy_headers_hash_max_size", kLoc, conf::kTake1, setIgnoredSize},
    {"proxy_headers_hash_bucket_size", kLoc, conf::kTake1, setIgnoredSize},
    {"proxy_set_body", kLoc, conf::kTake1, setComplex<&ProxyLoc::setBody>},
    {"proxy_method", kLoc, conf::kTake1, setComplex<&ProxyLoc::method>},
    {"proxy_request_buffering", kLoc, conf::kFlag, setNotYet},
    {"proxy_ignore_headers", kLoc, conf::k1More, setIgnoreHeaders},
    {"proxy_cache", kLoc, conf::kTake1, setNotYet},
    {"proxy_cache_path", conf::kHttpMainCtx, conf::k2More, setNotYet, conf::Slot::kNone},
    {"proxy_cache_valid", kLoc, conf::k1More, setNotYet},
    {"proxy_cache_key", kLoc, conf::kTake1, setNotYet},
    {"proxy_store", kLoc, conf::kTake1, setNotYet},
    {"proxy_bind", kLoc, conf::kTake12, setNotYet},
    {"proxy_limit_rate", kLoc, conf::kTake1, setNotYet},
    {"proxy_cookie_domain", kLoc, conf::kTake12, setNotYet},
    {"proxy_cookie_path", kLoc, conf::kTake12, setNotYet},
    {"proxy_socket_keepalive", kLoc, conf::kFlag, setNotYet},
    {"proxy_ssl_verify", kLoc, conf::kFlag, setNotYet},
    {"proxy_ssl_server_name", kLoc, conf::kFlag, setNotYet},
    {"proxy_ssl_name", kLoc, conf::kTake1, setNotYet},
    {"proxy_ssl_trusted_certificate", kLoc, conf::kTake1, setNotYet},
    {"proxy_ssl_certificate", kLoc, conf::kTake1, setNotYet},
    {"proxy_ssl_certificate_key", kLoc, conf::kTake1, setNotYet},
    {"proxy_ssl_protocols", kLoc, conf::k1More, setNotYet},
    {"proxy_ssl_session_reuse", kLoc, conf::kFlag, setNotYet},
};

// The headers nginx sends unless proxy_set_header says otherwise.
HeaderTpls defaultHeaders() {
  static const std::pair<const char*, const char*> kDefaults[] = {
      {"Host", "$proxy_host"},
      {"Connection", "close"},
      {"Content-Length", "$proxy_internal_body_length"},
      {"Transfer-Encoding", ""},
      {"TE", ""},
      {"Keep-Alive", ""},
      {"Expect", ""},
      {"Upgrade", ""},
  };
  HeaderTpls out;
  ConfNode dummy;
  dummy.name = "proxy_set_header";
  for (const auto& [name, value] : kDefaults) {
    HeaderTpl t;
    t.name = name;
    t.value.compile(dummy, value);
    t.empty = value[0] == '\0';
    out.push_back(std::move(t));
  }
  return out;
}

std::shared_ptr<HeaderTpls> mergedHeaders(const std::shared_ptr<HeaderTpls>& user) {
  auto out = std::make_shared<HeaderTpls>();
  if (user) {
    for (const HeaderTpl& t : *user) {
      HeaderTpl c;
      c.name = t.name;
      c.value = t.value;
      c.empty = t.empty;
      out->push_back(std::move(c));
    }
  }
  for (HeaderTpl& d : defaultHeaders()) {
    bool have = false;
    for (const HeaderTpl& t : *out) have = have || http::ieq(t.name, d.name);
    if (!have) out->push_back(std::move(d));
  }
  return out;
}

void resolvePass(Engine& e, ProxyLoc* p) {
  UpstreamMain* m = upstreamMain(e);
  const ConfNode& n = *p->passNode;
  if (Upstream* u = m->find(p->upsName); u != nullptr) {
    p->ups = u;
    return;
  }
  auto u = std::make_unique<Upstream>();
  u->name = p->upsName;
  u->implicit = true;
  u->poolPrefix = "ups:" + p->upsName + ":";
  u->peers = resolveServer(n, p->upsName, 80, true);
  p->ups = u.get();
  m->upstreams.push_back(std::move(u));
}

void mergeLoc(Engine& e, ConfBase* parent, ConfBase* child) {
  auto* pa = static_cast<ProxyLoc*>(parent);
  auto* c = static_cast<ProxyLoc*>(child);
  if (!c->userHeaders) c->userHeaders = pa->userHeaders;
  if (!c->headers || c->userHeaders != pa->userHeaders || !pa->headers) {
    c->headers = c->userHeaders == pa->userHeaders && pa->headers ? pa->headers
                                                                  : mergedHeaders(c->userHeaders);
  }
  if (!c->hideSet) {
    c->hide = pa->hide;
    c->hideSet = pa->hideSet;
  }
  if (!c->passHdrSet) {
    c->passHdr = pa->passHdr;
    c->passHdrSet = pa->passHdrSet;
  }
  conf::mergeValue(c->httpVersion, pa->httpVersion, int64_t{1000});
  conf::mergeValue(c->connectTimeout, pa->connectTimeout, int64_t{60000});
  conf::mergeValue(c->sendTimeout, pa->sendTimeout, int64_t{60000});
  conf::mergeValue(c->readTimeout, pa->readTimeout, int64_t{60000});
  conf::mergeValue(c->bufferSize, pa->bufferSize, int64_t{4096});
  conf::mergeValue(c->nextUpstream, pa->nextUpstream, int64_t{kFtError | kFtTimeout});
  conf::mergeValue(c->nextTries, pa->nextTries, int64_t{0});
  conf::mergeValue(c->nextTimeout, pa->nextTimeout, int64_t{0});
  conf::mergeValue(c->passRequestHeaders, pa->passRequestHeaders, int64_t{1});
  conf::mergeValue(c->passRequestBody, pa->passRequestBody, int64_t{1});
  conf::mergeValue(c->buffering, pa->buffering, int64_t{1});
  conf::mergeValue(c->interceptErrors, pa->interceptErrors, int64_t{0});
  conf::mergeValue(c->ignoreClientAbort, pa->ignoreClientAbort, int64_t{0});
  conf::mergeValue(c->ignoreHeaders, pa->ignoreHeaders, int64_t{0});
  if (!c->method) c->method = pa->method;
  if (!c->setBody) c->setBody = pa->setBody;
  if (c->redirect == -1) {
    c->redirect = pa->redirect == -1 ? 1 : pa->redirect;
    c->redirects = pa->redirects;
  }
  if (c->pass && c->ups == nullptr && !c->urlValue) resolvePass(e, c);
  if (c->urlValue) c->upsMain = upstreamMain(e);
}

// ---- Variables -----------------------------------------------------------------

enum VarId : uintptr_t {
  kProxyHost,
  kProxyPort,
  kProxyAddXff,
  kProxyBodyLength,
  kUpsAddr,
  kUpsStatus,
  kUpsResponseTime,
  kUpsConnectTime,
  kUpsHeaderTime,
  kUpsBytesReceived,
  kUpsResponseLength,
};

void setValue(VarValue* out, std::string_view v) {
  out->data = v;
  out->notFound = false;
}

void proxyVar(Request& r, std::string_view, VarValue* out, uintptr_t id) {
  ProxyCtx* ctx = proxyCtx(r);
  switch (id) {
    case kProxyHost:
      if (ctx != nullptr) setValue(out, ctx->conf->urlValue ? ctx->hostText : ctx->conf->hostText);
      return;
    case kProxyPort:
      if (ctx != nullptr) setValue(out, ctx->conf->urlValue ? ctx->portText : ctx->conf->portText);
      return;
    case kProxyBodyLength: {
      if (ctx == nullptr || ctx->bodyLength < 0) return;
      char buf[24];
      int n = std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(ctx->bodyLength));
      setValue(out, r.arena.dup({buf, static_cast<size_t>(n)}));
      return;
    }
    case kProxyAddXff: {
      std::string_view addr = http::clientAddrText(r);
      const http::Header* h = r.headersIn.list.find("X-Forwarded-For");
      if (h == nullptr) {
        setValue(out, addr);
        return;
      }
      std::string s;
      for (const http::Header& x : r.headersIn.list.all()) {
        if (x.hash == 0 || !http::ieq(x.name, "X-Forwarded-For")) continue;
        s.append(x.value);
        s += ", ";
      }
      s.append(addr);
      setValue(out, r.arena.dup(s));
      return;
    }
    default:
      break;
  }
  if (ctx == nullptr || ctx->tries.empty()) return;
  std::string s;
  char buf[32];
  auto msec = [&](int64_t ms) {
    if (ms < 0) {
      s += '-';
      return;
    }
    std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ms / 1000),
                  static_cast<long long>(ms % 1000));
    s += buf;
  };
  for (size_t i = 0; i < ctx->tries.size(); i++) {
    const TryState& t = ctx->tries[i];
    if (i > 0) s += ", ";
    switch (id) {
      case kUpsAddr:
        s.append(t.addr);
        break;
      case kUpsStatus:
        if (t.status == 0) {
          s += '-';
        } else {
          s += std::to_string(t.status);
        }
        break;
      case kUpsResponseTime:
        msec(t.responseMs);
        break;
      case kUpsConnectTime:
        msec(t.connectMs);
        break;
      case kUpsHeaderTime:
        msec(t.headerMs);
        break;
      case kUpsBytesReceived:
        s += std::to_string(t.bytesReceived);
        break;
      case kUpsResponseLength:
        s += std::to_string(t.responseLength);
        break;
      default:
        break;
    }
  }
  setValue(out, r.arena.dup(s));
}

void upstreamHttpVar(Request& r, std::string_view name, VarValue* out, uintptr_t) {
  ProxyCtx* ctx = proxyCtx(r);
  if (ctx == nullptr) return;
  std::string_view want = name.substr(std::strlen("upstream_http_"));
  for (const http::Header& h : ctx->headers.all()) {
    if (h.name.size() != want.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < want.size() && eq; i++) {
      auto low = [](char ch) {
        return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch | 0x20) : ch == '-' ? '_' : ch;
      };
      char a = low(h.name[i]);
      char b = low(want[i]);
      eq = a == b;
    }
    if (eq) {
      setValue(out, h.value);
      return;
    }
  }
}

void initMain(Engine&, ConfBase*) {
  static const std::pair<const char*, VarId> kVars[] = {
      {"proxy_host", kProxyHost},
      {"proxy_port", kProxyPort},
      {"proxy_add_x_forwarded_for", kProxyAddXff},
      {"proxy_internal_body_length", kProxyBodyLength},
      {"upstream_addr", kUpsAddr},
      {"upstream_status", kUpsStatus},
      {"upstream_response_time", kUpsResponseTime},
      {"upstream_connect_time", kUpsConnectTime},
      {"upstream_header_time", kUpsHeaderTime},
      {"upstream_bytes_received", kUpsBytesReceived},
      {"upstream_response_length", kUpsResponseLength},
  };
  for (const auto& [name, id] : kVars) {
    http::addVariable(name, proxyVar, id, http::kVarNoCache);
  }
  http::addVariable("upstream_http_", upstreamHttpVar, 0, http::kVarPrefix | http::kVarNoCache);
}

// No main settings: the struct exists so that initMain runs per http{}.
struct ProxyMain : ConfBase {};
conf::ConfPtr createMain() { return std::make_unique<ProxyMain>(); }

const conf::Module kModule{
    .name = "http_proxy",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .nginxModules = "http_proxy_module",
    .createMain = createMain,
    .createLoc = createLoc,
    .initMain = initMain,
    .mergeLoc = mergeLoc,
};

}  // namespace

const conf::Module& proxyModule() { return kModule; }

}  // namespace lunet::upstream
