// Connections: accept and worker_connections, the header buffer and its
// pools, reading (the stream's user: where bytes go by state), the
// connection's timeout, close and graceful shutdown.
#include "http/connection.h"

#include <arpa/inet.h>
#include <sys/ioctl.h>

#include <cstring>

#include "core/time.h"
#include "event/loop.h"
#include "shm/counters.h"

namespace lunet::http {

namespace {

Connection* gAll = nullptr;
char gScratch[16384];  // discard / lingering reads

// Per-worker recycling (core::FreeList): connections, header buffers of the
// common size, header-offset blocks and write requests. A warmed-up
// keep-alive request makes no heap call.
core::FreeList& connPool() noexcept {
  static thread_local core::FreeList pool(sizeof(Connection), 1024);
  return pool;
}
constexpr uint32_t kHdrBlock = 64;  // header lines per pooled offset block
core::FreeList& hdrPool() noexcept {
  static thread_local core::FreeList pool(sizeof(HdrOff) * kHdrBlock, 256);
  return pool;
}
// Header buffers: the first client_header_buffer_size seen is pooled (it is
// almost always the only one); other sizes come from the heap.
// The pool is freed (with the buffers it keeps) at exit: a kept buffer is
// linked only from inside other, poisoned, kept buffers, and LeakSanitizer
// reports those when several connections held one at the same time.
struct HbufPoolHolder {
  core::FreeList* pool = nullptr;
  ~HbufPoolHolder() {
    delete pool;
    pool = nullptr;
  }
};
core::FreeList*& hbufPool() noexcept {
  static thread_local HbufPoolHolder holder;
  return holder.pool;
}

}  // namespace

char* allocHbuf(size_t size) noexcept {
  core::FreeList*& pool = hbufPool();
  if (pool == nullptr) pool = new core::FreeList(size, 256);
  if (pool->size() == size) return static_cast<char*>(pool->get());
  return static_cast<char*>(::operator new(size));
}
void freeHbuf(char* p, size_t size) noexcept {
  if (p == nullptr) return;
  core::FreeList* pool = hbufPool();
  if (pool != nullptr && pool->size() == size) {
    pool->put(p);
  } else {
    ::operator delete(p);
  }
}
// The llhttp parser comes with the header buffer and goes with it: idle
// keep-alive connections hold neither.

namespace {

core::FreeList& parserPool() noexcept {
  static thread_local core::FreeList pool(sizeof(llhttp_t), 1024);
  return pool;
}

}  // namespace

void releaseHbuf(Connection* c) noexcept {
  if (c->parser != nullptr) {
    parserPool().put(c->parser);
    c->parser = nullptr;
  }
  freeHbuf(c->hbuf, c->hcap);
  c->hbuf = nullptr;
  c->hcap = c->hlen = 0;
}

namespace {

// worker_connections: slots a worker may use (0: no limit) and those in use.
// As in nginx, every listening socket the worker polls takes a slot; client
// connections take one from accept to closeConnection.
int64_t gConnLimit = 0;
int64_t gConnListening = 0;
int64_t gConnClients = 0;
int64_t gConnConfigured = 0;  // worker_connections as written (for the log)
uint64_t gReuseWarnedSec = 0;

void linkConn(Connection* c) {
  c->next = gAll;
  if (gAll) gAll->prev = c;
  gAll = c;
}
void unlinkConn(Connection* c) {
  if (c->prev) c->prev->next = c->next;
  if (c->next) c->next->prev = c->prev;
  if (gAll == c) gAll = c->next;
  c->prev = c->next = nullptr;
}

}  // namespace

void HdrVec::grow() noexcept {
  uint32_t ncap = cap_ ? cap_ * 2 : kHdrBlock;
  auto* n = ncap == kHdrBlock ? static_cast<HdrOff*>(hdrPool().get()) : new HdrOff[ncap];
  if (size_ != 0) std::memcpy(n, data_, sizeof(HdrOff) * size_);
  uint32_t size = size_;
  release();
  data_ = n;
  size_ = size;
  cap_ = ncap;
}

void HdrVec::release() noexcept {
  if (data_ != nullptr) {
    if (cap_ == kHdrBlock) {
      hdrPool().put(data_);
    } else {
      delete[] data_;
    }
  }
  data_ = nullptr;
  size_ = cap_ = 0;
}

void setState(Connection* c, ConnState s) {
  auto count = [](ConnState st, int d) {
    switch (st) {
      case ConnState::kIdle:
        shm::counters().waiting.fetch_add(d, std::memory_order_relaxed);
        break;
      case ConnState::kHeader:
        shm::counters().reading.fetch_add(d, std::memory_order_relaxed);
        break;
      case ConnState::kRequest:
        shm::counters().writing.fetch_add(d, std::memory_order_relaxed);
        break;
      default:
        break;
    }
  };
  count(c->state, -1);
  c->state = s;
  count(s, +1);
}

// ---- buffers and reading --------------------------------------------------------

void startReading(Connection* c) {
  if (c->reading || c->eof) return;
  c->reading = true;
  int rc = c->stream.readStart();
  if (rc != 0) {
    c->reading = false;
    c->eof = true;
  }
}
void stopReading(Connection* c) {
  if (!c->reading) return;
  c->reading = false;
  c->stream.readStop();
}

void ensureHbuf(Connection* c) {
  if (c->hbuf != nullptr) return;
  if (c->parser == nullptr) {
    c->parser = new (parserPool().get()) llhttp_t;
    initParser(c);
  }
  size_t size = static_cast<size_t>(c->defaultSrv->clientHeaderBufferSize);
  c->hbuf = allocHbuf(size);
  c->hcap = size;
  c->hlen = c->hparsed = c->reqStart = 0;
}

uv_buf_t Connection::readBuffer(net::Stream&) noexcept {
  Connection* c = this;
  switch (c->state) {
    case ConnState::kIdle:
    case ConnState::kHeader:
      ensureHbuf(c);
      return uv_buf_init(c->hbuf + c->hlen, static_cast<unsigned>(c->hcap - c->hlen));
    case ConnState::kRequest:
      if (c->messageDone && c->hbuf != nullptr && c->hlen < c->hcap) {
        // Reading stays on while the request runs: pipelined bytes are
        // buffered after it (onRead stops when the buffer is full).
        return uv_buf_init(c->hbuf + c->hlen, static_cast<unsigned>(c->hcap - c->hlen));
      }
      if (c->req != nullptr && !c->req->discardBody) {
        size_t size = 16384;
        const RequestBody* b = c->req->body;
        int64_t cl = c->req->headersIn.contentLengthN;
        if (cl > 0 && b != nullptr) {
          int64_t left = cl - b->received;
          if (left > 0 && left < static_cast<int64_t>(size)) size = static_cast<size_t>(left);
        }
        int64_t bbs = c->req->clcf()->clientBodyBufferSize;
        if (bbs > static_cast<int64_t>(size) && cl > static_cast<int64_t>(size)) {
          size = static_cast<size_t>(cl < bbs ? cl : bbs);
        }
        if (size < 1024) size = 1024;  // room for a pipelined request after the body
        c->bbuf = static_cast<char*>(c->req->arena.alloc(size, 1));
        c->bcap = size;
        return uv_buf_init(c->bbuf, static_cast<unsigned>(size));
      }
      [[fallthrough]];
    default:
      c->bbuf = gScratch;
      c->bcap = sizeof(gScratch);
      return uv_buf_init(gScratch, sizeof(gScratch));
  }
}

void onHeaderTimeout(void* conn) {
  auto* c = static_cast<Connection*>(conn);
  core::updateTime();
  if (c->state == ConnState::kHeader) {
    LUNET_LOG(c->log, core::Level::kInfo, ETIMEDOUT, "client timed out");
  }
  closeConnection(c);
}

void onLingerTimeout(void* conn) { closeConnection(static_cast<Connection*>(conn)); }

void Connection::onRead(net::Stream&, ssize_t nread) noexcept {
  Connection* c = this;
  core::updateTime();
  if (nread == 0) {
    if (c->state == ConnState::kIdle && c->hlen == 0) releaseHbuf(c);  // idle: no buffer
    return;
  }
  if (nread < 0) {
    c->eof = true;
    stopReading(c);
    if (c->state == ConnState::kRequest && c->req != nullptr) {
      Request* r = c->req;
      // Reading stays on while a bodiless request runs: a clean EOF then
      // is a half-close; requests already buffered are still answered and
      // requestDone() closes once none is left.
      if (nread == UV_EOF && c->messageDone && !r->discardBody) return;
      c->closeAfter = true;
      if (r->bodyReading || r->discardBody) {
        if (nread != UV_EOF) {
          LUNET_LOG(r->log, core::Level::kInfo, static_cast<int>(-nread), "recv() failed");
        } else {
          LUNET_LOG(r->log, core::Level::kInfo, 0,
                    "client prematurely closed connection, so upstream connection is closed too");
        }
        r->bodyReading = false;
        if (r->discardBody) {
          closeConnection(c);
          return;
        }
        finalize(*r, 400);
      }
      return;
    }
    if (nread != UV_EOF) {
      LUNET_LOG(c->log, core::Level::kInfo, static_cast<int>(-nread), "recv() failed");
    } else if (c->state == ConnState::kIdle && c->requests == 0) {
      LUNET_LOG(c->log, core::Level::kInfo, 0,
                "client closed connection while waiting for request");
    } else if (c->state == ConnState::kIdle) {
      LUNET_LOG(c->log, core::Level::kInfo, 0, "client %s closed keepalive connection",
                c->peerText);
    } else if (c->state == ConnState::kHeader) {
      LUNET_LOG(c->log, core::Level::kInfo, 0,
                "client prematurely closed connection while reading client request %s",
                c->inRequestLine ? "line" : "headers");
    }
    closeConnection(c);
    return;
  }
  switch (c->state) {
    case ConnState::kIdle:
      setState(c, ConnState::kHeader);
      c->hlen += static_cast<size_t>(nread);
      armTimer(c, static_cast<uint64_t>(c->defaultSrv->clientHeaderTimeout), onHeaderTimeout);
      processHeader(c);
      return;
    case ConnState::kHeader:
      c->hlen += static_cast<size_t>(nread);
      processHeader(c);
      return;
    case ConnState::kRequest:
      if (c->messageDone) {  // pipelined bytes, buffered after the request
        if (c->rest == nullptr) c->rest = c->hbuf + c->hlen;
        c->hlen += static_cast<size_t>(nread);
        c->restLen += static_cast<size_t>(nread);
        if (c->hlen == c->hcap) stopReading(c);  // backpressure: buffer full
        return;
      }
      processBody(c, c->bbuf, static_cast<size_t>(nread));
      return;
    case ConnState::kLinger: {
      uint64_t now = core::nowMsec();
      if (now >= c->lingerDeadline) {
        closeConnection(c);
        return;
      }
      uint64_t left = c->lingerDeadline - now;
      uint64_t t = static_cast<uint64_t>(c->lingerTimeout);
      armTimer(c, t < left ? t : left, onLingerTimeout);
      return;
    }
    case ConnState::kClosing:
      return;
  }
}

void onKeepaliveTimeout(void* conn) {
  auto* c = static_cast<Connection*>(conn);
  if (c->shuttingDown) {
    // An exiting worker's idle grace ran out. Bytes already in the socket
    // are a request the client sent before it could know: read and serve it
    // (with Connection: close) instead of losing it. The poll phase of this
    // loop iteration reads them.
    int fd = c->stream.fd();
    int pending = 0;
    if (fd >= 0 && ::ioctl(fd, FIONREAD, &pending) == 0 && pending > 0) {
      armTimer(c, kExitIdleGraceMsec, onKeepaliveTimeout);
      return;
    }
  }
  closeConnection(c);
}

// The stream lives inside the Connection: it goes back to the pool when
// libuv has closed the socket.
void Connection::onClosed(net::Stream&) noexcept {
  this->~Connection();
  connPool().put(this);
}

Stats stats() {
  const shm::Counters& k = shm::counters();
  Stats s;
  s.accepts = k.accepts.load(std::memory_order_relaxed);
  s.handled = k.handled.load(std::memory_order_relaxed);
  s.requests = k.requests.load(std::memory_order_relaxed);
  s.active = k.active.load(std::memory_order_relaxed);
  s.reading = k.reading.load(std::memory_order_relaxed);
  s.writing = k.writing.load(std::memory_order_relaxed);
  s.waiting = k.waiting.load(std::memory_order_relaxed);
  return s;
}

// Connection timeouts: one at a time per connection (header, body, send,
// keep-alive, lingering), on the worker's timeout lists (event/timeouts.h).
void armTimer(Connection* c, uint64_t ms, void (*cb)(void* conn)) noexcept {
  if (c->state == ConnState::kClosing) return;
  event::arm(&c->timeout, ms, cb, c);
}

void stopTimer(Connection* c) noexcept { event::disarm(&c->timeout); }

namespace {

struct LocalAddr {
  SockAddr sa;
  char text[sizeof(Connection::peerText)];
  uint16_t port;
  LocalAddr* next;
};

// Dotted quad without printf (uv_ip4_name → inet_ntop → snprintf cost
// more than the rest of accepting a connection).
void formatIp4(in_addr a, char* out) noexcept {
  const auto* b = reinterpret_cast<const unsigned char*>(&a.s_addr);
  for (int i = 0; i < 4; i++) {
    unsigned v = b[i];
    if (v >= 100) *out++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *out++ = static_cast<char>('0' + v / 10 % 10);
    *out++ = static_cast<char>('0' + v % 10);
    *out++ = i < 3 ? '.' : '\0';
  }
}

template <class Fmt>
const LocalAddr* internLocal(const SockAddr& sa, Fmt fmt) noexcept {
  static thread_local LocalAddr* head = nullptr;
  size_t len = sa.sa.sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  for (LocalAddr* e = head; e != nullptr; e = e->next) {
    if (e->sa.sa.sa_family == sa.sa.sa_family && std::memcmp(&e->sa, &sa, len) == 0) return e;
  }
  auto* e = new LocalAddr{};
  e->sa = sa;
  fmt(sa, e->text, &e->port);
  e->next = head;
  head = e;
  return e;
}

}  // namespace

namespace {

// nginx's "reusable" connections: waiting for a request's first byte
// (fresh or keep-alive), nothing of a request read yet.
bool reusable(const Connection* c) noexcept {
  return c->state == ConnState::kIdle || (c->state == ConnState::kHeader && c->hlen == 0);
}

// nginx's ngx_drain_connections: when no slot is free, close up to
// max(min(32, reusable/8), 1) reusable connections, the oldest first, with a
// warning at most once a second. Only runs when the worker is full.
void drainConnections() noexcept {
  int64_t count = 0;
  Connection* last = nullptr;
  for (Connection* c = gAll; c != nullptr; c = c->next) {
    if (reusable(c)) count++;
    last = c;
  }
  if (count == 0) return;
  uint64_t sec = core::nowMsec() / 1000;
  if (sec != gReuseWarnedSec) {
    gReuseWarnedSec = sec;
    LUNET_LOG(core::processLog(), core::Level::kWarn, 0,
              "%lld worker_connections are not enough, reusing connections",
              static_cast<long long>(gConnConfigured));
  }
  int64_t n = count / 8 < 32 ? count / 8 : 32;
  if (n < 1) n = 1;
  for (Connection* c = last; c != nullptr && n > 0;) {  // gAll's tail: the oldest
    Connection* prev = c->prev;
    if (reusable(c)) {
      closeConnection(c);
      n--;
    }
    c = prev;
  }
}

}  // namespace

void setConnectionLimit(int64_t workerConnections, int64_t listening) noexcept {
  gConnConfigured = workerConnections;
  gConnLimit = workerConnections;
  gConnListening = listening;
}

void acceptConnection(uv_stream_t* server, ListenAddr* addr) noexcept {
  auto* c = new (connPool().get()) Connection();
  if (c->stream.initTcp(event::loop()) != 0) {
    c->~Connection();
    connPool().put(c);
    return;
  }
  c->stream.setUser(c);
  c->writer.init(&c->stream, c);
  if (c->stream.accept(server) != 0) {
    c->state = ConnState::kClosing;
    c->stream.close();
    return;
  }
  shm::counters().accepts.fetch_add(1, std::memory_order_relaxed);
  if (gConnLimit > 0 && gConnListening + gConnClients >= gConnLimit) {
    drainConnections();
    if (gConnListening + gConnClients >= gConnLimit) {
      // nginx (ngx_get_connection) closes the accepted socket: not handled.
      LUNET_LOG(core::processLog(), core::Level::kAlert, 0,
                "%lld worker_connections are not enough", static_cast<long long>(gConnConfigured));
      c->state = ConnState::kClosing;
      c->stream.close();
      return;
    }
  }
  gConnClients++;
  shm::counters().handled.fetch_add(1, std::memory_order_relaxed);
  shm::counters().active.fetch_add(1, std::memory_order_relaxed);
  c->number = shm::counters().connection.fetch_add(1, std::memory_order_relaxed) + 1;
  c->addr = addr;
  c->defaultSrv = addr->defaultServer;
  c->log = core::processLog();
  c->log.connection = c->number;
  c->log.handler = nullptr;
  int len = sizeof(c->peer);
  c->stream.peerName(reinterpret_cast<sockaddr*>(&c->peer), &len);
  // A socket bound to a specific address: that is the local address, no
  // getsockname needed (a wildcard needs it, as nginx).
  SockAddr local{};
  const sockaddr_storage& la = addr->addr;
  bool knownLocal = false;
  if (addr->subs.empty() && la.ss_family == AF_INET &&
      reinterpret_cast<const sockaddr_in*>(&la)->sin_addr.s_addr != htonl(INADDR_ANY)) {
    std::memcpy(&local.in4, &la, sizeof(sockaddr_in));
    knownLocal = true;
  } else if (addr->subs.empty() && la.ss_family == AF_INET6 &&
             !IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&la)->sin6_addr)) {
    std::memcpy(&local.in6, &la, sizeof(sockaddr_in6));
    knownLocal = true;
  }
  len = sizeof(local);
  if (!knownLocal) c->stream.sockName(reinterpret_cast<sockaddr*>(&local), &len);
  auto fmt = [](const auto& ss, char* out, uint16_t* port) {
    if (ss.sa.sa_family == AF_INET) {
      formatIp4(ss.in4.sin_addr, out);
      *port = ntohs(ss.in4.sin_port);
    } else if (ss.sa.sa_family == AF_INET6) {
      uv_ip6_name(&ss.in6, out, sizeof(Connection::peerText));
      *port = ntohs(ss.in6.sin6_port);
    } else {
      std::strcpy(out, "unix:");
    }
  };
  if (!addr->subs.empty()) {
    // The wildcard socket: the local address picks a specific listen.
    for (ListenAddr* sub : addr->subs) {
      bool match = false;
      if (local.sa.sa_family == AF_INET && sub->addr.ss_family == AF_INET) {
        match = reinterpret_cast<const sockaddr_in*>(&local)->sin_addr.s_addr ==
                reinterpret_cast<const sockaddr_in*>(&sub->addr)->sin_addr.s_addr;
      } else if (local.sa.sa_family == AF_INET6 && sub->addr.ss_family == AF_INET6) {
        match = std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&local)->sin6_addr,
                            &reinterpret_cast<const sockaddr_in6*>(&sub->addr)->sin6_addr,
                            sizeof(in6_addr)) == 0;
      }
      if (match) {
        c->addr = sub;
        c->defaultSrv = sub->defaultServer;
        break;
      }
    }
  }
  fmt(c->peer, c->peerText, &c->peerPort);
  // Local addresses are few (the listen addresses, the host's IPs): their
  // text is made once per worker and shared by the connections.
  const LocalAddr* known = internLocal(local, fmt);
  c->localText = known->text;
  c->localPort = known->port;
  // TCP_NODELAY is set when the connection first goes keep-alive (nginx):
  // a response written at once needs no setsockopt.
  linkConn(c);
  c->state = ConnState::kIdle;
  shm::counters().waiting.fetch_add(1, std::memory_order_relaxed);
  setState(c, ConnState::kHeader);
  armTimer(c, static_cast<uint64_t>(c->defaultSrv->clientHeaderTimeout), onHeaderTimeout);
  startReading(c);
}

void closeConnection(Connection* c) noexcept {
  if (c->state == ConnState::kClosing) return;
  setState(c, ConnState::kClosing);
  shm::counters().active.fetch_sub(1, std::memory_order_relaxed);
  gConnClients--;
  unlinkConn(c);
  if (c->req != nullptr) {
    Request* r = c->req;
    c->req = nullptr;
    freeRequest(r);
  }
  releaseHbuf(c);
  c->writer.close();
  c->hdrs.release();
  stopTimer(c);
  c->stream.close();
}

void shutdownConnections() noexcept {
  for (Connection* c = gAll; c != nullptr;) {
    Connection* next = c->next;
    c->shuttingDown = true;
    // nginx closes keep-alive connections between requests at once, racing
    // with clients already sending their next request (each such request is
    // lost). Here an idle connection gets a short grace instead: a request
    // that arrives in it is answered with Connection: close; one that does
    // not is closed when the grace ends, unless bytes are pending. A freshly
    // accepted connection is served (without keep-alive) or times out.
    if (c->state == ConnState::kIdle) armTimer(c, kExitIdleGraceMsec, onKeepaliveTimeout);
    c = next;
  }
}

}  // namespace lunet::http
