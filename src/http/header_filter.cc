// The bottom of the header filter chain: the status line and headers
// serialised into one buffer (nginx's ngx_http_header_filter_module).
#include <cstdio>
#include <cstring>

#include "core/time.h"
#include "http/connection.h"
#include "http/core_module.h"
#include "http/filter.h"
#include "http/phases.h"
#include "http/request_internal.h"

namespace lunet::http {

namespace {

int appendHeaderLine(char*& p, std::string_view name, std::string_view value) {
  if (!name.empty()) std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = ':';
  *p++ = ' ';
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  p += value.size();
  *p++ = '\r';
  *p++ = '\n';
  return 0;
}

// core::formatHttpTime without gmtime_r + snprintf (they were a quarter of
// the user-space cost of a static file request): days to civil date as in
// Howard Hinnant's algorithm, and the last result is kept since a file's
// mtime repeats from request to request.
size_t httpDate(time_t t, char* out) noexcept {
  static thread_local time_t lastT = -1;
  static thread_local char last[29];
  if (t == lastT) {
    std::memcpy(out, last, 29);
    return 29;
  }
  if (t < 0 || t > 253402300799) return core::formatHttpTime(t, out);  // past year 9999
  static constexpr char kDays[] = "ThuFriSatSunMonTueWed";             // 1970-01-01 was a Thursday
  static constexpr char kMon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  int64_t days = t / 86400;
  int64_t secs = t % 86400;
  int64_t z = days + 719468;
  int64_t era = z / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t mon = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (mon <= 2 ? 1 : 0);
  char* p = out;
  std::memcpy(p, kDays + (days % 7) * 3, 3);
  p += 3;
  *p++ = ',';
  *p++ = ' ';
  auto two = [&p](int64_t v) {
    *p++ = static_cast<char>('0' + v / 10);
    *p++ = static_cast<char>('0' + v % 10);
  };
  two(day);
  *p++ = ' ';
  std::memcpy(p, kMon + (mon - 1) * 3, 3);
  p += 3;
  *p++ = ' ';
  two(year / 100);
  two(year % 100);
  *p++ = ' ';
  two(secs / 3600);
  *p++ = ':';
  two(secs / 60 % 60);
  *p++ = ':';
  two(secs % 60);
  std::memcpy(p, " GMT", 4);
  lastT = t;
  std::memcpy(last, out, 29);
  return 29;
}

}  // namespace

int headerFilterBottom(Request& r) noexcept {
  if (r.main != &r) return kOk;  // subrequests send no header
  HeadersOut& h = r.headersOut;
  int st = h.status;
  if (r.httpVersion < 1000) return kOk;  // HTTP/0.9
  if (st == 204 || st == 304) {
    r.headerOnly = true;
    if (st == 204) {
      h.contentType = {};
      h.lastModified = -1;
    }
    h.contentLength = -1;
  }
  if (r.method == kHead) r.headerOnly = true;
  const HttpCoreLoc* clcf = r.clcf();
  if (!r.headerOnly && h.contentLength < 0 && st != 304 && st != 204) {
    if (r.httpVersion >= 1001 && clcf->chunkedTransferEncoding != 0) {
      r.chunkedOut = true;
    } else {
      r.keepAlive = false;
    }
  }
  if (r.headerOnly && h.contentLength < 0 && r.method == kHead && r.httpVersion < 1001) {
    r.keepAlive = false;
  }
  bool keep = r.keepAlive && r.headersIn.keepAlive && !r.conn->shuttingDown;
  r.keepAlive = keep;

  size_t size = 64 + 256;
  for (const Header& x : h.list.all()) size += x.name.size() + x.value.size() + 4;
  size +=
      h.contentType.size() + h.charset.size() + h.location.size() * 3 + 256 + h.statusLine.size();
  size_t hostLen = r.headersIn.server.size() + r.cscf()->firstName.size();
  size += hostLen;
  char* buf = static_cast<char*>(r.arena.alloc(size, 1));
  char* p = buf;
  std::memcpy(p, "HTTP/1.1 ", 9);
  p += 9;
  if (!h.statusLine.empty()) {
    if (!h.statusLine.empty()) std::memcpy(p, h.statusLine.data(), h.statusLine.size());
    p += h.statusLine.size();
  } else {
    std::string_view reason = reasonPhrase(st);
    unsigned code = static_cast<unsigned>(st) % 1000;
    p[0] = static_cast<char>('0' + code / 100);
    p[1] = static_cast<char>('0' + code / 10 % 10);
    p[2] = static_cast<char>('0' + code % 10);
    p += 3;
    if (!reason.empty()) {
      *p++ = ' ';
      if (!reason.empty()) std::memcpy(p, reason.data(), reason.size());
      p += reason.size();
    } else {
      *p++ = ' ';
    }
  }
  *p++ = '\r';
  *p++ = '\n';
  if (!h.list.find("Server")) {
    appendHeaderLine(p, "Server",
                     clcf->serverTokens == 1 ? "lunet/" LUNET_VERSION_STRING : "lunet");
  }
  if (!h.list.find("Date")) appendHeaderLine(p, "Date", core::cachedHttpTime());
  if (!h.contentType.empty()) {
    std::memcpy(p, "Content-Type: ", 14);
    p += 14;
    if (!h.contentType.empty()) std::memcpy(p, h.contentType.data(), h.contentType.size());
    p += h.contentType.size();
    if (!h.charset.empty()) {
      std::memcpy(p, "; charset=", 10);
      p += 10;
      if (!h.charset.empty()) std::memcpy(p, h.charset.data(), h.charset.size());
      p += h.charset.size();
    }
    *p++ = '\r';
    *p++ = '\n';
  }
  if (h.contentLength >= 0) {
    // The hot path of every response: no printf.
    std::memcpy(p, "Content-Length: ", 16);
    p += 16;
    char digits[24];
    int nd = 0;
    uint64_t v = static_cast<uint64_t>(h.contentLength);
    do {
      digits[nd++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (nd > 0) *p++ = digits[--nd];
    *p++ = '\r';
    *p++ = '\n';
  }
  if (h.lastModified >= 0) {
    char tb[40];
    size_t n = httpDate(h.lastModified, tb);
    appendHeaderLine(p, "Last-Modified", {tb, n});
  }
  if (!h.location.empty()) {
    std::string_view loc = h.location;
    std::memcpy(p, "Location: ", 10);
    p += 10;
    if (loc[0] == '/' && clcf->absoluteRedirect != 0) {
      p += std::snprintf(p, 16, "http://");
      std::string_view host = clcf->serverNameInRedirect == 1
                                  ? std::string_view(r.cscf()->firstName)
                                  : r.headersIn.server;
      if (host.empty()) host = r.conn->localText;  // nginx: the local address
      if (!host.empty()) std::memcpy(p, host.data(), host.size());
      p += host.size();
      if (clcf->portInRedirect != 0 && r.conn->localPort != 80) {
        p += std::snprintf(p, 8, ":%u", r.conn->localPort);
      }
    }
    if (!loc.empty()) std::memcpy(p, loc.data(), loc.size());
    p += loc.size();
    *p++ = '\r';
    *p++ = '\n';
  }
  if (r.chunkedOut) appendHeaderLine(p, "Transfer-Encoding", "chunked");
  appendHeaderLine(p, "Connection", keep ? "keep-alive" : "close");
  if (keep && clcf->keepaliveHeader > 0) {
    // keepalive_timeout's second argument (nginx: "Keep-Alive: timeout=%T").
    std::memcpy(p, "Keep-Alive: timeout=", 20);
    p += 20;
    char digits[24];
    int nd = 0;
    uint64_t v = static_cast<uint64_t>(clcf->keepaliveHeader);
    do {
      digits[nd++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (nd > 0) *p++ = digits[--nd];
    *p++ = '\r';
    *p++ = '\n';
  }
  size_t fixed = static_cast<size_t>(p - buf);
  (void)fixed;
  for (const Header& x : h.list.all()) {
    if (x.hash == 0) continue;
    if (!x.value.empty() || true) appendHeaderLine(p, x.name, x.value);
  }
  *p++ = '\r';
  *p++ = '\n';
  Buf* b = newBuf(r, {buf, static_cast<size_t>(p - buf)});
  r.headerBytes = p - buf;
  if (r.headerOnly) b->last = true;
  return writeFilter(r, b);
}

std::string_view reasonPhrase(int s) noexcept {
  switch (s) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Moved Temporarily";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Time-out";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request-URI Too Large";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Requested Range Not Satisfiable";
    case 421:
      return "Misdirected Request";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Temporarily Unavailable";
    case 504:
      return "Gateway Time-out";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    default:
      return "";
  }
}

}  // namespace lunet::http
