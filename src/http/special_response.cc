// Special responses: nginx's built-in error pages, error_page (a redirect
// to a URI or a named location, or a 30x), and the MSIE padding.
#include <cstring>

#include "core/time.h"
#include "http/connection.h"
#include "http/core_module.h"
#include "http/filter.h"
#include "http/phases.h"
#include "http/request_internal.h"

namespace lunet::http {

// ---- error pages ---------------------------------------------------------------------

namespace {

// nginx's ngx_http_msie_padding: appended to built-in error pages for MSIE
// and Chrome, whose "friendly" error pages replace bodies under 512 bytes.
constexpr std::string_view kMsiePadding =
    "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n"
    "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n"
    "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n"
    "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n"
    "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n"
    "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n";

// nginx's ngx_http_process_user_agent, reduced to what msie_padding needs:
// "MSIE " with at least 7 more bytes (not Opera), or "Chrome/" when the
// agent is neither MSIE, Opera nor Gecko ("Gecko/").
bool wantsMsiePadding(const Request& r) noexcept {
  const Header* ua = r.headersIn.userAgent;
  if (ua == nullptr) return false;
  std::string_view v = ua->value;
  if (v.find("Opera") != std::string_view::npos) return false;
  size_t msie = v.find("MSIE ");
  if (msie != std::string_view::npos && msie + 7 < v.size()) return true;
  if (v.find("Gecko/") != std::string_view::npos) return false;
  return v.find("Chrome/") != std::string_view::npos;
}

}  // namespace

int specialResponse(Request& r, int status) noexcept {
  const HttpCoreLoc* l = r.clcf();
  r.main->expectSent = true;  // an error page answers no "Expect" (as nginx)
  // nginx discards the body before an error page: a bad one ends keep-alive.
  if (status != 400 && discardRequestBody(r) != kOk) r.main->keepAlive = false;
  r.headersOut.status = status == 494 ? 400 : status;
  if (!r.errorPage || l->recursiveErrorPages == 1) {
    for (const ErrorPage& ep : l->errorPages) {
      if (ep.status != status && !(status == 494 && ep.status == 400)) continue;
      r.errorPage = true;
      std::string_view uri = ep.uri.eval(r);
      if (ep.overwrite >= 0) {
        r.errStatus = ep.overwrite;
      } else {
        r.errStatus = r.headersOut.status;
      }
      if (!uri.empty() && uri[0] == '@') {
        r.headersOut.status = 0;
        return namedLocation(r, uri);
      }
      if (!uri.empty() && uri[0] == '/') {
        if (r.method != kHead) {
          r.method = kGet;
          r.methodName = "GET";
        }
        r.headersOut.status = 0;
        r.headersOut.list = HeaderList();
        r.headersOut.contentLength = -1;
        r.headersOut.contentType = {};
        return internalRedirect(r, uri, {});
      }
      // external redirect
      int st =
          ep.overwrite > 0 && (ep.overwrite == 301 || ep.overwrite == 302 || ep.overwrite == 303 ||
                               ep.overwrite == 307 || ep.overwrite == 308)
              ? ep.overwrite
              : 302;
      r.errStatus = 0;
      r.headersOut.location = uri;
      status = st;
      r.headersOut.status = st;
      break;
    }
  }
  int st = r.headersOut.status;
  if (r.errStatus > 0 && r.errorPage) {
    // keep
  }
  r.headersOut.lastModified = -1;
  r.headersOut.etag = {};
  r.headersOut.list.remove("ETag");
  r.headersOut.list.remove("Accept-Ranges");
  // nginx's range filter answers 416 with "Content-Range: bytes */LENGTH".
  if (st != 416) r.headersOut.list.remove("Content-Range");
  if (st < 300 && st != 204 && st != 201) {
    // 2xx special codes without page
  }
  std::string_view reason = reasonPhrase(st);
  if (st == 204 || st == 304 || st < 200 || (st >= 300 && reason.empty() && st != 494) ||
      st < 300) {
    r.headersOut.contentLength = 0;
    if (st == 204 || st == 304) r.headersOut.contentLength = -1;
    r.headersOut.contentType = {};
    int rc = sendHeader(r);
    if (rc == kError) return kError;
    return kOk;
  }
  const char* tail = l->serverTokens == 1 ? "<hr><center>lunet/" LUNET_VERSION_STRING
                                            "</center>\r\n</body>\r\n</html>\r\n"
                                          : "<hr><center>lunet</center>\r\n</body>\r\n</html>\r\n";
  char* body = static_cast<char*>(r.arena.alloc(512 + kMsiePadding.size(), 1));
  int n;
  if (status == 494) {
    n = std::snprintf(body, 512,
                      "<html>\r\n<head><title>400 Request Header Or Cookie Too Large</title></head>"
                      "\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>Request "
                      "Header Or Cookie Too Large</center>\r\n%s",
                      tail);
  } else {
    // nginx's pages say "302 Found" and "401 Authorization Required"
    // while their status lines keep the older reason phrases.
    if (st == 302) reason = "Found";
    if (st == 401) reason = "Authorization Required";
    n = std::snprintf(body, 512,
                      "<html>\r\n<head><title>%d %.*s</title></head>\r\n<body>\r\n<center><h1>%d "
                      "%.*s</h1></center>\r\n%s",
                      st, static_cast<int>(reason.size()), reason.data(), st,
                      static_cast<int>(reason.size()), reason.data(), tail);
  }
  if (l->msie_padding != 0 && st >= 400 && r.httpVersion >= 1000 && wantsMsiePadding(r)) {
    std::memcpy(body + n, kMsiePadding.data(), kMsiePadding.size());
    n += static_cast<int>(kMsiePadding.size());
  }
  r.headersOut.contentType = "text/html";
  r.headersOut.charset = {};
  r.headersOut.contentLength = n;
  int rc = sendHeader(r);
  if (rc == kError) return kError;
  if (rc == kDone) return kOk;
  return outputString(r, {body, static_cast<size_t>(n)}, true);
}
}  // namespace lunet::http
