// The HTTP request: what every phase handler, filter, variable and the Lua
// runtime operate on.
//
// Memory: a Request and everything hanging off it live in its Arena
// (r.arena); they die together when the request is freed. Header names and
// values are slices of the connection's read buffer (no copy); strings made
// later (rewritten URIs, variable values, headers_out) are arena copies.
//
// The yield contract (for every handler that must wait, Lua included):
//   1. a phase handler that must wait arms a libuv handle (timer, socket, ...)
//      and returns kAgain; a content handler returns kDone;
//   2. it registers a cleanup with addCleanup(r, ...) that cancels the armed
//      operation — it runs if the request dies first (client gone, timeout,
//      worker shutdown), after which the libuv callback must not touch r;
//   3. the libuv callback, when the wait is over, calls http::resume(r) (the
//      same phase handler is called again and must recognise the re-entry
//      from its ctx) or http::resumeWith(r, rc) (the handler's final result
//      is rc); a content handler calls http::finalize(r, rc) instead.
// Status codes are nginx's: kOk, kDeclined, kAgain, kDone, kError, or an
// HTTP status code (>= 100) meaning "finalize with this status".
#pragma once

#include <cstdint>
#include <string_view>

#include "conf/module.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"

namespace lunet::http {

struct Connection;
struct Request;
using core::Buf;
struct HttpCoreSrv;
struct HttpCoreLoc;

// Handler / function results (nginx's NGX_* codes).
inline constexpr int kOk = 0;
inline constexpr int kError = -1;
inline constexpr int kAgain = -2;
inline constexpr int kBusy = -3;
inline constexpr int kDone = -4;
inline constexpr int kDeclined = -5;

// Methods as bits (limit_except, $request_method fast paths).
enum Method : uint32_t {
  kMethodUnknown = 0,
  kGet = 1u << 1,
  kHead = 1u << 2,
  kPost = 1u << 3,
  kPut = 1u << 4,
  kDelete = 1u << 5,
  kOptions = 1u << 6,
  kPatch = 1u << 7,
  kTrace = 1u << 8,
  kConnect = 1u << 9,
  kOtherMethod = 1u << 10,
};

// One header line. `name` keeps the client's spelling.
struct Header {
  std::string_view name;
  std::string_view value;
  uint32_t hash = 0;  // lowercase name hash (headerHash), 0 = deleted
};

// Case-insensitive hash of a header name (for HeaderList lookups).
uint32_t headerHash(std::string_view name) noexcept;
bool ieq(std::string_view a, std::string_view b) noexcept;

// Response splitting protection for header names and values set by scripts
// (lua-nginx-module's rules): a value gets its control bytes (but TAB) and
// DEL written as %XX; a name also its space, bytes >= 0x80 and the
// separators ()<>@,;:\"/[]?={}. Returns `s` itself when nothing needs
// escaping, else an arena copy.
std::string_view escapeHeaderName(core::Arena& a, std::string_view s) noexcept;
std::string_view escapeHeaderValue(core::Arena& a, std::string_view s) noexcept;

// An ordered list of headers with hashed lookup.
class HeaderList {
 public:
  // First header named `name` (case-insensitive), or nullptr.
  const Header* find(std::string_view name) const noexcept;
  Header* find(std::string_view name) noexcept;
  void add(core::Arena& a, std::string_view name, std::string_view value) noexcept;
  // Removes every header named `name`; returns how many.
  size_t remove(std::string_view name) noexcept;
  core::ArenaVec<Header>& all() { return list_; }
  const core::ArenaVec<Header>& all() const { return list_; }

