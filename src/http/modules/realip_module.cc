// set_real_ip_from / real_ip_header / real_ip_recursive (nginx's
// ngx_http_realip_module): when the client is a trusted proxy, the address
// it reports in a header becomes the client address for the rest of the
// request ($remote_addr, allow/deny, geo, log lines), as nginx swaps the
// connection's address; the original is restored when the request ends and
// stays readable as $realip_remote_addr / $realip_remote_port.
#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/cycle.h"
#include "http/connection.h"
#include "http/modules/cidr.h"
#include "http/modules/modules.h"
#include "http/phases.h"
#include "http/variables.h"

namespace lunet::http {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

const conf::Module& mod();

struct RealipMain : ConfBase {
  bool used = false;
};

struct RealipLoc : ConfBase {
  std::vector<Cidr> from;
  bool fromSet = false;
  std::optional<std::string> header;  // unset: X-Real-IP
  int64_t recursive = -1;
};

// Per request once the address was swapped: the connection's own.
struct Saved {
  Connection* conn;
  SockAddr peer;
  uint16_t port;
  char text[sizeof(Connection::peerText)];
};

void restore(void* p) {
  auto* s = static_cast<Saved*>(p);
  s->conn->peer = s->peer;
  s->conn->peerPort = s->port;
  std::memcpy(s->conn->peerText, s->text, sizeof(s->text));
}

int handler(Request& r) {
  if (r.getCtx(mod()) != nullptr) return kDeclined;
  const auto* c = r.loc<RealipLoc>(mod());
  if (c->from.empty()) return kDeclined;
  Connection* conn = r.conn;
  if (conn == nullptr) return kDeclined;
  const std::string& name = *c->header;
  std::string_view value;
  if (ieq(name, "X-Forwarded-For")) {
    value = joinedHeader(r, "X-Forwarded-For");
  } else {
    const Header* h = r.headersIn.list.find(name);
    if (h != nullptr) value = h->value;
  }
  if (value.empty()) return kDeclined;
  sockaddr_in6 addr;
  std::memset(&addr, 0, sizeof(addr));
  std::memcpy(&addr, &conn->peer,
              conn->peer.sa.sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  uint16_t port = 0;
  if (!forwardedAddr(value, c->from, c->recursive == 1, &addr, &port)) return kDeclined;
  auto* s = r.arena.make<Saved>();
  s->conn = conn;
  s->peer = conn->peer;
  s->port = conn->peerPort;
  std::memcpy(s->text, conn->peerText, sizeof(s->text));
  r.setCtx(mod(), s);
  r.arena.addCleanup(restore, s);
  std::memset(&conn->peer, 0, sizeof(conn->peer));
  if (addr.sin6_family == AF_INET) {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&addr);
    in4->sin_port = htons(port);
    conn->peer.in4 = *in4;
    inet_ntop(AF_INET, &in4->sin_addr, conn->peerText, sizeof(conn->peerText));
  } else {
    addr.sin6_port = htons(port);
    conn->peer.in6 = addr;
    inet_ntop(AF_INET6, &addr.sin6_addr, conn->peerText, sizeof(conn->peerText));
  }
  conn->peerPort = port;
  return kDeclined;
}

void realAddrGet(Request& r, std::string_view, VarValue* out, uintptr_t port) {
  const auto* s = static_cast<const Saved*>(r.getCtx(mod()));
  const Connection* c = r.conn;
  if (c == nullptr) return;
  if (port == 0) {
    out->data = s != nullptr ? std::string_view(s->text) : std::string_view(c->peerText);
    out->notFound = false;
    return;
  }
  uint16_t p = s != nullptr ? s->port : c->peerPort;
  if (p == 0) {
    out->data = {};
  } else {
    char* b = static_cast<char*>(r.arena.alloc(8, 1));
    int n = std::snprintf(b, 8, "%u", static_cast<unsigned>(p));
    out->data = {b, static_cast<size_t>(n)};
  }
  out->notFound = false;
}

void setFrom(Engine& e, const ConfNode& n, ConfBase* conf, const Directive&) {
  auto* c = static_cast<RealipLoc*>(conf);
  static_cast<RealipMain*>(e.cycle().confs[mod().index].get())->used = true;
  c->fromSet = true;
  const std::string& v = n.arg(0);
  if (v == "unix:") {
    Cidr u;
    u.family = AF_UNIX;
    c->from.push_back(u);
    return;
  }
  c->from.push_back(parseCidrArg(n, v));
}

void setHeader(Engine&, const ConfNode& n, ConfBase* conf, const Directive&) {
  auto* c = static_cast<RealipLoc*>(conf);
  if (c->header) fail(n, "\"real_ip_header\" directive is duplicate");
  if (n.arg(0) == "proxy_protocol") {
    fail(n,
         "\"real_ip_header proxy_protocol\" is not supported: Lunet does not read the PROXY "
         "protocol yet");
  }
  c->header = n.arg(0);
}

void mergeLoc(Engine&, ConfBase* p, ConfBase* ch) {
  auto* pa = static_cast<RealipLoc*>(p);
  auto* c = static_cast<RealipLoc*>(ch);
  if (!c->fromSet && pa->fromSet) {
    c->from = pa->from;
    c->fromSet = true;
  }
  conf::mergeOpt(c->header, pa->header, std::string("X-Real-IP"));
  conf::mergeValue(c->recursive, pa->recursive, int64_t{0});
}

void initMain(Engine&, ConfBase*) {
  addVariable("realip_remote_addr", realAddrGet, 0, 0);
  addVariable("realip_remote_port", realAddrGet, 1, 0);
}

void postConf(Engine& e) {
  auto* m = static_cast<RealipMain*>(e.cycle().confs[mod().index].get());
  if (m == nullptr || !m->used) return;
  addPhaseHandler(Phase::kPostRead, handler);
  addPhaseHandler(Phase::kPreAccess, handler);
}

const Directive kDirectives[] = {
    {"set_real_ip_from", conf::kAnyHttpCtx, conf::kTake1, setFrom, conf::Slot::kLoc},
    {"real_ip_header", conf::kAnyHttpCtx, conf::kTake1, setHeader, conf::Slot::kLoc},
    {"real_ip_recursive", conf::kAnyHttpCtx, conf::kFlag, conf::setFlag<&RealipLoc::recursive>,
     conf::Slot::kLoc},
};

const conf::Module kModule{
    .name = "http_realip",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .nginxModules = "http_realip_module",
    .createMain = [] { return conf::ConfPtr(std::make_unique<RealipMain>()); },
    .createLoc = [] { return conf::ConfPtr(std::make_unique<RealipLoc>()); },
    .initMain = initMain,
    .mergeLoc = mergeLoc,
    .postConfiguration = postConf,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& httpRealipModule() { return kModule; }

}  // namespace lunet::http
