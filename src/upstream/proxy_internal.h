// Shared by the proxy module's files (internal to src/upstream): the
// location configuration proxy_module.cc builds and proxy.cc runs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/module.h"
#include "http/request.h"
#include "http/variables.h"
#include "upstream/upstream.h"

namespace lunet::upstream {

// proxy_next_upstream bits (nginx's NGX_HTTP_UPSTREAM_FT_*).
enum NextUpstream : int64_t {
  kFtError = 0x2,
  kFtTimeout = 0x4,
  kFtInvalidHeader = 0x8,
  kFt500 = 0x10,
  kFt502 = 0x20,
  kFt503 = 0x40,
  kFt504 = 0x80,
  kFt403 = 0x100,
  kFt404 = 0x200,
  kFt429 = 0x400,
  kFtNonIdempotent = 0x4000,
  kFtNoLive = 0x40000000,
  kFtOff = 0x80000000,
};

// proxy_ignore_headers: X-Accel-Redirect is the one Lunet acts on; the
// others name what Lunet does not do (caching, rate and buffering hints).
inline constexpr int64_t kIgnoreAccelRedirect = 1;

struct HeaderTpl {
  std::string name;
  http::ComplexValue value;
  bool empty = false;  // a literal "": the header is not sent
};
using HeaderTpls = std::vector<HeaderTpl>;

// A proxy_pass URL taken apart.
struct ProxyUrl {
  std::string hostText;  // $proxy_host
  std::string portText;  // $proxy_port
  std::string upsName;   // "host:port", "host", "unix:/path"
  std::string uri;
  bool hasUri = false;
  bool hasPort = false;
};
// Returns false with nginx's message in *err.
bool parseProxyUrl(std::string_view url, ProxyUrl* out, std::string* err);

struct ProxyLoc : conf::ConfBase {
  // proxy_pass (this location only, not inherited).
  bool pass = false;
  std::optional<conf::ConfNode> passNode;
  std::string url;       // "http://host:port/uri" as written
  std::string hostText;  // $proxy_host: "host:port" (":80" left out), or the upstream name
  std::string portText;  // $proxy_port
  std::string uri;       // the URI part ("" none)
  bool hasUri = false;
  std::string upsName;      // the upstream to look for (name or host:port)
  bool implicitOk = false;  // no upstream of that name: make one from the address
  Upstream* ups = nullptr;
  std::shared_ptr<http::ComplexValue> urlValue;  // proxy_pass with variables
  UpstreamMain* upsMain = nullptr;               // where it looks for upstream blocks
  std::string locName;                           // the location's name: what the URI part replaces

  // Inherited.
  std::shared_ptr<HeaderTpls> userHeaders;  // proxy_set_header, in order
  std::shared_ptr<HeaderTpls> headers;      // merged: user's, then the defaults
  std::vector<std::string> hide;
  std::vector<std::string> passHdr;
  bool hideSet = false, passHdrSet = false;
  int64_t httpVersion = -1;  // 1000 / 1001
  int64_t connectTimeout = -1;
  int64_t sendTimeout = -1;
  int64_t readTimeout = -1;
  int64_t bufferSize = -1;
  int64_t nextUpstream = -1;
  int64_t nextTries = -1;
  int64_t nextTimeout = -1;
  int64_t passRequestHeaders = -1;
  int64_t passRequestBody = -1;
  int64_t buffering = -1;
  int64_t interceptErrors = -1;
  int64_t ignoreClientAbort = -1;
  int64_t ignoreHeaders = -1;                   // proxy_ignore_headers: bits of kIgnore*
  int64_t redirect = -1;                        // 0 off, 1 default, 2 explicit pairs
  std::shared_ptr<http::ComplexValue> method;   // proxy_method
  std::shared_ptr<http::ComplexValue> setBody;  // proxy_set_body
  std::vector<std::pair<std::string, std::string>> redirects;
};

const conf::Module& proxyModule();

// The content handler (proxy.cc).
int proxyHandler(http::Request& r);

// Per-request state, kept in the request arena for the variables.
struct TryState {
  std::string_view addr;
  int status = 0;
  int64_t connectMs = -1, headerMs = -1, responseMs = -1;
  int64_t bytesReceived = 0;
  int64_t responseLength = 0;
};
struct Proxy;
struct ProxyCtx {
  Proxy* proxy = nullptr;
  const ProxyLoc* conf = nullptr;
  core::ArenaVec<TryState> tries;
  http::HeaderList headers;             // the last response's head ($upstream_http_*)
  int64_t bodyLength = -1;              // $proxy_internal_body_length
  std::string_view hostText, portText;  // proxy_pass with variables: this request's
};
ProxyCtx* proxyCtx(http::Request& r) noexcept;

}  // namespace lunet::upstream