 private:
  core::ArenaVec<Header> list_;
};

// Parsed request headers: the full list plus the ones the core uses.
struct HeadersIn {
  HeaderList list;
  const Header* host = nullptr;
  const Header* connection = nullptr;
  const Header* contentLength = nullptr;
  const Header* contentType = nullptr;
  const Header* transferEncoding = nullptr;
  const Header* userAgent = nullptr;
  const Header* referer = nullptr;
  const Header* ifModifiedSince = nullptr;
  const Header* ifNoneMatch = nullptr;
  const Header* ifMatch = nullptr;
  const Header* ifUnmodifiedSince = nullptr;
  const Header* range = nullptr;
  const Header* ifRange = nullptr;
  const Header* expect = nullptr;
  const Header* cookie = nullptr;  // first Cookie header (see $cookie_*)
  std::string_view server;         // host without port, lowercased (arena)
  int64_t contentLengthN = -1;     // -1 when absent
  bool chunked = false;
  bool keepAlive = false;  // client's wish after version and Connection rules
};

// Response headers, filled by handlers and serialised by the header filter.
struct HeadersOut {
  int status = 0;                // 0: not set yet
  std::string_view statusLine;   // "200 OK" override (optional)
  HeaderList list;               // every other header, in order
  std::string_view contentType;  // without charset
  std::string_view charset;
  int64_t contentLength = -1;  // -1 unknown: chunked on HTTP/1.1
  time_t lastModified = -1;
  std::string_view location;  // relative Location is made absolute by the header filter
  std::string_view etag;
  bool noBody = false;  // HEAD or 204/304: header filter strips the body
};

// The request body as read by readBody(): a chain of buffers (slices of the
// connection's read buffers — never copied).
struct RequestBody {
  Buf* bufs = nullptr;
  Buf** tail = &bufs;
  int64_t received = 0;
  int64_t rest = -1;  // bytes still expected (-1 unknown/chunked)
  bool done = false;
  void (*post)(Request& r) = nullptr;  // completion callback
};

using RequestCleanup = void (*)(void* data);

// Subrequest completion hook: called when sr finishes, with its status.
using SubrequestDone = int (*)(Request& sr, void* data, int rc);

struct Request {
  explicit Request(Connection* c) noexcept : conn(c) {}
  Request(const Request&) = delete;

  core::Arena arena{4096};
  Connection* conn;
  core::Log log;  // carries "*N" and the client/server/request context

  // Request line.
  std::string_view requestLine;  // "GET /t?a=1 HTTP/1.1"
  std::string_view methodName;   // "GET"
  uint32_t method = kMethodUnknown;
  int httpVersion = 1001;        // major * 1000 + minor
  std::string_view unparsedUri;  // $request_uri as received
  std::string_view uri;          // $uri: decoded, normalised (arena or slice)
  std::string_view args;         // $args (without '?')
  std::string_view exten;        // extension of uri (no dot)
  std::string_view schema{"http"};

  HeadersIn headersIn;
  HeadersOut headersOut;
  RequestBody* body = nullptr;  // set once readBody() was called

  // Configuration.
  const conf::ConfLevel* srvConf = nullptr;  // matched server{}
  const conf::ConfLevel* locConf = nullptr;  // matched location{} (or server level)
  std::string_view serverName;               // $server_name
  template <class T>
  const T* loc(const conf::Module& m) const {
    return locConf->locConf<T>(m);
  }
  template <class T>
  const T* srv(const conf::Module& m) const {
    return srvConf->srvConf<T>(m);
  }

  // Per-module state, indexed by Module::index (nginx's r->ctx).
  void** ctx = nullptr;
  void* getCtx(const conf::Module& m) const { return ctx[m.index]; }
  void setCtx(const conf::Module& m, void* p) { ctx[m.index] = p; }

  // Indexed variable values (`set`), see variables.h.
  struct VarSlot {
    std::string_view value;
    bool valid = false;
    bool notFound = false;
  };
  VarSlot* variables = nullptr;

  // Regex captures of the last match ($1..$9), as offsets into `captureSubject`.
  int* captures = nullptr;
  int ncaptures = 0;
  std::string_view captureSubject;

