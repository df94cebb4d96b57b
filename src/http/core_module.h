// The HTTP core module: http{}, server{}, location{}, listen, server_name,
// root/alias, limits and timeouts — and the config structs every HTTP module
// reads through Request::clcf()/cscf().
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "conf/module.h"
#include "event/loop.h"
#include "http/filter.h"
#include "http/phases.h"
#include "http/regex.h"
#include "http/variables.h"

namespace lunet::http {

const conf::Module& httpCoreModule();

struct HttpCoreLoc;
struct HttpCoreSrv;

// One `error_page CODES [=[CODE]] URI;` entry.
struct ErrorPage {
  int status = 0;
  int overwrite = -1;  // -1 keep; 0 "=" (take the target's status); else the code
  ComplexValue uri;
};

// Address → servers table of one listening socket (Listening::owner).
struct ListenAddr {
  sockaddr_storage addr{};
  socklen_t addrLen = 0;
  std::vector<HttpCoreSrv*> servers;  // in config order
  HttpCoreSrv* defaultServer = nullptr;
  bool reuseport = false;
  bool bind = false;  // `bind` (or an option implying it): a socket of its own
  int backlog = 511;
  std::string text;
  event::UvHandle<uv_tcp_t> handle;  // in workers
  // A wildcard address's specific addresses on the same port that have no
  // socket of their own; a connection picks one by its local address.
  std::vector<ListenAddr*> subs;
  ListenAddr* boundTo = nullptr;  // the wildcard that accepts for this one
};

// One step of the phase engine (nginx's ngx_http_phase_handler_t).
struct PhaseEntry {
  Phase phase;
  PhaseHandler h;
  int next;  // first entry of the next phase
};

// Most distinct filter functions a binary may install (per chain).
inline constexpr int kMaxFilters = 32;

// The run-time tables of one cycle: its phase engine and filter chains.
// Built in the master while the cycle loads and made the process's active
// tables only by installTables() (worker / single-process initProcess), so
// a reload that fails leaves the running generation's tables untouched.
struct HttpTables {
  std::vector<PhaseEntry> engine;
  int serverRewriteIdx = 0;
  int findConfigIdx = 0;
  int rewriteIdx = 0;
  HeaderFilter topHeader = nullptr;
  BodyFilter topBody = nullptr;
  BodyFilter topMain = nullptr;  // main request, below postponement (chunked at the bottom)
  // Per filter slot (see filterSlot in request.cc): the filter below it.
  HeaderFilter headerNext[kMaxFilters] = {};
  BodyFilter bodyNext[kMaxFilters] = {};
};

struct HttpCoreMain : conf::ConfBase {
  conf::ConfLevel* level = nullptr;  // the http{} level
  std::vector<HttpCoreSrv*> servers;
  std::vector<std::unique_ptr<conf::ConfLevel>> levels;  // owns every server/location level
  std::vector<std::unique_ptr<ListenAddr>> addrs;
  std::vector<PhaseHandler> phases[static_cast<int>(Phase::kCount)];
  HttpTables tables;
  int64_t variablesHashMaxSize = -1;
  int64_t serverNamesHashMaxSize = -1;
  int64_t serverNamesHashBucketSize = -1;
};

struct ServerName {
  std::string name;  // exact ("a.com"), wildcard ("*.a.com" / "a.*"), or regex source
  std::unique_ptr<Regex> regex;
};

struct HttpCoreSrv : conf::ConfBase {
  conf::ConfLevel* level = nullptr;  // this server's level (srv + its loc structs)
  std::vector<ServerName> names;
  std::string firstName;  // $server_name
  bool listenSeen = false;
  int64_t clientHeaderBufferSize = -1;
  int64_t largeHeaderBuffersNum = -1;
  int64_t largeHeaderBuffersSize = -1;
  int64_t clientHeaderTimeout = -1;
  int64_t mergeSlashes = -1;
  int64_t underscoresInHeaders = -1;
  int64_t ignoreInvalidHeaders = -1;
  // The server{} level's location tree.
  HttpCoreLoc* rootLoc = nullptr;
};

enum class LocMatch : uint8_t {
  kPrefix,
  kExact,
  kNoRegex,
  kRegex,
  kRegexCaseless,
  kNamed,
  kServer
};

struct TryFile {
  ComplexValue value;
  bool isCode = false;
  int code = 0;
  bool isUri = false;  // last element: a uri (not a file)
};

struct HttpCoreLoc : conf::ConfBase {
  conf::ConfLevel* level = nullptr;
  std::string name;  // "/", "@fallback", regex source
  LocMatch match = LocMatch::kServer;
  std::unique_ptr<Regex> regex;
  bool internal = false;
  bool internalSeen = false;
  // Nested locations (static ones sorted for matching, regex in config order).
  std::vector<HttpCoreLoc*> prefixLocs;  // kPrefix / kExact / kNoRegex
  std::vector<HttpCoreLoc*> regexLocs;
  std::vector<HttpCoreLoc*> namedLocs;  // only at server level
  HttpCoreLoc* parentLoc = nullptr;
  std::vector<HttpCoreLoc*> ifLocs;  // `if` blocks inside (merged from this level)

