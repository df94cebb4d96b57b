// Connections: accept, read into the header buffer, llhttp, keep-alive,
// pipelining, body reading, the write queue, timeouts, lingering close.
#include "http/connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/time.h"
#include "event/loop.h"
#include "event/timeouts.h"
#include "http/parse.h"
#include "http/uri.h"
#include "process/process.h"
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
// How long an exiting worker keeps an idle keep-alive connection open for a
// request the client may already be sending (see shutdownConnections).
constexpr int64_t kExitIdleGraceMsec = 1000;
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
core::FreeList& parserPool() noexcept {
  static thread_local core::FreeList pool(sizeof(llhttp_t), 1024);
  return pool;
}
void releaseHbuf(Connection* c) noexcept {
  if (c->parser != nullptr) {
    parserPool().put(c->parser);
    c->parser = nullptr;
  }
  freeHbuf(c->hbuf, c->hcap);
  c->hbuf = nullptr;
  c->hcap = c->hlen = 0;
}

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

namespace {

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

// ---- llhttp callbacks --------------------------------------------------------
//
// llhttp sees a canonical head (see startRequest) and then the body bytes:
// only body framing and the end of the message come back from it.

Connection* connOf(llhttp_t* p) { return static_cast<Connection*>(p->data); }

int onBody(llhttp_t* p, const char* at, size_t len);
// A chunk bigger than client_max_body_size allows is refused on its size
// line, before its data arrives, as nginx does.
int onChunkHeader(llhttp_t* p) {
  Connection* c = connOf(p);
  Request* r = c->req;
  if (r == nullptr || r->discardBody || r->locConf == nullptr) return 0;
  int64_t max = r->clcf()->clientMaxBodySize;
  int64_t received = r->body != nullptr ? r->body->received : 0;
  auto size = static_cast<int64_t>(p->content_length);
  if (max > 0 && (size > max || received + size > max)) {
    LUNET_LOG(r->log, core::Level::kError, 0,
              "client intended to send too large chunked body: %lld+%lld bytes",
              static_cast<long long>(received), static_cast<long long>(size));
    c->parseError = 413;
    return -1;
  }
  return 0;
}
int onMessageComplete(llhttp_t* p) {
  Connection* c = connOf(p);
  c->messageDone = true;
  if (c->req && c->req->body) c->req->body->done = true;
  return HPE_PAUSED;
}

llhttp_settings_t makeSettings() {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_body = onBody;
  s.on_chunk_header = onChunkHeader;
  s.on_message_complete = onMessageComplete;
  return s;
}
const llhttp_settings_t gSettings = makeSettings();

uint32_t methodBit(std::string_view m) {
  switch (m.size()) {
    case 3:
      if (m == "GET") return kGet;
      if (m == "PUT") return kPut;
      break;
    case 4:
      if (m == "HEAD") return kHead;
      if (m == "POST") return kPost;
      break;
    case 5:
      if (m == "PATCH") return kPatch;
      if (m == "TRACE") return kTrace;
      break;
    case 6:
      if (m == "DELETE") return kDelete;
      break;
    case 7:
      if (m == "OPTIONS") return kOptions;
      if (m == "CONNECT") return kConnect;
      break;
  }
  return kOtherMethod;
}

// nginx's header-name rule (ngx_http_parse_header_line): letters, digits
// and '-' are valid; '_' only with underscores_in_headers on. Everything
// else llhttp lets through (token characters: "!#$%&'*+.^`|~") is not.
struct HeaderNameTable {
  bool valid[256] = {};
  constexpr HeaderNameTable() {
    for (int ch = 'a'; ch <= 'z'; ch++) valid[ch] = valid[ch - 'a' + 'A'] = true;
    for (int ch = '0'; ch <= '9'; ch++) valid[ch] = true;
    valid[static_cast<unsigned char>('-')] = true;
  }
};
constexpr HeaderNameTable kHeaderName;

bool validHeaderName(std::string_view name, bool underscores) noexcept {
  for (char ch : name) {
    auto u = static_cast<unsigned char>(ch);
    if (!kHeaderName.valid[u] && !(ch == '_' && underscores)) return false;
  }
  return true;
}

// The header lines nginx handles specially: Host and Connection, and those
// that may appear once ("client sent duplicate header line").
enum HeaderKind : uint8_t {
  kHdrOther,
  kHdrHost,
  kHdrConnection,
  kHdrContentLength,  // first of the unique ones
  kHdrTransferEncoding,
  kHdrIfModifiedSince,
  kHdrIfUnmodifiedSince,
  kHdrIfMatch,
  kHdrIfNoneMatch,
  kHdrIfRange,
  kHdrContentRange,
  kHdrExpect,
  kHdrAuthorization,
  kHdrKinds
};

HeaderKind headerKind(std::string_view n) {
  switch (n.size()) {
    case 4:
      if (ieq(n, "Host")) return kHdrHost;
      break;
    case 6:
      if (ieq(n, "Expect")) return kHdrExpect;
      break;
    case 8:
      if (ieq(n, "If-Match")) return kHdrIfMatch;
      if (ieq(n, "If-Range")) return kHdrIfRange;
      break;
    case 10:
      if (ieq(n, "Connection")) return kHdrConnection;
      break;
    case 13:
      if (ieq(n, "If-None-Match")) return kHdrIfNoneMatch;
      if (ieq(n, "Content-Range")) return kHdrContentRange;
      if (ieq(n, "Authorization")) return kHdrAuthorization;
      break;
    case 14:
      if (ieq(n, "Content-Length")) return kHdrContentLength;
      break;
    case 17:
      if (ieq(n, "If-Modified-Since")) return kHdrIfModifiedSince;
      if (ieq(n, "Transfer-Encoding")) return kHdrTransferEncoding;
      break;
    case 19:
      if (ieq(n, "If-Unmodified-Since")) return kHdrIfUnmodifiedSince;
      break;
  }
  return kHdrOther;
}

// nginx looks for these words anywhere in Connection, case-insensitively.
bool containsNoCase(std::string_view v, std::string_view word) {
  for (size_t i = 0; i + word.size() <= v.size(); i++) {
    if (ieq(v.substr(i, word.size()), word)) return true;
  }
  return false;
}

// Builds the Request from the head's offsets with nginx's checks, in
// nginx's order: the URI, the request line's host, each header line (Host,
// duplicates, an invalid line), then the head as a whole. Logs nginx's
// message and returns an HTTP status, or 0.
int buildRequest(Connection* c, Request& r) {
  const char* b = c->hbuf;
  r.methodName = {b + c->methodOff, c->methodLen};
  r.method = methodBit(r.methodName);
  r.httpVersion = c->version;
  r.requestLine = {b + c->reqStart, c->lineEnd - c->reqStart};
  r.unparsedUri = {b + c->urlOff, c->urlLen};
  HeadersIn& in = r.headersIn;

  ParsedTarget t;
  if (!parseTarget(r.unparsedUri, &t)) {
    LUNET_LOG(r.log, core::Level::kInfo, 0, "client sent invalid request");
    return 400;
  }
  if (t.hasArgs) r.args = t.args;
  char* out = static_cast<char*>(r.arena.alloc(t.path.size() + 1, 1));
  bool merge = c->defaultSrv->mergeSlashes != 0;
  long n = normalizePath(t.path, out, merge);
  if (n < 0) {
    LUNET_LOG(r.log, core::Level::kInfo, 0, "client sent invalid request");
    return 400;
  }
  r.uri = {out, static_cast<size_t>(n)};
  if (c->absUri) {
    std::string_view host{b + c->hostOff, c->hostLen};
    char* hl = static_cast<char*>(r.arena.alloc(host.size() + 1, 1));
    long hn = validateHost(host, hl);
    if (hn < 0) {
      LUNET_LOG(r.log, core::Level::kInfo, 0, "client sent invalid host in request line");
      return 400;
    }
    in.server = {hl, static_cast<size_t>(hn)};
  }

  // The default server's settings (nginx switches to the virtual server
  // once Host is seen; the header lines before it use the default's).
  const bool ignoreInvalid = c->defaultSrv->ignoreInvalidHeaders != 0;
  const bool underscores = c->defaultSrv->underscoresInHeaders != 0;
  const HdrOff* seen[kHdrKinds] = {};
  enum { kConnDefault, kConnClose, kConnKeepAlive } conn = kConnDefault;
  for (const HdrOff& h : c->hdrs) {
    std::string_view name{b + h.nameOff, h.nameLen};
    std::string_view value{b + h.valOff, h.valLen};
    if (ignoreInvalid && !validHeaderName(name, underscores)) {
      const char* end = value.empty() ? name.data() + name.size() : value.data() + value.size();
      if (value.empty() && *end == ':') end++;
      LUNET_LOG(r.log, core::Level::kInfo, 0, "client sent invalid header line: \"%.*s\"",
                static_cast<int>(end - name.data()), name.data());
      continue;
    }
    HeaderKind kind = headerKind(name);
    if (kind == kHdrHost) {
      if (const HdrOff* prev = seen[kHdrHost]) {
        LUNET_LOG(r.log, core::Level::kInfo, 0,
                  "client sent duplicate host header: \"%.*s: %.*s\", previous value: \"%.*s: "
                  "%.*s\"",
                  static_cast<int>(h.nameLen), name.data(), static_cast<int>(h.valLen),
                  value.data(), static_cast<int>(prev->nameLen), b + prev->nameOff,
                  static_cast<int>(prev->valLen), b + prev->valOff);
        return 400;
      }
      seen[kHdrHost] = &h;
      char* hl = static_cast<char*>(r.arena.alloc(value.size() + 1, 1));
      long hn = validateHost(value, hl);
      if (hn < 0) {
        LUNET_LOG(r.log, core::Level::kInfo, 0, "client sent invalid host header");
        return 400;
      }
      if (in.server.empty()) in.server = {hl, static_cast<size_t>(hn)};
    } else if (kind == kHdrConnection) {
      if (containsNoCase(value, "close")) {
        conn = kConnClose;
      } else if (containsNoCase(value, "keep-alive")) {
        conn = kConnKeepAlive;
      }
    } else if (kind != kHdrOther) {
      if (const HdrOff* prev = seen[kind]) {
        LUNET_LOG(r.log, core::Level::kInfo, 0,
                  "client sent duplicate header line: \"%.*s: %.*s\", previous value: \"%.*s: "
                  "%.*s\"",
                  static_cast<int>(h.nameLen), name.data(), static_cast<int>(h.valLen),
                  value.data(), static_cast<int>(prev->nameLen), b + prev->nameOff,
                  static_cast<int>(prev->valLen), b + prev->valOff);
        return 400;
      }
      seen[kind] = &h;
    }
    in.list.add(r.arena, name, value);
  }
  if (c->badAt != 0) {
    LUNET_LOG(r.log, core::Level::kInfo, 0, "client sent invalid header line: \"%.*s\\x%02x...\"",
              static_cast<int>(c->badAt - c->badLine), b + c->badLine,
              static_cast<unsigned>(static_cast<unsigned char>(b[c->badAt])));
    return 400;
  }
  for (const Header& h : in.list.all()) {
    switch (h.name.size()) {
      case 4:
        if (ieq(h.name, "Host")) in.host = &h;
        break;
      case 5:
        if (ieq(h.name, "Range")) in.range = &h;
        break;
      case 6:
        if (ieq(h.name, "Cookie") && !in.cookie) in.cookie = &h;
        if (ieq(h.name, "Expect")) in.expect = &h;
        break;
      case 7:
        if (ieq(h.name, "Referer")) in.referer = &h;
        break;
      case 8:
        if (ieq(h.name, "If-Match")) in.ifMatch = &h;
        if (ieq(h.name, "If-Range")) in.ifRange = &h;
        break;
      case 10:
        if (ieq(h.name, "Connection")) in.connection = &h;
        if (ieq(h.name, "User-Agent")) in.userAgent = &h;
        break;
      case 12:
        if (ieq(h.name, "Content-Type")) in.contentType = &h;
        break;
      case 13:
        if (ieq(h.name, "If-None-Match")) in.ifNoneMatch = &h;
        break;
      case 14:
        if (ieq(h.name, "Content-Length")) in.contentLength = &h;
        break;
      case 17:
        if (ieq(h.name, "If-Modified-Since")) in.ifModifiedSince = &h;
        if (ieq(h.name, "Transfer-Encoding")) in.transferEncoding = &h;
        break;
      case 19:
        if (ieq(h.name, "If-Unmodified-Since")) in.ifUnmodifiedSince = &h;
        break;
    }
  }
  if (in.host == nullptr && r.httpVersion >= 1001) {
    LUNET_LOG(r.log, core::Level::kInfo, 0, "client sent HTTP/1.1 request without \"Host\" header");
    return 400;
  }
  if (in.contentLength) {
    int64_t v = 0;
    std::string_view cl = in.contentLength->value;
    bool ok = !cl.empty();
    for (char ch : cl) {
      if (ch < '0' || ch > '9' || v > (INT64_MAX - (ch - '0')) / 10) {
        ok = false;
        break;
      }
      v = v * 10 + (ch - '0');
    }
    if (!ok) {
      LUNET_LOG(r.log, core::Level::kInfo, 0, "client sent invalid \"Content-Length\" header");
      return 400;
    }
    in.contentLengthN = v;
  }
  if (in.transferEncoding) {
    std::string_view te = in.transferEncoding->value;
    if (r.httpVersion < 1001) {
      LUNET_LOG(r.log, core::Level::kInfo, 0,
                "client sent HTTP/1.0 request with \"Transfer-Encoding\" header");
      return 400;
    }
    if (!ieq(te, "chunked")) {
      LUNET_LOG(r.log, core::Level::kInfo, 0, "client sent unknown \"Transfer-Encoding\": \"%.*s\"",
                static_cast<int>(te.size()), te.data());
      return 501;
    }
    if (in.contentLength) {
      LUNET_LOG(
          r.log, core::Level::kInfo, 0,
          "client sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same time");
      return 400;
    }
    in.chunked = true;
  }
  in.keepAlive = conn == kConnDefault ? r.httpVersion > 1000 : conn == kConnKeepAlive;
  if (r.method == kConnect || r.method == kTrace) {
    LUNET_LOG(r.log, core::Level::kInfo, 0, "client sent %s method",
              r.method == kConnect ? "CONNECT" : "TRACE");
    return 405;
  }
  // exten: after the last '.' of the last segment
  for (size_t i = r.uri.size(); i-- > 0;) {
    if (r.uri[i] == '/') break;
    if (r.uri[i] == '.') {
      r.exten = r.uri.substr(i + 1);
      break;
    }
  }
  if (r.method == kHead) r.headerOnly = true;
  return 0;
}

int onBody(llhttp_t* p, const char* at, size_t len) {
  Connection* c = connOf(p);
  Request* r = c->req;
  if (r == nullptr || r->discardBody) return 0;
  if (r->body == nullptr) r->body = r->arena.make<RequestBody>();
  RequestBody* b = r->body;
  b->received += static_cast<int64_t>(len);
  if (r->locConf != nullptr) {
    int64_t max = r->clcf()->clientMaxBodySize;
    if (max > 0 && b->received > max) {
      c->parseError = 413;
      return -1;
    }
  }
  Buf* buf = newBuf(*r, {at, len});
  *b->tail = buf;
  b->tail = &buf->next;
  return 0;
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
    llhttp_init(c->parser, HTTP_REQUEST, &gSettings);
    c->parser->data = c;
  }
  size_t size = static_cast<size_t>(c->defaultSrv->clientHeaderBufferSize);
  c->hbuf = allocHbuf(size);
  c->hcap = size;
  c->hlen = c->hparsed = c->reqStart = 0;
}

}  // namespace

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