  // Subrequests: main is the client request (== this for it); parent is
  // the request that created this one.
  Request* main = this;
  Request* parent = nullptr;
  SubrequestDone subrequestDone = nullptr;
  void* subrequestData = nullptr;
  bool inMemory = false;  // subrequest: capture body into `capturedBody`
  Buf* capturedBody = nullptr;
  int subrequestsLeft = 51;  // nginx's limit on nesting (NGX_HTTP_MAX_SUBREQUESTS + 1)
  int uriChanges = 11;       // internal redirects + rewrites allowed (nginx: 10)
  int count = 1;             // references (main request): live subrequests + 1

  // Phase engine state (phases.cc).
  int phaseHandler = 0;
  int64_t startMsec = 0;
  int64_t requestLength = 0;
  int64_t bodyBytesSent = 0;  // all bytes written (header included)
  int64_t headerBytes = 0;

  // Flags.
  bool internal = false;    // internal redirect/subrequest: `internal` locations ok
  bool uriChanged = false;  // rewrite changed uri: find config again
  bool headerSent = false;
  bool headerOnly = false;  // HEAD etc.: no body
  bool chunkedOut = false;  // response uses chunked transfer encoding
  bool keepAlive = false;   // connection will be reused after this response
  bool lingeringClose = false;
  bool finalized = false;
  bool errorPage = false;  // already inside error_page processing
  bool plainUri = true;    // uri needs no further escaping
  bool quoted = false;     // request line had %XX
  // nginx's r->valid_unparsed_uri: uri and args are still those of the
  // request line (a rewrite or an internal redirect clears it; a
  // subrequest never has it), so a proxy may send unparsedUri as is.
  bool validUnparsedUri = false;
  // nginx's r->valid_location: the location's prefix still heads uri (a
  // `rewrite ... break` clears it), so proxy_pass may replace it.
  bool validLocation = true;
  bool zeroCopyFiles = true;  // static module may emit file bufs
  // A filter that needs the response body's bytes in memory sets this in its
  // header filter (nginx's r->filter_need_in_memory): file bufs are then
  // read (pread) instead of being sent with sendfile.
  bool filterNeedInMemory = false;
  // Filters holding data back (nginx's r->buffered): a body filter that
  // keeps input it has not passed on yet — e.g. gzip waiting for its output
  // buffers to drain — sets its bit (kBufferedGzip...). While any bit is
  // set the request is not done and ngx.flush(true) does not return; each
  // time the output queue drains the filters below postponement are called
  // again with a null chain to go on (nginx's ngx_http_writer).
  uint8_t buffered = 0;
  bool waitingDrain = false;
  bool discardBody = false;
  // filterFinalize() replaced the response: the original body is dropped.
  bool filterFinalized = false;
  // holdRequest(): while > 0, freeRequest() runs the log phase but leaves
  // the destruction to the last unholdRequest() (`freed` is then set).
  int holds = 0;
  bool freed = false;

  // When the send queue becomes empty (everything passed to the socket):
  // runs once (see onDrained()).
  void (*drained)(Request& r, void* data) = nullptr;
  void* drainedData = nullptr;

  // ---- Internal to src/http (output queue, postponement, finalisation) ----
  Buf* out = nullptr;  // queued for the socket, not yet written
  Buf** outTail = &out;
  int64_t outBytes = 0;
  bool lastQueued = false;       // the `last` buf reached the write filter
  bool finishing = false;        // finalize done; waiting for the queue to drain
  bool done = false;             // (subrequest) finished
  bool lastSeen = false;         // (subrequest) the last buf of its body was output
  bool waitingChildren = false;  // (subrequest) finalized, its subrequests still pending
  bool bodyReading = false;
  bool expectSent = false;
  int status = 0;      // $status once decided
  int errStatus = 0;   // error_page: status to send instead of the handler's
  int accessCode = 0;  // satisfy any: 403/401 an access handler denied with
  struct Postponed {
    Request* sr;  // or null: data
    Buf* data;
    Postponed* next;
  };
  Postponed* postponed = nullptr;
  Postponed** postponedTail = &postponed;
  Buf** capturedTail = &capturedBody;
  int pendingSubrequests = 0;
  int activeSubrequests = 0;