  ContentHandler handler = nullptr;  // nginx's clcf->handler

  // limit_except METHODS { deny all; }: methods outside `limitExcept` (a
  // Method mask; 0 = no limit_except here) are refused with 403.
  uint32_t limitExcept = 0;
  bool limitExceptDeny = false;

  std::optional<std::string> root;  // root or alias value (complex)
  bool alias = false;
  ComplexValue rootValue;
  size_t aliasLen = 0;  // length of the location name an alias replaces
  bool rootSet = false;

  std::unordered_map<std::string, std::string>* types = nullptr;  // ext → type
  std::unique_ptr<std::unordered_map<std::string, std::string>> ownTypes;
  std::optional<std::string> defaultType;

  int64_t clientMaxBodySize = -1;
  int64_t clientBodyBufferSize = -1;
  int64_t clientBodyTimeout = -1;
  int64_t sendTimeout = -1;
  int64_t keepaliveTimeout = -1;
  int64_t keepaliveHeader = -1;  // seconds for "Keep-Alive: timeout=N"; 0 none
  int64_t keepaliveRequests = -1;
  int64_t lingeringClose = -1;  // 0 off, 1 on, 2 always
  int64_t satisfy = -1;         // 0 all, 1 any
  int64_t lingeringTime = -1;
  int64_t lingeringTimeout = -1;
  int64_t sendfile = -1;
  int64_t tcpNodelay = -1;
  int64_t serverTokens = -1;
  int64_t etag = -1;
  int64_t ifModifiedSince = -1;  // 0 off, 1 exact, 2 before
  int64_t logNotFound = -1;
  int64_t absoluteRedirect = -1;
  int64_t serverNameInRedirect = -1;
  int64_t portInRedirect = -1;
  int64_t msie_padding = -1;
  int64_t recursiveErrorPages = -1;
  int64_t chunkedTransferEncoding = -1;
  std::vector<ErrorPage> errorPages;
  bool errorPagesSet = false;
  std::vector<TryFile> tryFiles;
  std::vector<std::string> index;  // index files (ComplexValue later)
  bool indexSet = false;
  core::Log* errorLog = nullptr;  // location error_log (null: cycle's)
  std::unique_ptr<core::ErrorLog> ownErrorLog;
};

// Core confs of a level.
const HttpCoreLoc* coreLoc(const conf::ConfLevel* level);
const HttpCoreSrv* coreSrv(const conf::ConfLevel* level);
HttpCoreMain* coreMain();  // of the current cycle (config time and run time)

// Finds the location for r.uri in r's server (sets r.locConf, captures).
// Returns kOk, or kDeclined if nothing matched (then the server level).
int findLocation(Request& r) noexcept;
// Content type for r (from types{} by exten or default_type).
void setContentType(Request& r) noexcept;
// Maps r.uri to a file path (root/alias). Reserve `reserve` extra bytes.
// Returns the path (NUL-terminated, in the arena) and its root length.
std::string_view mapUriToPath(Request& r, size_t* rootLen, size_t reserve = 0) noexcept;

// Builds m's phase engine (http{} end, after postConfiguration).
void buildPhaseEngine(HttpCoreMain& m);
// Resets the filter chains to their bottoms (before postConfiguration).
void resetFilters();
// Makes m's tables the ones requests of this process run with (null: none).
void installTables(HttpCoreMain* m) noexcept;
// The cycle whose filters pushHeaderFilter/pushBodyFilter build (config time).
void setLoadingMain(HttpCoreMain* m) noexcept;
// Picks the server{} for `host` on a listening address (may set captures).
const HttpCoreSrv* findServer(const ListenAddr* addr, std::string_view host, Request* r);
// Creates a location-like level for `if` (rewrite module) nested in `parent`.
HttpCoreLoc* newIfLevel(conf::Engine& e, const conf::ConfNode& n, uint32_t ctx);

// Sends nginx's default page (or the configured error_page) for `status`.
int specialResponse(Request& r, int status) noexcept;

}  // namespace lunet::http
