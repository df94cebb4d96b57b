// not_modified: conditional requests for any 200 response of the main
// request (nginx's ngx_http_not_modified_filter_module). The static module
// answers its own conditionals; this filter covers the rest — a Last-Modified
// or ETag set by a handler such as Lua's ngx.header.
#include "core/time.h"
#include "http/core_module.h"
#include "http/filter.h"
#include "http/modules/modules.h"

namespace lunet::http {

namespace {

HeaderFilter gNext = nullptr;

std::string_view responseEtag(const Request& r) {
  if (!r.headersOut.etag.empty()) return r.headersOut.etag;
  const Header* h = r.headersOut.list.find("ETag");
  return h != nullptr ? h->value : std::string_view();
}

// If-Match / If-None-Match against the response's entity tag. `weak`
// compares opaque tags only (W/ prefixes ignored), as If-None-Match does.
bool etagMatches(const Request& r, std::string_view list, bool weak) {
  std::string_view etag = responseEtag(r);
  if (etag.empty()) return false;
  if (list == "*") return true;
  if (weak && etag.size() > 2 && etag[0] == 'W' && etag[1] == '/') etag.remove_prefix(2);
  while (!list.empty()) {
    while (!list.empty() && (list[0] == ' ' || list[0] == ',')) list.remove_prefix(1);
    if (weak && list.size() > 2 && list[0] == 'W' && list[1] == '/') list.remove_prefix(2);
    if (list.size() >= etag.size() && list.compare(0, etag.size(), etag) == 0) {
      std::string_view rest = list.substr(etag.size());
      if (rest.empty() || rest[0] == ' ' || rest[0] == ',') return true;
    }
    size_t comma = list.find(',');
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma);
  }
  return false;
}

bool unmodifiedSince(const Request& r) {
  time_t lm = r.headersOut.lastModified;
  if (lm < 0) return false;
  time_t t = core::parseHttpTime(r.headersIn.ifUnmodifiedSince->value);
  return t != -1 && t >= lm;
}

bool modifiedSince(const Request& r) {
  time_t lm = r.headersOut.lastModified;
  int64_t mode = r.clcf()->ifModifiedSince;
  if (lm < 0 || mode == 0) return true;
  time_t t = core::parseHttpTime(r.headersIn.ifModifiedSince->value);
  if (t == -1) return true;
  return mode == 1 ? t != lm : t < lm;
}

int headerFilter(Request& r) {
  if (r.headersOut.status != 200 || r.main != &r) return gNext(r);
  const HeadersIn& in = r.headersIn;
  if (in.ifUnmodifiedSince != nullptr && !unmodifiedSince(r)) return filterFinalize(r, 412);
  if (in.ifMatch != nullptr && !etagMatches(r, in.ifMatch->value, false)) {
    return filterFinalize(r, 412);
  }
  if (in.ifModifiedSince == nullptr && in.ifNoneMatch == nullptr) return gNext(r);
  if (in.ifModifiedSince != nullptr && modifiedSince(r)) return gNext(r);
  if (in.ifNoneMatch != nullptr && !etagMatches(r, in.ifNoneMatch->value, true)) return gNext(r);
  HeadersOut& h = r.headersOut;
  h.status = 304;
  h.statusLine = {};
  h.contentType = {};
  h.charset = {};
  h.contentLength = -1;
  h.list.remove("Content-Length");
  h.list.remove("Accept-Ranges");
  return gNext(r);
}

void postConf(conf::Engine&) { gNext = pushHeaderFilter(headerFilter); }

const conf::Module kModule{
    .name = "http_not_modified_filter",
    .type = conf::ModuleType::kHttp,
    .directives = {},
    .postConfiguration = postConf,
};

}  // namespace

const conf::Module& httpNotModifiedModule() { return kModule; }

}  // namespace lunet::http