  // While an upstream serves the request: `upstream: "http://..."` in its
  // error-log lines (set by src/upstream, arena memory).
  std::string_view upstreamLog;

  const HttpCoreLoc* clcf() const;  // core location conf of locConf
  const HttpCoreSrv* cscf() const;
};

// Registers fn(data) to run when r is freed (in reverse order). Use it for
// anything armed on the request's behalf (timers, sockets, Lua threads).
inline void addCleanup(Request& r, RequestCleanup fn, void* data) noexcept {
  r.arena.addCleanup(fn, data);
}

// ---- Control ---------------------------------------------------------------

// Continues the phase engine after a handler returned kAgain: re-invokes the
// same handler. Call from a libuv callback, never from inside a handler.
void resume(Request& r) noexcept;
// As resume(), but the suspended handler's final result is `rc` (kOk: next
// phase, kDeclined: next handler, kDone: request taken over, else finalize).
void resumeWith(Request& r, int rc) noexcept;

// Ends the request: rc is kOk/kDone (response complete or handler owns the
// request), kAgain (still writing: finish when the queue drains), kError
// (500 if nothing was sent, else close the connection), or an HTTP status
// (send the error page / error_page for it).
void finalize(Request& r, int rc) noexcept;

// Internal redirect to `uri` (with `args`, may be empty): restarts location
// matching from the server rewrite phase, as nginx's
// ngx_http_internal_redirect. Returns kDone (the caller returns kDone too) or
// an HTTP error (500 when the redirect cycle limit is hit).
int internalRedirect(Request& r, std::string_view uri, std::string_view args) noexcept;
// Jumps to the named location `@name` (rewrite phase of that location).
int namedLocation(Request& r, std::string_view name) noexcept;

// Starts a subrequest for uri?args. Its output goes to the client in order
// (after whatever the parent sent before), or — with inMemory — into
// sr->capturedBody. `done` runs when it finishes. Returns kOk / kError.
struct SubrequestOptions {
  SubrequestDone done = nullptr;
  void* data = nullptr;
  bool inMemory = false;
  uint32_t method = kGet;
  std::string_view methodName = "GET";
  bool logCycle = true;  // log nginx's "subrequests cycle" when over the limit
};
int subrequest(Request& r, std::string_view uri, std::string_view args,
               const SubrequestOptions& opts, Request** out) noexcept;
// subrequest() in two steps, for a caller that adjusts the subrequest
// (method, body, variables, ...) before it runs: create returns null when
// r may not have more nested subrequests (nginx's limit); start runs its
// phases (it may finish before returning).
Request* createSubrequest(Request& r, std::string_view uri, std::string_view args,
                          const SubrequestOptions& opts) noexcept;
void startSubrequest(Request& sr) noexcept;
// A request body given by the caller (a subrequest's own body): `data`
// (may be empty) as the whole body, already complete.
void setRequestBody(Request& r, std::string_view data) noexcept;

// nginx's ngx_http_filter_finalize_request, for a header filter that
// decides the response must be `status` instead of the one whose header is
// passing (ngx.exit(403) in header_filter_by_lua): sends the special
// response (error page, error_page) for it now; whatever body the original
// handler outputs later is dropped. The filter returns the result (kDone,
// or kError) without calling the next header filter. A filter that can run
// again for the special response's own header must let it pass.
int filterFinalize(Request& r, int status) noexcept;

// Client abort (client_abort.cc): fn(r, data) runs once, from an event
// callback, when the client closes or resets the connection while r's main
// request is processed (nginx's lua_check_client_abort). The watch ends
// with the request. Returns kOk or kError.
int watchClientAbort(Request& r, void (*fn)(Request& r, void* data), void* data) noexcept;
// Ends the main request of r at once without a response (the client is
// gone): the log phase sees `status` (499), the connection is closed and the
// request freed. Call only from an event callback, never from inside one of
// the request's handlers.
void abortRequest(Request& r, int status) noexcept;

// Keeps r (its main request) from being destroyed while a caller up the
// stack still uses it — e.g. a Lua handler whose ngx.say ended in a write
// error that closed the connection. A request closed meanwhile is
// "freed": its log phase has run, requestFreed() is true, its connection
// must not be used; the destruction happens at the last unholdRequest(),
// which then returns false.
void holdRequest(Request& r) noexcept;
bool unholdRequest(Request& r) noexcept;
inline bool requestFreed(const Request& r) noexcept { return r.main->freed; }

// ---- Request body ----------------------------------------------------------

// Reads the whole request body, then calls post(r). Returns kOk if post()
// already ran (body complete), kAgain if it will run later, or an HTTP
// status (413, 400, 408...) to finalize with. Idempotent.
int readBody(Request& r, void (*post)(Request& r)) noexcept;
// Reads and drops the body (called by finalize when nobody read it).
int discardBody(Request& r) noexcept;
// nginx's ngx_http_discard_request_body where a handler calls it before its
// response (return, static): answers Expect and parses the body bytes that
// came with the head; the rest is discarded after the response. Returns
// kOk or a status (400 for an invalid chunked body).
int discardRequestBody(Request& r) noexcept;
// Sends "HTTP/1.1 100 Continue" once if the client asked for it (the body
// is about to be read or discarded).
void testExpect(Request& main) noexcept;

// ---- Output ----------------------------------------------------------------

// Runs the header filter chain (once). Returns kOk, kError, or kDone when
// the response has no body (HEAD, 304...).
int sendHeader(Request& r) noexcept;
// Runs the body filter chain on `in` (may be nullptr to just flush). A Buf
// with `last` set ends the response body.
int output(Request& r, Buf* in) noexcept;
// Convenience: a memory buffer (data must live as long as r — use r.arena).
int outputString(Request& r, std::string_view data, bool last) noexcept;
// Sends a complete simple response: status, optional content type, body.
int sendResponse(Request& r, int status, std::string_view contentType,
                 std::string_view body) noexcept;
// Calls fn(r, data) once all output so far has been handed to the kernel
// (ngx.flush(true)). Immediately (synchronously) if nothing is queued.
void onDrained(Request& r, void (*fn)(Request& r, void* data), void* data) noexcept;

// Bits of Request::buffered.
inline constexpr uint8_t kBufferedGzip = 1;
inline constexpr uint8_t kBufferedGunzip = 2;
inline constexpr uint8_t kBufferedSub = 4;
inline constexpr uint8_t kBufferedOther = 8;  // a rate limit or any other filter

// True when everything r's main request output so far has been handed to
// the kernel and no filter other than those in `except` (Request::buffered
// bits) holds data: a filter's own output buffers are free to reuse.
bool outputDrained(const Request& r, uint8_t except) noexcept;

// Standard reason phrase ("Not Found"), or "" for unknown codes.
std::string_view reasonPhrase(int status) noexcept;

// "client: ..., server: ..., request: ..., host: ..." context appended to
// error-log lines of this request (installed in r.log).
void logContext(const void* r, std::string& out);

// ---- The request's connection, as seen from outside src/http --------------

// The connection's number ("*N" in the error log); 0 for a request without
// one (init_worker_by_lua's fake request).
uint64_t connectionNumber(const Request& r) noexcept;
// The client's address text ("127.0.0.1") and the listen address as
// written ("127.0.0.1:8080"); empty without a connection.
std::string_view clientAddrText(const Request& r) noexcept;
std::string_view serverAddrText(const Request& r) noexcept;
// The head as received, from the request line up to the end of what the
// connection buffered (ngx.req.raw_header looks for the empty line in it);
// just the request line when the head is no longer buffered.
std::string_view receivedHead(const Request& r) noexcept;

}  // namespace lunet::http