namespace {

void sendErrorAndClose(Connection* c, int status);
void processHeader(Connection* c);
void processBody(Connection* c, const char* data, size_t len);

void onHeaderTimeout(void* conn) {
  auto* c = static_cast<Connection*>(conn);
  core::updateTime();
  if (c->state == ConnState::kHeader) {
    LUNET_LOG(c->log, core::Level::kInfo, ETIMEDOUT, "client timed out");
  }
  closeConnection(c);
}

void onBodyTimeout(void* conn) {
  auto* c = static_cast<Connection*>(conn);
  core::updateTime();
  Request* r = c->req;
  if (r == nullptr) return closeConnection(c);
  LUNET_LOG(r->log, core::Level::kInfo, ETIMEDOUT, "client timed out");
  stopReading(c);
  r->keepAlive = false;
  c->closeAfter = true;
  r->bodyReading = false;
  finalize(*r, 408);
}

void onLingerTimeout(void* conn) { closeConnection(static_cast<Connection*>(conn)); }

llhttp_errno_t feed(Connection* c, const char* data, size_t len);
void resetHead(Connection* c);

}  // namespace

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

namespace {

// Feeds [data, data+len) to llhttp. Returns the llhttp error code.
llhttp_errno_t feed(Connection* c, const char* data, size_t len) {
  if (llhttp_get_errno(c->parser) == HPE_PAUSED) llhttp_resume(c->parser);
  llhttp_errno_t e = llhttp_execute(c->parser, data, len);
  if (e == HPE_PAUSED) {
    const char* pos = llhttp_get_error_pos(c->parser);
    c->rest = pos;
    c->restLen = static_cast<size_t>(data + len - pos);
  } else if (e == HPE_OK) {
    c->rest = nullptr;
    c->restLen = 0;
  }
  return e;
}

// The head of the request being read is gone: the next one starts afresh.
void resetHead(Connection* c) {
  c->urlOff = c->urlLen = c->methodOff = c->methodLen = 0;
  c->lineEnd = c->curLineStart = c->badLine = c->badAt = 0;
  c->version = 0;
  c->prereadOff = c->prereadLen = 0;
  c->hostOff = c->hostLen = 0;
  c->absUri = false;
  c->inRequestLine = true;
  c->hdrs.clear();
  c->headersDone = c->messageDone = false;
  c->parseError = 0;
}

// Writes the canonical head llhttp is given once the real one was checked:
// the framing nginx accepted, and nothing llhttp could read differently.
size_t canonicalHead(const Request& r, char* out) {
  static constexpr std::string_view kLine = "GET / HTTP/1.1\r\n";
  static constexpr std::string_view kChunked = "Transfer-Encoding: chunked\r\n";
  static constexpr std::string_view kLength = "Content-Length: ";
  size_t n = kLine.size();
  std::memcpy(out, kLine.data(), n);
  if (r.headersIn.chunked) {
    std::memcpy(out + n, kChunked.data(), kChunked.size());
    n += kChunked.size();
  } else if (r.headersIn.contentLengthN > 0) {
    std::memcpy(out + n, kLength.data(), kLength.size());
    n += kLength.size();
    char digits[24];
    size_t d = 0;
    for (uint64_t v = static_cast<uint64_t>(r.headersIn.contentLengthN); v != 0; v /= 10) {
      digits[d++] = static_cast<char>('0' + v % 10);
    }
    while (d > 0) out[n++] = digits[--d];
    out[n++] = '\r';
    out[n++] = '\n';
  }
  out[n++] = '\r';
  out[n++] = '\n';
  return n;
}

// The head is complete (its empty line ends at bodyStart), or ended by an
// invalid header line (c->badAt): build and check the Request, then let
// llhttp frame the body. Returns 0 or an HTTP status to answer with.
int startRequest(Connection* c, size_t bodyStart) {
  c->headersDone = true;
  Request* r = createRequest(c);
  c->req = r;
  int rc = buildRequest(c, *r);
  c->hdrs.release();  // copied into the request
  if (rc != 0) return rc;
  if (c->version == 9) {  // HTTP/0.9: no header lines, no body, no keep-alive
    c->messageDone = true;
    c->closeAfter = true;
    c->rest = nullptr;
    c->restLen = 0;
    r->keepAlive = r->headersIn.keepAlive = false;
    return 0;
  }
  char head[80];
  size_t n = canonicalHead(*r, head);
  llhttp_errno_t e = feed(c, head, n);
  if (e == HPE_PAUSED) {  // no body: what follows is the next request
    c->rest = c->hbuf + bodyStart;
    c->restLen = c->hlen - bodyStart;
    return 0;
  }
  if (e != HPE_OK) return 400;
  // Body bytes that came with the head wait in hbuf until the body is read
  // or discarded (processPreread), as nginx: the location decides the limits.
  c->prereadOff = static_cast<uint32_t>(bodyStart);
  c->prereadLen = static_cast<uint32_t>(c->hlen - bodyStart);
  return 0;
}

// Tokenizes the head as bytes arrive (parse.h): the request line, then
// header lines up to the empty one; llhttp takes over after it.
void processHeader(Connection* c) {
  if (c->inRequestLine) {
    RequestLineParse rl;
    const char* err = nullptr;
    int rc = parseRequestLine(c->hbuf, c->reqStart, c->hlen, &rl, &err);
    if (rc != kHeadAgain) c->reqStart = rl.start;
    if (rc > 0) {
      LUNET_LOG(c->log, core::Level::kInfo, 0, "%s while reading client request line", err);
      sendErrorAndClose(c, rc);
      return;
    }
    if (rc == kHeadOk) {
      c->inRequestLine = false;
      c->methodOff = rl.start;
      c->methodLen = rl.methodLen;
      c->urlOff = rl.uriOff;
      c->urlLen = rl.uriLen;
      c->lineEnd = rl.end;
      c->version = rl.version;
      c->absUri = rl.absolute;
      c->hostOff = rl.hostOff;
      c->hostLen = rl.hostLen;
      c->hparsed = c->curLineStart = rl.next;
      if (rl.version == 9 &&
          (rl.methodLen != 3 || std::memcmp(c->hbuf + rl.start, "GET", 3) != 0)) {
        LUNET_LOG(c->log, core::Level::kInfo, 0,
                  "client sent invalid method in HTTP/0.9 request while reading client request "
                  "line");
        c->lineEnd = rl.uriOff + rl.uriLen;
        c->req = createRequest(c);
        c->req->httpVersion = 9;
        c->req->requestLine = {c->hbuf + rl.start, c->lineEnd - rl.start};
        sendErrorAndClose(c, 400);
        return;
      }
    }
  }
  size_t bodyStart = 0;
  if (!c->inRequestLine && !c->headersDone) {
    const size_t large = static_cast<size_t>(c->defaultSrv->largeHeaderBuffersSize);
    if (c->version == 9) {
      bodyStart = c->hparsed;
      c->headersDone = true;
    }
    while (!c->headersDone) {
      HeaderLineParse hl;
      size_t bad = 0;
      int rc = parseHeaderLine(c->hbuf, c->hparsed, c->hlen, &hl, &bad);
      if (rc == kHeadAgain) break;
      if (rc != kHeadOk) {
        c->badLine = static_cast<uint32_t>(c->hparsed);
        c->badAt = static_cast<uint32_t>(bad);
        c->headersDone = true;
        break;
      }
      if (hl.last) {
        bodyStart = hl.next;
        c->hparsed = hl.next;
        c->headersDone = true;
        break;
      }
      if (hl.next - c->hparsed > large) {
        sendErrorAndClose(c, 494);
        return;
      }
      c->hdrs.push_back(HdrOff{hl.nameOff, hl.nameLen, hl.valOff, hl.valLen});
      c->hparsed = c->curLineStart = hl.next;
    }
    if (c->headersDone) {
      int rc = startRequest(c, bodyStart);
      if (rc != 0) {
        if (c->req != nullptr && (rc == 494 || rc == 414)) {
          freeRequest(c->req);
          c->req = nullptr;
        }
        sendErrorAndClose(c, rc);
        return;
      }
    }
  }
  if (c->headersDone) {
    // A bodiless request keeps reading on (pipelined bytes are buffered in
    // hbuf): stopping would cost two epoll_ctl per keep-alive request. A
    // body is read only when a handler asks for it.
    if (!c->messageDone || c->hlen == c->hcap) stopReading(c);
    stopTimer(c);
    setState(c, ConnState::kRequest);
    shm::counters().requests.fetch_add(1, std::memory_order_relaxed);
    c->requests++;
    Request* r = c->req;
    const HttpCoreSrv* srv = findServer(c->addr, r->headersIn.server, r);
    r->srvConf = srv->level;
    r->locConf = srv->level;
    r->serverName = srv->firstName;
    LUNET_LOG(r->log, core::Level::kDebug, 0, "http request line: \"%.*s\"",
              static_cast<int>(r->requestLine.size()), r->requestLine.data());
    LUNET_LOG(r->log, core::Level::kDebug, 0, "http uri: \"%.*s\"", static_cast<int>(r->uri.size()),
              r->uri.data());
    r->requestLength = static_cast<int64_t>((c->rest ? c->rest : c->hbuf + c->hlen) - c->hbuf) -
                       static_cast<int64_t>(c->reqStart);
    runPhases(*r);
    return;
  }
  if (c->hlen == c->hcap) {
    // Header buffer full: switch to a large buffer or fail like nginx.
    const HttpCoreSrv* s = c->defaultSrv;
    size_t large = static_cast<size_t>(s->largeHeaderBuffersSize);
    size_t maxTotal = large * static_cast<size_t>(s->largeHeaderBuffersNum);
    size_t used = c->hlen - c->reqStart;
    if (c->inRequestLine && used >= large) {
      sendErrorAndClose(c, 414);
      return;
    }
    size_t lineLen = c->hlen - c->curLineStart;
    if (!c->inRequestLine && (lineLen >= large || used >= maxTotal)) {
      sendErrorAndClose(c, 494);
      return;
    }
    size_t ncap = c->hcap < large ? large : c->hcap * 2;
    if (ncap > maxTotal + large) ncap = maxTotal + large;
    char* nb = allocHbuf(ncap);
    std::memcpy(nb, c->hbuf, c->hlen);
    freeHbuf(c->hbuf, c->hcap);
    c->hbuf = nb;
    c->hcap = ncap;
  }
}

void processBody(Connection* c, const char* data, size_t len) {
  Request* r = c->req;
  llhttp_errno_t e = feed(c, data, len);
  if (c->parseError != 0 || (e != HPE_OK && e != HPE_PAUSED)) {
    int status = c->parseError ? c->parseError : 400;
    stopReading(c);
    stopTimer(c);
    c->closeAfter = true;
    r->keepAlive = false;
    if (r->discardBody) {
      closeConnection(c);
      return;
    }
    if (c->parseError == 0)
      LUNET_LOG(r->log, core::Level::kError, 0, "client sent invalid chunked body");
    r->bodyReading = false;
    finalize(*r, status);
    return;
  }
  if (c->messageDone) {
    stopReading(c);
    stopTimer(c);
    if (r->discardBody) {
      r->discardBody = false;
      requestDone(c);
      return;
    }
    if (r->bodyReading) {
      r->bodyReading = false;
      if (r->body && r->body->post) r->body->post(*r);
    }
    return;
  }
  if (r->bodyReading) {
    armTimer(c, static_cast<uint64_t>(r->clcf()->clientBodyTimeout), onBodyTimeout);
  }
}

// A response to a request that could not be parsed: status page, close.
void sendErrorAndClose(Connection* c, int status) {
  stopReading(c);
  stopTimer(c);
  c->closeAfter = true;
  c->linger = true;
  if (c->state != ConnState::kRequest) setState(c, ConnState::kRequest);
  Request* r = c->req;
  if (r == nullptr) {
    r = createRequest(c);
    c->req = r;
    // Best-effort request line for the log.
    const char* ls = c->hbuf ? c->hbuf + c->reqStart : nullptr;
    if (ls != nullptr && !c->inRequestLine) {
      r->requestLine = {ls, c->lineEnd - c->reqStart};
    } else if (ls != nullptr) {
      size_t n = c->hlen - c->reqStart;
      const char* le = static_cast<const char*>(std::memchr(ls, '\r', n));
      if (le == nullptr) le = static_cast<const char*>(std::memchr(ls, '\n', n));
      if (le != nullptr) r->requestLine = {ls, static_cast<size_t>(le - ls)};
    }
  }
  // nginx knows the method once its word is complete: a HEAD whose request
  // line is bad gets the error page's header only.
  if (c->inRequestLine && c->hbuf != nullptr && c->hlen - c->reqStart >= 5 &&
      std::memcmp(c->hbuf + c->reqStart, "HEAD ", 5) == 0) {
    r->method = kHead;
    r->headerOnly = true;
  }
  r->keepAlive = false;
  r->headersIn.keepAlive = false;
  r->srvConf = c->defaultSrv->level;
  r->locConf = c->defaultSrv->level;
  shm::counters().requests.fetch_add(1, std::memory_order_relaxed);
  c->requests++;
  if (status == 494) {
    LUNET_LOG(r->log, core::Level::kInfo, 0, "client sent too long header line");
  } else if (status == 414) {
    LUNET_LOG(r->log, core::Level::kInfo, 0, "client sent too long URI");
  }
  finalize(*r, status);
}

void onSendTimeout(void* conn) {
  auto* c = static_cast<Connection*>(conn);
  core::updateTime();
  LUNET_LOG(c->req ? c->req->log : c->log, core::Level::kInfo, ETIMEDOUT, "client timed out");
  c->error = true;
  closeConnection(c);
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

void onShutdown(void* data, int) {
  auto* c = static_cast<Connection*>(data);
  if (c->state == ConnState::kClosing) return;
  // Read and drop whatever the client still sends until EOF or timeout.
  c->eof = false;
  startReading(c);
  if (!c->reading) closeConnection(c);
}

}  // namespace

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

int processPreread(Connection* c) noexcept {
  if (c->prereadLen == 0 || c->messageDone) return 0;
  size_t n = c->prereadLen;
  c->prereadLen = 0;
  llhttp_errno_t e = feed(c, c->hbuf + c->prereadOff, n);
  if (c->parseError != 0) return c->parseError;
  if (e != HPE_OK && e != HPE_PAUSED) {
    if (c->req != nullptr) {
      LUNET_LOG(c->req->log, core::Level::kError, 0, "client sent invalid chunked body");
    }
    return 400;
  }
  return 0;
}

void startBodyRead(Connection* c) noexcept {
  Request* r = c->req;
  if (int st = processPreread(c); st != 0) {
    stopReading(c);
    c->closeAfter = true;
    r->keepAlive = false;
    r->bodyReading = false;
    if (r->discardBody) {
      closeConnection(c);
      return;
    }
    finalize(*r, st);
    return;
  }
  if (c->messageDone) {
    r->bodyReading = false;
    if (r->body) r->body->done = true;
    if (!r->discardBody && r->body && r->body->post) r->body->post(*r);
    if (r->discardBody) {
      r->discardBody = false;
      requestDone(c);
    }
    return;
  }
  if (c->eof) {
    r->bodyReading = false;
    finalize(*r, 400);
    return;
  }
  startReading(c);
  int64_t t = r->discardBody ? 5000 : r->clcf()->clientBodyTimeout;
  armTimer(c, static_cast<uint64_t>(t), r->discardBody ? onLingerTimeout : onBodyTimeout);
}

namespace {

bool useSendfile(Request& r) noexcept {
  return !r.filterNeedInMemory && r.main->locConf != nullptr && r.main->clcf()->sendfile == 1;
}

// From a writer callback: write what is queued; when nothing is left in
// flight (possibly because it all went out synchronously), the queue has
// drained.
void continueWriting(Connection* c) noexcept {
  if (c->req != nullptr && c->req->out != nullptr) {
    startWriting(*c->req);
    if (c->state == ConnState::kClosing) return;
  }
  if (c->writer.pending() == 0 && (c->req == nullptr || c->req->out == nullptr)) {
    onWriteDrained(c);
  }
}

}  // namespace

void Connection::onWriterProgress() noexcept {
  if (state == ConnState::kClosing) return;
  continueWriting(this);
}

void Connection::onWriterWaiting() noexcept {
  armTimer(this, static_cast<uint64_t>(sendTimeout), onSendTimeout);
}

void Connection::onWriterError(bool closeNow) noexcept {
  error = true;
  if (closeNow && state != ConnState::kClosing) closeConnection(this);
}

core::Log& Connection::writerLog() noexcept {
  if (writingLog != nullptr) return *writingLog;
  return req != nullptr ? req->log : log;
}

void startWriting(Request& r) noexcept {
  Connection* c = r.conn;
  if (c->state == ConnState::kClosing || c->error) {
    r.out = nullptr;
    r.outTail = &r.out;
    r.outBytes = 0;
    return;
  }
  c->sendTimeout = r.clcf()->sendTimeout;
  c->writingLog = &r.log;
  auto res = c->writer.write({&r.out, &r.outTail, &r.bodyBytesSent}, useSendfile(r));
  c->writingLog = nullptr;
  if (res == net::ChainWriter::Result::kWritten) r.outBytes = 0;
}

int writeFilter(Request& r, Buf* in) noexcept {
  bool flush = false;
  for (Buf* b = in; b != nullptr;) {
    Buf* next = b->next;
    b->next = nullptr;
    if (b->flush || b->last) flush = true;
    if (b->last) r.lastQueued = true;
    if (b->size() > 0) {
      *r.outTail = b;
      r.outTail = &b->next;
      r.outBytes += b->size();
    }
    b = next;
  }
  if (flush || r.outBytes >= 8192) {
    if (r.conn->writer.pending() == 0 || r.out != nullptr) startWriting(r);
    if (r.conn->state == ConnState::kClosing) return kError;
  }
  return r.conn->error ? kError : kOk;
}

void onWriteDrained(Connection* c) noexcept {
  Request* r = c->req;
  if (r == nullptr) return;
  stopTimer(c);
  if (r->drained != nullptr) {
    auto fn = r->drained;
    r->drained = nullptr;
    fn(*r, r->drainedData);
    if (c->req != r) return;
  }
  if (r->finishing) requestDone(c);
}

void requestDone(Connection* c) noexcept {
  Request* r = c->req;
  if (r == nullptr) return;
  if (c->writer.pending() > 0 || r->out != nullptr) return;  // onWriteDrained comes back
  if (!c->messageDone && !c->closeAfter && r->keepAlive && !c->error) {
    // Unread body: read it and throw it away before the next request.
    if (!r->discardBody) {
      r->discardBody = true;
      startBodyRead(c);
    }
    return;
  }
  // r->keepAlive is what the response header told the client: once the
  // worker is exiting, new headers say Connection: close (header filter),
  // and a connection whose header promised keep-alive before that gets the
  // exit grace below rather than a close the client cannot expect.
  bool keep = r->keepAlive && !c->closeAfter && !c->error && c->messageDone;
  // Save pipelined bytes before the request (and its body buffers) go away.
  const char* rest = c->rest;
  size_t restLen = keep ? c->restLen : 0;
  const HttpCoreLoc* clcf = r->locConf ? r->clcf() : nullptr;
  int64_t ka = clcf ? clcf->keepaliveTimeout : 75000;
  int64_t lingerClose = clcf ? clcf->lingeringClose : 1;
  int64_t lingerTimeout = clcf ? clcf->lingeringTimeout : 5000;
  int64_t lingerTime = clcf ? clcf->lingeringTime : 30000;
  bool linger =
      !keep && (c->linger || (!c->messageDone && lingerClose != 0)) && !c->error && !c->eof;
  if (lingerClose == 2 && !keep && !c->error && !c->eof) linger = true;
  // Pipelined bytes are usually at the end of hbuf: they move to its front
  // once the request (whose header slices point into hbuf) is freed. After
  // a body they may sit in the request's body buffers: copied out first.
  bool restInHbuf =
      restLen > 0 && c->hbuf != nullptr && rest >= c->hbuf && rest + restLen <= c->hbuf + c->hlen;
  char* saved = nullptr;
  size_t savedCap = 0;
  if (restLen > 0 && !restInHbuf) {
    savedCap = static_cast<size_t>(c->defaultSrv->clientHeaderBufferSize);
    if (savedCap < restLen) savedCap = restLen;
    saved = allocHbuf(savedCap);
    std::memcpy(saved, rest, restLen);
  }
  c->req = nullptr;
  freeRequest(r);
  if (saved != nullptr) {
    freeHbuf(c->hbuf, c->hcap);
    c->hbuf = saved;
    c->hcap = savedCap;
  } else if (restInHbuf && rest != c->hbuf) {
    std::memmove(c->hbuf, rest, restLen);
  }
  c->rest = nullptr;
  c->restLen = 0;
  if (!keep) {
    if (linger) {
      setState(c, ConnState::kLinger);
      if (c->stream.shutdown(onShutdown, c) != 0) {
        closeConnection(c);
        return;
      }
      c->lingerTimeout = lingerTimeout;
      c->lingerDeadline = core::nowMsec() + static_cast<uint64_t>(lingerTime);
      armTimer(c, static_cast<uint64_t>(lingerTime < lingerTimeout ? lingerTime : lingerTimeout),
               onLingerTimeout);
      return;
    }
    closeConnection(c);
    return;
  }
  // Next request.
  resetHead(c);
  c->reqStart = 0;
  c->hparsed = 0;
  c->linger = false;
  if (c->parser != nullptr) {  // kept for pipelined bytes; idle gives it back
    llhttp_init(c->parser, HTTP_REQUEST, &gSettings);
    c->parser->data = c;
  }
  if (!c->nodelay && clcf != nullptr && clcf->tcpNodelay != 0) {
    c->nodelay = true;
    c->stream.setNoDelay(true);
  }
  if (restLen > 0) {
    c->hlen = restLen;
    setState(c, ConnState::kHeader);
    armTimer(c, static_cast<uint64_t>(c->defaultSrv->clientHeaderTimeout), onHeaderTimeout);
    processHeader(c);
    if (c->state == ConnState::kHeader) {
      if (c->eof) {
        closeConnection(c);  // half-closed mid-header
        return;
      }
      startReading(c);  // no-op unless stopped (body, full buffer)
    }
    return;
  }
  releaseHbuf(c);  // idle connections keep no buffer
  setState(c, ConnState::kIdle);
  if (c->eof) {  // the half-close came while the request ran
    LUNET_LOG(c->log, core::Level::kInfo, 0, "client %s closed keepalive connection", c->peerText);
  }
  if (ka <= 0 || c->eof) {
    closeConnection(c);
    return;
  }
  if ((c->shuttingDown || process::exiting()) && ka > kExitIdleGraceMsec) ka = kExitIdleGraceMsec;
  armTimer(c, static_cast<uint64_t>(ka), onKeepaliveTimeout);
  startReading(c);
}

}  // namespace lunet::http
