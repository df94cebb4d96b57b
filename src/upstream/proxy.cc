// The proxy's request/response machine (nginx's ngx_http_upstream.c with
// the HTTP parts of ngx_http_proxy_module.c): pick a peer, connect (or take
// a keepalive connection), send the request, read the response head with
// the server's parser (http/parse.h), pass the body through with
// http/http1_parser.h's framer, one buffer in flight at a time, retry on
// the failures proxy_next_upstream names. See docs/design/upstream.md.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "core/time.h"
#include "event/timeouts.h"
#include "http/core_module.h"
#include "http/filter.h"
#include "http/http1_parser.h"
#include "http/parse.h"
#include "net/pool.h"
#include "upstream/proxy_internal.h"

namespace lunet::upstream {

using http::Buf;
using http::Request;

ProxyCtx* proxyCtx(Request& r) noexcept { return static_cast<ProxyCtx*>(r.getCtx(proxyModule())); }

// One proxied request's upstream side. A heap object: stream callbacks may
// still arrive after the request ended (a write cancelled by the close),
// so the request's cleanup detaches it and the last callback frees it.
struct Proxy final : net::ClientConnection::User {
  enum class State : uint8_t { kIdle, kConnecting, kSending, kHeader, kBody, kDone };

  Request* r = nullptr;
  ProxyCtx* ctx = nullptr;
  const ProxyLoc* conf = nullptr;
  PeerPick pick;
  net::Connect* connecting = nullptr;
  net::ClientConnection* conn = nullptr;
  std::string_view poolKey;  // the peer's (Peer::poolKey)
  bool slotCounted = false;
  bool reused = false;
  event::Timeout timer;
  int writes = 0;
  State state = State::kIdle;
  bool requestSent = false;
  bool clientHeaderSent = false;
  bool waitingDrain = false;
  bool keepConn = false;
  bool inBalancer = false;
  // The URI part of proxy_pass (evaluated when it has variables).
  bool hasUri = false;
  bool dynamicUrl = false;
  std::string_view uri;
  std::unique_ptr<Upstream> dynUps;  // proxy_pass with variables naming no upstream
  uint64_t startMs = 0;              // first try (proxy_next_upstream_timeout)
  uint64_t tryStartMs = 0;           // this try
  TryState* cur = nullptr;

  std::string_view head;
  uv_buf_t* bufs = nullptr;
  unsigned nbufs = 0;

  char* hbuf = nullptr;
  size_t hcap = 0, hlen = 0;
  char* bbuf = nullptr;
  size_t bcap = 0;
  bool inBody = false;  // reads go to bbuf

  http::ResponseBody body;
  Buf* chain = nullptr;
  Buf** chainTail = &chain;
  int status = 0;
  bool connClose = false;

  ~Proxy();

