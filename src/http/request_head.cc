// The request head: nginx's checks of the request line and header lines as
// parse.h tokenized them, building the Request, the head's errors
// (400/414/494...), and starting the request (ngx_http_request.c's head
// half).
#include <cstring>

#include "core/time.h"
#include "http/connection.h"
#include "http/parse.h"
#include "http/uri.h"
#include "shm/counters.h"

namespace lunet::http {

namespace {

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
  r.validUnparsedUri = true;
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
  r.quoted = t.path.find('%') != std::string_view::npos;  // nginx's quoted_uri
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

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace lunet::http