  // net::ClientConnection::User
  uv_buf_t readBuffer() noexcept override;
  void onRead(ssize_t nread) noexcept override;
};

namespace {

constexpr size_t kBodyBuffer = 64 * 1024;

// Head and body buffers come from a small per-process cache: a malloc and
// free of 64 KiB per request would cost page faults once glibc trims.
struct BufCache {
  struct Entry {
    size_t size;
    char* p;
  };
  static constexpr size_t kMax = 32;
  Entry e[kMax];
  size_t n = 0;
  char* get(size_t size) noexcept {
    for (size_t i = n; i-- > 0;) {
      if (e[i].size == size) {
        char* p = e[i].p;
        e[i] = e[--n];
        return p;
      }
    }
    return static_cast<char*>(std::malloc(size));
  }
  void put(size_t size, char* p) noexcept {
    if (p == nullptr) return;
    if (n == kMax) {
      std::free(p);
      return;
    }
    e[n++] = {size, p};
  }
};
BufCache gBufs;

void onTimer(void* data);
void connectPeer(Proxy* p);
void next(Proxy* p, int64_t ft, const char* why, int sysErr);
void sendRequest(Proxy* p);
void parseHead(Proxy* p);

void logErr(Proxy* p, core::Level level, int err, const char* msg, const char* action) {
  if (!p->r->log.enabled(level)) return;
  if (err != 0) {
    p->r->log.error(level, 0, "%s (%d: %s) while %s", msg, err, std::strerror(err), action);
  } else {
    p->r->log.error(level, 0, "%s while %s", msg, action);
  }
}

const char* actionOf(const Proxy* p) {
  switch (p->state) {
    case Proxy::State::kConnecting:
      return "connecting to upstream";
    case Proxy::State::kSending:
      return "sending request to upstream";
    case Proxy::State::kHeader:
      return "reading response header from upstream";
    default:
      return "reading upstream";
  }
}

// A timeout set by ngx.balancer.set_timeouts wins over the location's.
int64_t timeoutOf(const Proxy* p, int64_t dflt, int64_t BalancerState::*field) {
  const BalancerState* b = p->pick.bal;
  return b != nullptr && b->*field > 0 ? b->*field : dflt;
}

void armTimer(Proxy* p, int64_t ms) {
  event::arm(&p->timer, static_cast<uint64_t>(ms > 0 ? ms : 1), onTimer, p);
}

// The connection of this try goes: back to the pool (keep) or closed.
void releaseConn(Proxy* p, bool keep) {
  event::disarm(&p->timer);
  if (p->connecting != nullptr) {
    p->connecting->cancel();
    p->connecting = nullptr;
    if (p->slotCounted) net::KeepalivePool::get().failed(p->poolKey);
    p->slotCounted = false;
  }
  net::ClientConnection* c = p->conn;
  if (c == nullptr) return;
  p->conn = nullptr;
  c->setUser(nullptr);
  const Upstream* u = p->pick.ups;
  uint64_t now = core::nowMsec();
  if (keep && p->writes == 0 && c->stream().queuedWrites() == 0 && !c->stream().closing() &&
      static_cast<int64_t>(c->reusedTimes) + 1 < u->keepaliveRequests &&
      now - c->createdMsec < static_cast<uint64_t>(u->keepaliveTime)) {
    c->poolKey = p->poolKey;
    net::KeepalivePool::get().put(c, static_cast<size_t>(u->keepalive),
                                  static_cast<uint64_t>(u->keepaliveTimeout));
    return;
  }
  c->stream().readStop();
  net::KeepalivePool::get().closing(c);
  c->close();
}

void onRequestCleanup(void* data) {
  auto* p = static_cast<Proxy*>(data);
  if (p->r != nullptr) {
    if (p->pick.current != nullptr) freePeer(*p->r, &p->pick, false);
    if (p->cur != nullptr && p->cur->responseMs < 0) {
      p->cur->responseMs = static_cast<int64_t>(core::nowMsec() - p->tryStartMs);
    }
  }
  releaseConn(p, false);
  p->r = nullptr;
  if (p->ctx != nullptr) p->ctx->proxy = nullptr;
  p->state = Proxy::State::kDone;
  if (p->writes == 0) delete p;
}

// Ends the upstream side and the request with rc (kOk after the response
// went out, or a status / kError). The request may be freed inside.
void finish(Proxy* p, int rc) {
  Request& r = *p->r;
  if (p->cur != nullptr && p->cur->responseMs < 0) {
    p->cur->responseMs = static_cast<int64_t>(core::nowMsec() - p->tryStartMs);
  }
  if (p->pick.current != nullptr) freePeer(r, &p->pick, false);
  releaseConn(p, p->keepConn);
  p->state = Proxy::State::kDone;
  http::finalize(r, rc);
}

// ---- The request to the upstream ------------------------------------------------

bool inSet(const HeaderTpls& h, std::string_view name) {
  for (const HeaderTpl& t : h) {
    if (http::ieq(t.name, name)) return true;
  }
  return false;
}

void appendEscapedUri(std::string& out, std::string_view s, bool escape) {
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    bool needs = escape && (c <= 0x20 || c >= 0x7f || c == '"' || c == '%' || c == '#' ||
                            c == '?' || c == '\'' || c == '<' || c == '>' || c == '\\' ||
                            c == '^' || c == '`' || c == '{' || c == '|' || c == '}');
    if (needs) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
}

// nginx's ngx_http_proxy_create_request: the URI rules, then the headers.
void buildRequest(Proxy* p) {
  Request& r = *p->r;
  const ProxyLoc* c = p->conf;
  std::string h;
  h.reserve(512);
  h.append(c->method ? c->method->eval(r) : r.methodName);
  h += ' ';
  if (p->dynamicUrl && p->hasUri) {
    h.append(p->uri);  // with variables the URI part goes as it is
  } else if (!p->hasUri && r.validUnparsedUri) {
    h.append(r.unparsedUri);
  } else {
    size_t locLen = 0;
    if (r.validLocation && p->hasUri) {
      h.append(p->uri);
      locLen = c->locName.size() <= r.uri.size() ? c->locName.size() : 0;
    }
    appendEscapedUri(h, r.uri.substr(locLen), r.quoted || r.internal);
    if (!r.args.empty()) {
      h += '?';
      h.append(r.args);
    }
  }
  h += c->httpVersion == 1001 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n";
  http::RequestBody* rb = r.main->body;
  bool hasBody =
      rb != nullptr && (r.main->headersIn.contentLengthN >= 0 || r.main->headersIn.chunked);
  // As nginx, Content-Length stays even with proxy_pass_request_body off.
  p->ctx->bodyLength = hasBody ? rb->received : -1;
  bool withBody = c->passRequestBody && hasBody;
  std::string_view setBody;
  if (c->setBody) {
    setBody = c->setBody->eval(r);
    p->ctx->bodyLength = static_cast<int64_t>(setBody.size());
    withBody = false;
  }
  for (const HeaderTpl& t : *c->headers) {
    if (t.empty) continue;
    std::string_view v = t.value.eval(r);
    if (v.empty()) continue;
    h.append(t.name);
    h += ": ";
    h.append(v);
    h += "\r\n";
  }
  if (c->passRequestHeaders) {
    for (const http::Header& x : r.headersIn.list.all()) {
      if (x.hash == 0 || inSet(*c->headers, x.name)) continue;
      h.append(x.name);
      h += ": ";
      h.append(x.value);
      h += "\r\n";
    }
  }
  h += "\r\n";
  p->head = r.arena.dup(h);
  unsigned n = setBody.empty() ? 1 : 2;
  if (withBody) {
    for (Buf* b = rb->bufs; b != nullptr; b = b->next) n += b->data.empty() ? 0 : 1;
  }
  p->bufs = r.arena.array<uv_buf_t>(n);
  p->bufs[0] =
      uv_buf_init(const_cast<char*>(p->head.data()), static_cast<unsigned>(p->head.size()));
  p->nbufs = 1;
  if (!setBody.empty()) {
    p->bufs[p->nbufs++] =
        uv_buf_init(const_cast<char*>(setBody.data()), static_cast<unsigned>(setBody.size()));
  }
  if (withBody) {
    for (Buf* b = rb->bufs; b != nullptr; b = b->next) {
      if (b->data.empty()) continue;
      p->bufs[p->nbufs++] =
          uv_buf_init(const_cast<char*>(b->data.data()), static_cast<unsigned>(b->data.size()));
    }
  }
}

// ---- Connecting ---------------------------------------------------------------------

void onConnected(void* data, net::ClientConnection* conn, const std::string&, int sysErr) noexcept {
  auto* p = static_cast<Proxy*>(data);
  p->connecting = nullptr;
  core::updateTime();
  if (conn == nullptr) {
    if (p->slotCounted) net::KeepalivePool::get().failed(p->poolKey);
    p->slotCounted = false;
    next(p, kFtError, "connect() failed", sysErr != 0 ? -sysErr : ECONNREFUSED);
    return;
  }
  conn->createdMsec = core::nowMsec();
  if (p->dynUps != nullptr && p->cur != nullptr && !conn->peerText.empty()) {
    p->cur->addr = p->r->arena.dup(conn->peerText);  // a name: the address it resolved to
  }
  if (p->slotCounted) net::KeepalivePool::get().counted(p->poolKey, conn);
  p->slotCounted = false;
  p->conn = conn;
  sendRequest(p);
}

void connectPeer(Proxy* p) {
  Request& r = *p->r;
  p->state = Proxy::State::kConnecting;
  Peer* peer = nullptr;
  const Upstream* ups = p->pick.ups;
  p->pick.balancerPeer = false;
  if (ups->balancer != nullptr) {
    BalancerState* b = p->pick.bal;
    b->peerSet = false;
    b->recreate = false;
    p->inBalancer = true;
    int rc = ups->balancerRun(r, ups->balancer);
    p->inBalancer = false;
    if (rc != http::kOk) {
      p->cur = nullptr;
      finish(p, 500);
      return;
    }
    if (b->recreate) buildRequest(p);
    if (b->peerSet) {
      peer = &b->peer;
      p->pick.balancerPeer = true;
    }
  }
  if (peer == nullptr) peer = getPeer(&p->pick);
  if (peer == nullptr) {
    LUNET_LOG(r.log, core::Level::kError, 0, "no live upstreams while connecting to upstream");
    TryState t;
    t.addr = r.arena.dup(p->pick.ups->name);
    t.status = 502;
    p->ctx->tries.push(r.arena, t);
    p->cur = nullptr;
    finish(p, 502);
    return;
  }
  TryState t;
  t.addr = peer->name;
  p->ctx->tries.push(r.arena, t);
  p->cur = &p->ctx->tries[p->ctx->tries.size() - 1];
  p->tryStartMs = core::nowMsec();
  p->inBody = false;
  p->hlen = 0;
  p->status = 0;
  p->connClose = false;
  p->keepConn = false;
  p->requestSent = false;
  {
    size_t sp = p->head.find(' ') + 1;
    std::string_view uri = p->head.substr(sp, p->head.find(' ', sp) - sp);
    size_t n = 7 + peer->name.size() + uri.size();
    char* b = static_cast<char*>(r.arena.alloc(n, 1));
    std::memcpy(b, "http://", 7);
    std::memcpy(b + 7, peer->name.data(), peer->name.size());
    std::memcpy(b + 7 + peer->name.size(), uri.data(), uri.size());
    r.upstreamLog = {b, n};
  }
  const Upstream* u = p->pick.ups;
  p->reused = false;
  if (u->keepalive > 0) {
    if (peer->poolKey.empty()) peer->poolKey = u->poolPrefix + peer->name;
    p->poolKey = peer->poolKey;
    net::KeepalivePool::Waiter w;
    net::ClientConnection* idle = nullptr;
    auto admit = net::KeepalivePool::get().admit(p->poolKey, 0, false, 0, &w, &idle);
    if (admit == net::KeepalivePool::Admit::kIdle) {
      p->conn = idle;
      p->reused = true;
      sendRequest(p);
      return;
    }
    p->slotCounted = admit == net::KeepalivePool::Admit::kGo;
  }
  std::string err;
  int sysErr = 0;
  p->connecting = net::Connect::start(peer->target, onConnected, p, &err, &sysErr);
  if (p->connecting == nullptr) {
    if (p->slotCounted) net::KeepalivePool::get().failed(p->poolKey);
    p->slotCounted = false;
    next(p, kFtError, "connect() failed", sysErr != 0 ? -sysErr : ECONNREFUSED);
    return;
  }
  armTimer(p, timeoutOf(p, p->conf->connectTimeout, &BalancerState::connectTimeout));
}

// ---- Sending ------------------------------------------------------------------------

void onWritten(void* data, int status) {
  auto* p = static_cast<Proxy*>(data);
  p->writes--;
  if (p->r == nullptr) {
    if (p->writes == 0) delete p;
    return;
  }
  if (status == UV_ECANCELED) return;
  core::updateTime();
  if (status < 0) {
    next(p, kFtError, "writev() failed", -status);
    return;
  }
  p->requestSent = true;
  if (p->state == Proxy::State::kSending) {
    p->state = Proxy::State::kHeader;
    armTimer(p, timeoutOf(p, p->conf->readTimeout, &BalancerState::readTimeout));
    // The answer may have come in before this callback (same loop turn).
    if (p->hlen > 0) parseHead(p);
  }
}

void sendRequest(Proxy* p) {
  if (p->cur != nullptr) {
    p->cur->connectMs = static_cast<int64_t>(core::nowMsec() - p->tryStartMs);
  }
  net::ClientConnection* c = p->conn;
  c->setUser(p);
  p->state = Proxy::State::kSending;
  if (p->hbuf == nullptr) {
    p->hcap = static_cast<size_t>(p->conf->bufferSize);
    p->hbuf = gBufs.get(p->hcap);
  }
  if (int rc = c->stream().readStart(); rc != 0) {
    next(p, kFtError, "recv() failed", -rc);
    return;
  }
  int rc = c->stream().write(p->bufs, p->nbufs, onWritten, p);
  if (rc != 0) {
    next(p, kFtError, "writev() failed", -rc);
    return;
  }
  p->writes++;
  armTimer(p, timeoutOf(p, p->conf->sendTimeout, &BalancerState::sendTimeout));
}

// ---- Failures and retries -------------------------------------------------------------

// nginx's ngx_http_upstream_next: log, count the failure, then try the next
// peer or end with the status the failure maps to.
void next(Proxy* p, int64_t ft, const char* why, int sysErr) {
  Request& r = *p->r;
  int status = 502;
  switch (ft) {
    case kFtTimeout:
    case kFt504:
      status = 504;
      break;
    case kFt500:
      status = 500;
      break;
    case kFt503:
      status = 503;
      break;
    case kFt403:
      status = 403;
      break;
    case kFt404:
      status = 404;
      break;
    case kFt429:
      status = 429;
      break;
    default:
      break;
  }
  if (why != nullptr) {
    logErr(p, ft == kFtTimeout ? core::Level::kError : core::Level::kError, sysErr, why,
           actionOf(p));
  }
  if (p->cur != nullptr) {
    if (p->cur->status == 0) p->cur->status = status;
    p->cur->responseMs = static_cast<int64_t>(core::nowMsec() - p->tryStartMs);
  }
  bool cachedError = p->reused && ft == kFtError;
  if (p->pick.bal != nullptr) {
    p->pick.bal->lastState = ft == kFt403 || ft == kFt404 ? 2 : 4;
    p->pick.bal->lastStatus = status;
  }
  if (p->pick.balancerPeer) {
    if (p->pick.tries > 0) p->pick.tries--;
  } else if (p->pick.current != nullptr) {
    freePeer(r, &p->pick, ft != kFt403 && ft != kFt404);
  }
  if (cachedError) p->pick.tries++;  // a kept connection the peer had closed: not a try
  releaseConn(p, ft == kFt403 || ft == kFt404 ? false : false);
  int64_t mask = ft;
  if (p->requestSent && (r.method & (http::kPost | http::kPatch)) != 0) mask |= kFtNonIdempotent;
  if (p->requestSent && r.methodName == "LOCK") mask |= kFtNonIdempotent;
  uint64_t now = core::nowMsec();
  bool timedOut =
      p->conf->nextTimeout > 0 && now - p->startMs >= static_cast<uint64_t>(p->conf->nextTimeout);
  if (p->pick.tries == 0 || (p->conf->nextUpstream & mask) != mask || timedOut ||
      p->clientHeaderSent) {
    p->cur = nullptr;
    finish(p, p->clientHeaderSent ? http::kError : status);
    return;
  }
  connectPeer(p);
}

void onTimer(void* data) {
  auto* p = static_cast<Proxy*>(data);
  core::updateTime();
  if (p->state == Proxy::State::kBody) {
    logErr(p, core::Level::kError, ETIMEDOUT, "upstream timed out", actionOf(p));
    p->keepConn = false;
    finish(p, http::kError);
    return;
  }
  next(p, kFtTimeout, "upstream timed out", ETIMEDOUT);
}

// ---- The response head ------------------------------------------------------------------

bool hidden(const ProxyLoc* c, std::string_view name) {
  static constexpr std::string_view kHide[] = {"Date",
                                               "Server",
                                               "X-Pad",
                                               "X-Accel-Expires",
                                               "X-Accel-Redirect",
                                               "X-Accel-Limit-Rate",
                                               "X-Accel-Buffering",
                                               "X-Accel-Charset"};
  for (const std::string& h : c->passHdr) {
    if (http::ieq(h, name)) return false;
  }
  for (std::string_view h : kHide) {
    if (http::ieq(h, name)) return true;
  }
  for (const std::string& h : c->hide) {
    if (http::ieq(h, name)) return true;
  }
  return false;
}

std::string_view rewriteLocation(Proxy* p, std::string_view v) {
  const ProxyLoc* c = p->conf;
  Request& r = *p->r;
  if (c->redirect == 0) return v;
  if (c->redirect == 1) {
    if (p->dynamicUrl) return v;  // nginx: no default with variables
    std::string from = c->hasUri ? c->url : c->url + "/";
    std::string_view to = c->hasUri ? std::string_view(c->locName) : std::string_view("/");
    if (c->locName.empty() || !r.validLocation) return v;
    if (v.substr(0, from.size()) == from) {
      std::string s(to);
      s.append(v.substr(from.size()));
      return r.arena.dup(s);
    }
    return v;
  }
  for (const auto& [from, to] : c->redirects) {
    if (v.substr(0, from.size()) == from) {
      std::string s(to);
      s.append(v.substr(from.size()));
      return r.arena.dup(s);
    }
  }
  return v;
}

void onBodyData(void* data, const char* at, size_t len) noexcept {
  auto* p = static_cast<Proxy*>(data);
  Buf* b = http::newBuf(*p->r, {at, len});
  *p->chainTail = b;
  p->chainTail = &b->next;
  if (p->cur != nullptr) p->cur->responseLength += static_cast<int64_t>(len);
}

void pushBody(Proxy* p, const char* at, size_t len);

void onDrained(Request&, void* data) {
  auto* p = static_cast<Proxy*>(data);
  p->waitingDrain = false;
  if (p->conn == nullptr || p->state != Proxy::State::kBody) return;
  if (int rc = p->conn->stream().readStart(); rc != 0) {
    logErr(p, core::Level::kError, -rc, "recv() failed", actionOf(p));
    finish(p, http::kError);
    return;
  }
  armTimer(p, timeoutOf(p, p->conf->readTimeout, &BalancerState::readTimeout));
}

// Passes the body bytes at..len on; ends the request once the body is done.
void pushBody(Proxy* p, const char* at, size_t len) {
  Request& r = *p->r;
  if (len > 0) {
    long n = p->body.feed(at, len);
    if (n < 0) {
      logErr(p, core::Level::kError, 0, "upstream sent invalid chunked response", actionOf(p));
      p->keepConn = false;
      finish(p, http::kError);
      return;
    }
    if (static_cast<size_t>(n) < len) {
      LUNET_LOG(r.log, core::Level::kWarn, 0,
                "upstream sent more data than specified in \"Content-Length\" header while "
                "reading upstream");
      p->connClose = true;
    }
  }
  bool done = p->body.done();
  Buf* out = p->chain;
  p->chain = nullptr;
  p->chainTail = &p->chain;
  if (done) {
    Buf* last = http::newBuf(r, {});
    last->last = true;
    if (out == nullptr) {
      out = last;
    } else {
      Buf* t = out;
      while (t->next != nullptr) t = t->next;
      t->next = last;
    }
    p->keepConn = p->pick.ups->keepalive > 0 && !p->connClose;
    releaseConn(p, p->keepConn);
  }
  if (out == nullptr) return;
  http::holdRequest(r);
  int rc = http::output(r, out);
  if (!http::unholdRequest(r)) return;  // the request is gone (p too)
  if (rc == http::kError) {
    p->keepConn = false;
    finish(p, http::kError);
    return;
  }
  if (done) {
    finish(p, http::kOk);
    return;
  }
  // One buffer in flight: read on once it left.
  if (p->conn != nullptr) p->conn->stream().readStop();
  event::disarm(&p->timer);
  p->waitingDrain = true;
  http::onDrained(r, onDrained, p);
}

int processHeaders(Proxy* p, size_t bodyStart) {
  Request& r = *p->r;
  const ProxyLoc* c = p->conf;
  char* h = static_cast<char*>(r.arena.alloc(bodyStart, 1));
  std::memcpy(h, p->hbuf, bodyStart);
  http::StatusLineParse sl;
  http::parseStatusLine(h, bodyStart, &sl);
  p->ctx->headers = http::HeaderList();
  http::HeadersOut& out = r.headersOut;
  int64_t contentLength = -1;
  bool chunked = false;
  p->connClose = sl.version < 1001;
  size_t pos = sl.next;
  std::string_view location;
  for (;;) {
    http::HeaderLineParse hl;
    size_t bad = 0;
    http::parseHeaderLine(h, pos, bodyStart, &hl, &bad);
    if (hl.last) break;
    pos = hl.next;
    std::string_view name{h + hl.nameOff, hl.nameLen};
    std::string_view value{h + hl.valOff, hl.valLen};
    p->ctx->headers.add(r.arena, name, value);
    if (http::ieq(name, "Content-Length")) {
      int64_t v = 0;
      bool ok = !value.empty() && value.size() < 19;
      for (char ch : value) {
        ok = ok && ch >= '0' && ch <= '9';
        v = v * 10 + (ch - '0');
      }
      if (!ok) {
        logErr(p, core::Level::kError, 0, "upstream sent invalid \"Content-Length\" header",
               actionOf(p));
        return kFtInvalidHeader;
      }
      if (contentLength >= 0) {
        LUNET_LOG(r.log, core::Level::kError, 0,
                  "upstream sent duplicate header line: \"%.*s: %.*s\", previous value: "
                  "\"Content-Length: %lld\" while reading response header from upstream",
                  static_cast<int>(name.size()), name.data(), static_cast<int>(value.size()),
                  value.data(), static_cast<long long>(contentLength));
        return kFtInvalidHeader;
      }
      contentLength = v;
      continue;
    }
    if (http::ieq(name, "Transfer-Encoding")) {
      if (http::ieq(value, "chunked")) {
        chunked = true;
        continue;
      }
      LUNET_LOG(r.log, core::Level::kError, 0,
                "upstream sent unknown \"Transfer-Encoding\": \"%.*s\" while reading response "
                "header from upstream",
                static_cast<int>(value.size()), value.data());
      return kFtInvalidHeader;
    }
    if (http::ieq(name, "Connection")) {
      std::string lower(value);
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (lower.find("close") != std::string::npos) p->connClose = true;
      continue;
    }
    if (http::ieq(name, "Keep-Alive")) continue;
    if (hidden(c, name)) continue;
    if (http::ieq(name, "Content-Type")) {
      out.contentType = value;
      continue;
    }
    if (http::ieq(name, "Location")) {
      location = rewriteLocation(p, value);
      continue;
    }
    out.list.add(r.arena, name, value);
  }
  if (chunked && contentLength >= 0) {
    LUNET_LOG(r.log, core::Level::kError, 0,
              "upstream sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same "
              "time while reading response header from upstream");
    return kFtInvalidHeader;
  }
  p->status = sl.status;
  if (p->cur != nullptr) p->cur->status = sl.status;
  out.status = sl.status;
  out.statusLine = std::string_view{h + sl.textOff, sl.textLen};
  out.contentLength = chunked ? -1 : contentLength;
  if (!location.empty()) out.location = location;
  using F = http::ResponseBody::Framing;
  F f = F::kClose;
  if ((r.method & http::kHead) || sl.status < 200 || sl.status == 204 || sl.status == 304) {
    f = F::kNone;
  } else if (chunked) {
    f = F::kChunked;
  } else if (contentLength >= 0) {
    f = F::kLength;
  }
  if (f == F::kClose) p->connClose = true;
  p->body.init(f, contentLength, onBodyData, p);
  return 0;
}

// The next-upstream rule for a status (nginx's ngx_http_upstream_test_next).
int64_t statusFailure(int status) {
  switch (status) {
    case 500:
      return kFt500;
    case 502:
      return kFt502;
    case 503:
      return kFt503;
    case 504:
      return kFt504;
    case 403:
      return kFt403;
    case 404:
      return kFt404;
    case 429:
      return kFt429;
    default:
      return 0;
  }
}

// X-Accel-Redirect (nginx's ngx_http_upstream_process_headers): the
// upstream's answer is dropped and the request goes on, as a GET, at that
// URI (or named location) of this server.
void accelRedirect(Proxy* p, std::string_view target) {
  Request& r = *p->r;
  std::string_view uri = r.arena.dup(target);
  if (p->cur != nullptr && p->cur->responseMs < 0) {
    p->cur->responseMs = static_cast<int64_t>(core::nowMsec() - p->tryStartMs);
  }
  if (p->pick.current != nullptr) freePeer(r, &p->pick, false);
  releaseConn(p, false);
  p->state = Proxy::State::kDone;
  r.headersOut = http::HeadersOut();
  r.upstreamLog = {};
  r.method = http::kGet;
  r.methodName = "GET";
  if (!uri.empty() && uri[0] == '@') {
    http::namedLocation(r, uri);
    return;
  }
  std::string_view args;
  if (size_t q = uri.find('?'); q != std::string_view::npos) {
    args = uri.substr(q + 1);
    uri = uri.substr(0, q);
  }
  if (uri.empty() || uri[0] != '/' || uri.find("/../") != std::string_view::npos) {
    LUNET_LOG(r.log, core::Level::kError, 0, "unsafe URI \"%.*s\" was detected",
              static_cast<int>(uri.size()), uri.data());
    http::finalize(r, 404);
    return;
  }
  http::internalRedirect(r, uri, args);
}

void headerDone(Proxy* p, size_t bodyStart) {
  Request& r = *p->r;
  if (p->cur != nullptr) {
    p->cur->headerMs = static_cast<int64_t>(core::nowMsec() - p->tryStartMs);
  }
  int ft = processHeaders(p, bodyStart);
  if (ft != 0) {
    next(p, ft, nullptr, 0);
    return;
  }
  if (int64_t sf = statusFailure(p->status); sf != 0) {
    int64_t mask = sf;
    if (p->requestSent && (r.method & (http::kPost | http::kPatch)) != 0) {
      mask |= kFtNonIdempotent;
    }
    uint64_t now = core::nowMsec();
    bool timedOut =
        p->conf->nextTimeout > 0 && now - p->startMs >= static_cast<uint64_t>(p->conf->nextTimeout);
    if (p->pick.tries > 1 && (p->conf->nextUpstream & mask) == mask && !timedOut) {
      r.headersOut = http::HeadersOut();
      next(p, sf, nullptr, 0);
      return;
    }
  }
  if (p->conf->interceptErrors && p->status >= 300) {
    const auto* clcf = r.clcf();
    for (const http::ErrorPage& ep : clcf->errorPages) {
      if (ep.status == p->status) {
        int st = p->status;
        r.headersOut = http::HeadersOut();
        p->keepConn = false;
        finish(p, st);
        return;
      }
    }
  }
  if (!(p->conf->ignoreHeaders & kIgnoreAccelRedirect)) {
    if (const http::Header* x = p->ctx->headers.find("X-Accel-Redirect"); x != nullptr) {
      return accelRedirect(p, x->value);
    }
  }
  p->state = Proxy::State::kBody;
  p->clientHeaderSent = true;
  http::holdRequest(r);
  int rc = http::sendHeader(r);
  if (!http::unholdRequest(r)) return;
  if (rc == http::kError) {
    finish(p, http::kError);
    return;
  }
  p->inBody = true;
  pushBody(p, p->hbuf + bodyStart, p->hlen - bodyStart);
}

// Checks the head read so far; acts once it is complete or invalid.
void parseHead(Proxy* p) {
  http::StatusLineParse sl;
  int rc = http::parseStatusLine(p->hbuf, p->hlen, &sl);
  if (rc == http::kStatusInvalid) {
    logErr(p, core::Level::kError, 0, "upstream sent no valid HTTP/1.0 header", actionOf(p));
    next(p, kFtInvalidHeader, nullptr, 0);
    return;
  }
  size_t pos = sl.next;
  while (rc == http::kHeadOk) {
    http::HeaderLineParse hl;
    size_t bad = 0;
    rc = http::parseHeaderLine(p->hbuf, pos, p->hlen, &hl, &bad);
    if (rc == http::kHeadOk) {
      if (hl.last) return headerDone(p, hl.next);
      pos = hl.next;
    } else if (rc != http::kHeadAgain) {
      size_t start = pos;
      size_t len = bad > start ? bad - start : 0;
      p->r->log.error(core::Level::kError, 0,
                      "upstream sent invalid header: \"%.*s\\x%02X...\" while reading response "
                      "header from upstream",
                      static_cast<int>(len), p->hbuf + start,
                      static_cast<unsigned char>(p->hbuf[bad]));
      next(p, kFtInvalidHeader, nullptr, 0);
      return;
    }
  }
  if (p->hlen == p->hcap) {
    logErr(p, core::Level::kError, 0, "upstream sent too big header", actionOf(p));
    next(p, kFtInvalidHeader, nullptr, 0);
  }
}

}  // namespace

Proxy::~Proxy() {
  delete pick.bal;
  gBufs.put(hcap, hbuf);
  gBufs.put(bcap, bbuf);
}

uv_buf_t Proxy::readBuffer() noexcept {
  if (!inBody) return uv_buf_init(hbuf + hlen, static_cast<unsigned>(hcap - hlen));
  if (bbuf == nullptr) {  // only once the body did not fit the head's buffer
    bcap = kBodyBuffer;
    bbuf = gBufs.get(bcap);
    if (bbuf == nullptr) bcap = 0;
  }
  return uv_buf_init(bbuf, static_cast<unsigned>(bcap));
}

void Proxy::onRead(ssize_t nread) noexcept {
  Proxy* p = this;
  if (p->r == nullptr || nread == 0) return;
  core::updateTime();
  if (nread < 0) {
    if (p->state == State::kBody) {
      if (nread == UV_EOF && p->body.finish()) {
        p->connClose = true;
        pushBody(p, nullptr, 0);
        return;
      }
      if (nread == UV_EOF) {
        logErr(p, core::Level::kError, 0, "upstream prematurely closed connection", actionOf(p));
      } else {
        logErr(p, core::Level::kError, static_cast<int>(-nread), "recv() failed", actionOf(p));
      }
      p->keepConn = false;
      finish(p, http::kError);
      return;
    }
    if (p->state == State::kSending) p->state = State::kHeader;
    if (nread == UV_EOF) {
      next(p, kFtError, "upstream prematurely closed connection", 0);
    } else {
      next(p, kFtError, "recv() failed", static_cast<int>(-nread));
    }
    return;
  }
  if (p->cur != nullptr) p->cur->bytesReceived += nread;
  if (!p->inBody) {
    p->hlen += static_cast<size_t>(nread);
    if (p->state == State::kSending) return;  // a response before the request left: later
    parseHead(p);
    return;
  }
  pushBody(p, p->bbuf, static_cast<size_t>(nread));
}

namespace {

// proxy_pass with variables: the URL of this request names an upstream
// block, or one peer (an address, resolved when connecting if a name).
Upstream* dynamicUpstream(Proxy* p) {
  Request& r = *p->r;
  std::string_view url = p->conf->urlValue->eval(r);
  ProxyUrl u;
  std::string err;
  if (!parseProxyUrl(url, &u, &err)) {
    LUNET_LOG(r.log, core::Level::kError, 0, "%s", err.c_str());
    return nullptr;
  }
  p->dynamicUrl = true;
  p->hasUri = u.hasUri;
  p->uri = r.arena.dup(u.uri);
  p->ctx->hostText = r.arena.dup(u.hostText);
  p->ctx->portText = r.arena.dup(u.portText);
  if (!u.hasPort && p->conf->upsMain != nullptr) {
    for (const auto& x : p->conf->upsMain->upstreams) {
      if (!x->implicit && x->name == u.upsName) return x.get();
    }
  }
  auto d = std::make_unique<Upstream>();
  d->name = u.upsName;
  d->implicit = true;
  d->poolPrefix = "ups:" + u.upsName + ":";
  Peer peer;
  peer.server = u.upsName;
  if (u.upsName.rfind("unix:", 0) == 0) {
    peer.target.path = u.upsName.substr(5);
    peer.name = u.upsName;
  } else {
    std::string host = u.upsName;
    uint16_t port = 80;
    if (u.hasPort) {
      size_t c = host.rfind(':');
      port = static_cast<uint16_t>(std::atoi(host.c_str() + c + 1));
      host.resize(c);
    }
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    net::SockAddr sa;
    peer.target.host = host;
    peer.target.port = port;
    peer.name = net::parseNumeric(host, port, &sa) ? sa.text() : host + ":" + std::to_string(port);
  }
  d->peers.push_back(std::move(peer));
  p->dynUps = std::move(d);
  return p->dynUps.get();
}

void startUpstream(Request& r) {
  ProxyCtx* ctx = proxyCtx(r);
  if (ctx == nullptr || ctx->proxy == nullptr) return;
  Proxy* p = ctx->proxy;
  if (p->state != Proxy::State::kIdle) return;
  Upstream* ups = p->conf->ups;
  p->hasUri = p->conf->hasUri;
  p->uri = p->conf->uri;
  if (p->conf->urlValue) {
    ups = dynamicUpstream(p);
    if (ups == nullptr) {
      finish(p, 500);
      return;
    }
  }
  buildRequest(p);
  p->startMs = core::nowMsec();
  initPick(r, ups, &p->pick);
  if (p->conf->nextTries > 0 && p->pick.tries > p->conf->nextTries) {
    p->pick.tries = p->conf->nextTries;
  }
  p->pick.maxTries = p->conf->nextTries;
  if (ups->balancer != nullptr) p->pick.bal = new BalancerState;
  connectPeer(p);
}

}  // namespace

BalancerState* balancerState(Request& r) noexcept {
  ProxyCtx* ctx = proxyCtx(r);
  if (ctx == nullptr || ctx->proxy == nullptr) return nullptr;
  return ctx->proxy->pick.bal;
}

// nginx's ngx_http_lua_ffi_balancer_set_more_tries: within
// proxy_next_upstream_tries counting the tries made and granted so far.
bool addTries(Request& r, int64_t count) noexcept {
  ProxyCtx* ctx = proxyCtx(r);
  if (ctx == nullptr || ctx->proxy == nullptr) return true;
  PeerPick& pick = ctx->proxy->pick;
  bool full = true;
  int64_t total = pick.bal->totalTries + pick.tries;
  if (pick.maxTries > 0 && total + count > pick.maxTries) {
    count = pick.maxTries - total;
    full = false;
  }
  if (count < 0) count = 0;
  pick.bal->totalTries += count;
  pick.tries += count;
  return full;
}

int proxyHandler(Request& r) {
  const auto* conf = r.loc<ProxyLoc>(proxyModule());
  auto* ctx = r.arena.make<ProxyCtx>();
  ctx->conf = conf;
  r.setCtx(proxyModule(), ctx);
  auto* p = new Proxy;
  p->r = &r;
  p->ctx = ctx;
  p->conf = conf;
  ctx->proxy = p;
  http::addCleanup(r, onRequestCleanup, p);
  int rc = http::readBody(r, startUpstream);
  if (rc == http::kOk || rc == http::kAgain) return http::kDone;
  return rc;
}

}  // namespace lunet::upstream
