// Request lifecycle: creation, the phase engine, finalisation, output
// (header filter bottom, postponement of subrequest output, chunked
// encoding), request body reading, internal redirects and subrequests.
#include <array>
#include <cstdio>
#include <cstring>
#include <utility>

#include "conf/cycle.h"
#include "core/time.h"
#include "http/connection.h"
#include "http/core_module.h"
#include "http/filter.h"
#include "http/phases.h"
#include "http/uri.h"

namespace lunet::http {

namespace {

using PhEntry = PhaseEntry;

// The tables requests of this process run with (installTables), and the
// cycle whose tables are being built (config time, in the master).
HttpTables* gActive = nullptr;
HttpCoreMain* gLoading = nullptr;

int headerFilterBottom(Request& r) noexcept;
int bodyFilterBottom(Request& r, Buf* in) noexcept;

// Filter functions get a slot the first time they are pushed; the same
// function always has the same slot, so the "next" a module keeps in a
// static (a trampoline bound to its slot) is right for every cycle: the
// trampoline looks the real next filter up in the active tables.
HeaderFilter gHeaderSlots[kMaxFilters] = {};
BodyFilter gBodySlots[kMaxFilters] = {};

template <size_t N>
int headerTrampoline(Request& r) {
  return gActive->headerNext[N](r);
}
template <size_t N>
int bodyTrampoline(Request& r, Buf* in) {
  return gActive->bodyNext[N](r, in);
}
template <size_t... I>
constexpr auto headerTrampolines(std::index_sequence<I...>) {
  return std::array<HeaderFilter, sizeof...(I)>{&headerTrampoline<I>...};
}
template <size_t... I>
constexpr auto bodyTrampolines(std::index_sequence<I...>) {
  return std::array<BodyFilter, sizeof...(I)>{&bodyTrampoline<I>...};
}
constexpr auto kHeaderTramps = headerTrampolines(std::make_index_sequence<kMaxFilters>());
constexpr auto kBodyTramps = bodyTrampolines(std::make_index_sequence<kMaxFilters>());

template <typename F>
size_t filterSlot(F (&slots)[kMaxFilters], F f) {
  for (size_t i = 0; i < kMaxFilters; i++) {
    if (slots[i] == f) return i;
    if (slots[i] == nullptr) {
      slots[i] = f;
      return i;
    }
  }
  throw conf::ConfError("too many filters");
}

HttpTables& loadingTables() {
  HttpCoreMain* m = gLoading != nullptr ? gLoading : coreMain();
  if (m == nullptr) throw conf::ConfError("filters pushed outside of http{}");
  return m->tables;
}

}  // namespace

// ---- phase engine ---------------------------------------------------------------

void addPhaseHandler(Phase p, PhaseHandler h) {
  HttpCoreMain* m = gLoading != nullptr ? gLoading : coreMain();
  m->phases[static_cast<int>(p)].push_back(h);
}

void buildPhaseEngine(HttpCoreMain& m) {
  HttpTables& t = m.tables;
  std::vector<PhEntry>& engine = t.engine;
  engine.clear();
  for (int p = 0; p < static_cast<int>(Phase::kLog); p++) {
    auto phase = static_cast<Phase>(p);
    int start = static_cast<int>(engine.size());
    if (phase == Phase::kServerRewrite) t.serverRewriteIdx = start;
    if (phase == Phase::kRewrite) t.rewriteIdx = start;
    if (phase == Phase::kFindConfig) t.findConfigIdx = start;
    if (phase == Phase::kFindConfig || phase == Phase::kPostRewrite ||
        phase == Phase::kPostAccess || phase == Phase::kContent) {
      engine.push_back({phase, nullptr, 0});
    }
    if (phase != Phase::kFindConfig && phase != Phase::kPostRewrite &&
        phase != Phase::kPostAccess) {
      for (PhaseHandler h : m.phases[p]) engine.push_back({phase, h, 0});
    }
    int end = static_cast<int>(engine.size());
    for (int i = start; i < end; i++) engine[i].next = end;
  }
  engine.push_back({Phase::kLog, nullptr, static_cast<int>(engine.size())});
}

void resetFilters() {
  HttpTables& t = loadingTables();
  t.topHeader = headerFilterBottom;
  t.topBody = bodyFilterBottom;
}

void setLoadingMain(HttpCoreMain* m) noexcept { gLoading = m; }
void installTables(HttpCoreMain* m) noexcept { gActive = m ? &m->tables : nullptr; }

HeaderFilter pushHeaderFilter(HeaderFilter f) {
  HttpTables& t = loadingTables();
  size_t slot = filterSlot(gHeaderSlots, f);
  t.headerNext[slot] = std::exchange(t.topHeader, f);
  return kHeaderTramps[slot];
}
BodyFilter pushBodyFilter(BodyFilter f) {
  HttpTables& t = loadingTables();
  size_t slot = filterSlot(gBodySlots, f);
  t.bodyNext[slot] = std::exchange(t.topBody, f);
  return kBodyTramps[slot];
}
HeaderFilter topHeaderFilter() { return gActive ? gActive->topHeader : loadingTables().topHeader; }
BodyFilter topBodyFilter() { return gActive ? gActive->topBody : loadingTables().topBody; }

Phase currentPhase(const Request& r) noexcept {
  const std::vector<PhEntry>& engine = gActive->engine;
  if (r.phaseHandler < 0 || r.phaseHandler >= static_cast<int>(engine.size())) return Phase::kLog;
  return engine[r.phaseHandler].phase;
}

namespace {

// Handles one handler result; returns true to keep running phases.
bool handleResult(Request& r, const PhEntry& e, int rc) {
  if (rc == kDeclined) {
    r.phaseHandler++;
    return true;
  }
  if (rc == kOk) {
    r.phaseHandler = e.next;
    return true;
  }
  if (rc == kAgain || rc == kDone) return false;
  finalize(r, rc);
  return false;
}

int contentPhase(Request& r, const PhEntry& e) {
  (void)e;
  const HttpCoreLoc* clcf = r.clcf();
  const std::vector<PhEntry>& engine = gActive->engine;
  if (clcf->handler != nullptr && engine[r.phaseHandler].h == nullptr) {
    r.phaseHandler = static_cast<int>(engine.size()) - 1;  // nothing after content
    finalize(r, clcf->handler(r));
    return kDone;
  }
  return kDeclined;
}

}  // namespace

void runPhases(Request& r) noexcept {
  while (true) {
    const PhEntry& e = gActive->engine[r.phaseHandler];
    switch (e.phase) {
      case Phase::kFindConfig: {
        r.locConf = r.srvConf;
        findLocation(r);
        const HttpCoreLoc* clcf = r.clcf();
        if (clcf->internal && !r.internal) {
          finalize(r, 404);
          return;
        }
        if (clcf->limitExcept != 0 && !(r.method & clcf->limitExcept) && clcf->limitExceptDeny) {
          // nginx switches to the limit_except block's configuration here;
          // with "deny all" nothing of the location runs: 403.
          LUNET_LOG(r.log, core::Level::kError, 0, "access forbidden by rule");
          finalize(r, 403);
          return;
        }
        r.log.setSinks(clcf->ownErrorLog ? clcf->ownErrorLog.get() : r.log.sinks());
        if (r.main == &r && !r.internal) {
          int64_t max = clcf->clientMaxBodySize;
          if (max > 0 && r.headersIn.contentLengthN > max) {
            LUNET_LOG(r.log, core::Level::kError, 0,
                      "client intended to send too large body: %lld bytes",
                      static_cast<long long>(r.headersIn.contentLengthN));
            r.keepAlive = false;
            finalize(r, 413);
            return;
          }
        }
        if (r.main == &r && r.conn->requests >= static_cast<uint32_t>(clcf->keepaliveRequests)) {
          r.keepAlive = false;
        }
        if (clcf->keepaliveTimeout == 0) r.keepAlive = false;
        r.phaseHandler++;
        continue;
      }
      case Phase::kPostRewrite:
        if (r.uriChanged) {
          r.uriChanged = false;
          if (--r.uriChanges == 0) {
            LUNET_LOG(r.log, core::Level::kError, 0,
                      "rewrite or internal redirection cycle while processing \"%.*s\"",
                      static_cast<int>(r.uri.size()), r.uri.data());
            finalize(r, 500);
            return;
          }
          r.phaseHandler = gActive->findConfigIdx;
          continue;
        }
        r.phaseHandler++;
        continue;
      case Phase::kAccess: {
        // nginx's ngx_http_core_access_phase: subrequests skip it; with
        // `satisfy any` the first handler that allows ends the phase and a
        // denial (403/401) is only remembered for kPostAccess.
        if (r.main != &r) {
          r.phaseHandler = e.next;
          continue;
        }
        int rc = e.h(r);
        if (rc == kDeclined) {
          r.phaseHandler++;
          continue;
        }
        if (rc == kAgain || rc == kDone) return;
        if (r.clcf()->satisfy == 0) {
          if (rc == kOk) {
            r.phaseHandler++;
            continue;
          }
        } else {
          if (rc == kOk) {
            r.accessCode = 0;
            r.phaseHandler = e.next;
            continue;
          }
          if (rc == 403 || rc == 401) {
            if (r.accessCode != 401) r.accessCode = rc;
            r.phaseHandler++;
            continue;
          }
        }
        finalize(r, rc);
        return;
      }
      case Phase::kPostAccess:
        if (r.accessCode != 0) {
          int code = std::exchange(r.accessCode, 0);
          if (code == 403) LUNET_LOG(r.log, core::Level::kError, 0, "access forbidden by rule");
          finalize(r, code);
          return;
        }
        r.phaseHandler++;
        continue;
      case Phase::kContent: {
        if (e.h == nullptr) {
          if (contentPhase(r, e) == kDone) return;
          r.phaseHandler++;
          continue;
        }
        int rc = e.h(r);
        if (rc == kDeclined) {
          r.phaseHandler++;
          continue;
        }
        finalize(r, rc);
        return;
      }
      case Phase::kLog:
        // Ran out of content handlers.
        finalize(r, !r.uri.empty() && r.uri.back() == '/' ? 403 : 404);
        return;
      default:
        if (e.h == nullptr) {
          r.phaseHandler++;
          continue;
        }
        if (!handleResult(r, e, e.h(r))) return;
        continue;
    }
  }
}

void resume(Request& r) noexcept { runPhases(r); }

void resumeWith(Request& r, int rc) noexcept {
  const PhEntry& e = gActive->engine[r.phaseHandler];
  if (e.phase == Phase::kContent) {
    finalize(r, rc);
    return;
  }
  if (handleResult(r, e, rc)) runPhases(r);
}

// ---- creation / destruction -------------------------------------------------------

const HttpCoreLoc* Request::clcf() const { return coreLoc(locConf); }
const HttpCoreSrv* Request::cscf() const { return coreSrv(srvConf); }

void logContext(const void* p, std::string& out) {
  const auto* r = static_cast<const Request*>(p);
  const Connection* c = r->conn;
  out += ", client: ";
  out += c->peerText;
  out += ", server: ";
  if (r->srvConf) {
    out += r->cscf()->firstName;
  } else if (c->defaultSrv) {
    out += c->defaultSrv->firstName;
  }
  if (!r->requestLine.empty()) {
    out += ", request: \"";
    out.append(r->requestLine.data(), r->requestLine.size());
    out += "\"";
  }
  const Request* m = r->main;
  if (m != r) {
    out += ", subrequest: \"";
    out.append(r->uri.data(), r->uri.size());
    out += "\"";
  }
  if (m->headersIn.host != nullptr) {
    out += ", host: \"";
    out.append(m->headersIn.host->value.data(), m->headersIn.host->value.size());
    out += "\"";
  }
}

uint64_t connectionNumber(const Request& r) noexcept {
  return r.conn != nullptr ? r.conn->number : 0;
}

std::string_view clientAddrText(const Request& r) noexcept {
  return r.conn != nullptr ? std::string_view(r.conn->peerText) : std::string_view();
}

std::string_view serverAddrText(const Request& r) noexcept {
  if (r.conn == nullptr || r.conn->addr == nullptr) return {};
  return r.conn->addr->text;
}

std::string_view receivedHead(const Request& r) noexcept {
  const char* start = r.requestLine.data();
  const Connection* c = r.conn;
  if (c != nullptr && c->hbuf != nullptr && start >= c->hbuf && start < c->hbuf + c->hlen) {
    return {start, static_cast<size_t>(c->hbuf + c->hlen - start)};
  }
  return r.requestLine;
}

namespace {
// Requests (main and sub) are recycled: a warmed-up request costs no heap
// call (its first arena block comes from the arena's block list).
core::FreeList& requestPool() noexcept {
  static thread_local core::FreeList pool(sizeof(Request), 256);
  return pool;
}
void destroyRequest(void* p) noexcept {
  auto* r = static_cast<Request*>(p);
  r->~Request();
  requestPool().put(r);
}
}  // namespace

Request* createRequest(Connection* c) noexcept {
  auto* r = new (requestPool().get()) Request(c);
  size_t n = conf::allModules().size();
  r->ctx = r->arena.array<void*>(n);
  std::memset(r->ctx, 0, sizeof(void*) * n);
  size_t nv = indexedCount();
  r->variables = r->arena.array<Request::VarSlot>(nv ? nv : 1);
  for (size_t i = 0; i < nv; i++) r->variables[i] = Request::VarSlot{};
  r->log = c->log;
  r->log.handler = logContext;
  r->log.handlerData = r;
  r->startMsec = static_cast<int64_t>(core::nowMsec());
  r->srvConf = c->defaultSrv->level;
  r->locConf = c->defaultSrv->level;
  r->keepAlive = true;
  return r;
}

namespace {
void runLogPhase(Request& r) {
  for (PhaseHandler h : coreMain()->phases[static_cast<int>(Phase::kLog)]) h(r);
}
}  // namespace

void freeRequest(Request* r) noexcept {
  if (r->freed) return;
  LUNET_LOG(r->log, core::Level::kDebug, 0, "http close request");
  if (r->main == r && r->srvConf != nullptr && !r->requestLine.empty()) runLogPhase(*r);
  if (r->holds > 0) [[unlikely]] {
    // A caller up the stack still uses r (holdRequest): destroyed later.
    // Its header slices may point into a buffer that goes away now.
    r->freed = true;
    r->log.handler = nullptr;
    return;
  }
  destroyRequest(r);
}

void holdRequest(Request& r) noexcept { r.main->holds++; }

bool unholdRequest(Request& r) noexcept {
  Request* m = r.main;
  if (--m->holds > 0 || !m->freed) return !m->freed;
  destroyRequest(m);
  return false;
}

// ---- server selection ------------------------------------------------------------

namespace {

bool wildcardMatch(const std::string& pat, std::string_view host) {
  if (pat.size() > 1 && pat[0] == '*' && pat[1] == '.') {
    std::string_view suffix(pat.data() + 1, pat.size() - 1);  // ".example.com"
    return host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix;
  }
  if (pat.size() > 1 && pat[0] == '.') {  // ".example.com": both
    std::string_view bare(pat.data() + 1, pat.size() - 1);
    if (host == bare) return true;
    return host.size() > pat.size() && host.substr(host.size() - pat.size()) == pat;
  }
  if (pat.size() > 1 && pat.back() == '*' && pat[pat.size() - 2] == '.') {
    std::string_view prefix(pat.data(), pat.size() - 1);  // "mail."
    return host.size() > prefix.size() && host.substr(0, prefix.size()) == prefix;
  }
  return false;
}

}  // namespace

const HttpCoreSrv* findServer(const ListenAddr* addr, std::string_view host, Request* r) {
  if (host.empty() || addr->servers.size() == 1) {
    if (!host.empty() && addr->servers.size() == 1) {
      // still match regex captures for $1 in server_name? rarely needed
    }
    return addr->defaultServer;
  }
  for (HttpCoreSrv* s : addr->servers) {
    for (const ServerName& n : s->names) {
      if (!n.regex && n.name == host) return s;
    }
  }
  const HttpCoreSrv* best = nullptr;
  size_t bestLen = 0;
  for (HttpCoreSrv* s : addr->servers) {  // leading wildcards, longest first
    for (const ServerName& n : s->names) {
      if (!n.regex && (n.name[0] == '*' || n.name[0] == '.') && n.name.size() > bestLen &&
          wildcardMatch(n.name, host)) {
        best = s;
        bestLen = n.name.size();
      }
    }
  }
  if (best) return best;
  for (HttpCoreSrv* s : addr->servers) {  // trailing wildcards
    for (const ServerName& n : s->names) {
      if (!n.regex && n.name.size() > bestLen && n.name.back() == '*' &&
          wildcardMatch(n.name, host)) {
        best = s;
        bestLen = n.name.size();
      }
    }
  }
  if (best) return best;
  for (HttpCoreSrv* s : addr->servers) {
    for (const ServerName& n : s->names) {
      if (n.regex) {
        int caps[60];
        int rc = n.regex->exec(host, caps, 60);
        if (rc > 0) {
          if (r != nullptr && n.regex->captureCount() > 0) {
            r->captures = r->arena.array<int>(static_cast<size_t>(rc) * 2);
            std::memcpy(r->captures, caps, sizeof(int) * 2 * static_cast<size_t>(rc));
            r->ncaptures = rc;
            r->captureSubject = host;
          }
          return s;
        }
      }
    }
  }
  return addr->defaultServer;
}

// ---- finalisation -------------------------------------------------------------------

namespace {

void subrequestFinished(Request& sr, int rc);

void finishMain(Request& r) {
  Connection* c = r.conn;
  r.finishing = true;
  if (!r.lastQueued && !c->error) {
    Buf* b = newBuf(r, {});
    b->last = true;
    output(r, b);
    if (c->req != &r) return;
  }
  if (r.out != nullptr && c->writer.pending() == 0) startWriting(r);
  if (c->req != &r) return;
  if (c->error) {
    closeConnection(c);
    return;
  }
  requestDone(c);
}

}  // namespace

void finalize(Request& r, int rc) noexcept {
  LUNET_LOG(r.log, core::Level::kDebug, 0, "http finalize request: %d, \"%.*s?%.*s\" a:%d, c:%d",
            rc, static_cast<int>(r.uri.size()), r.uri.data(), static_cast<int>(r.args.size()),
            r.args.data(), r.main == &r ? 1 : 0, r.main->count);
  if (rc == kDone || rc == kAgain) return;
  if (r.main != &r) {
    subrequestFinished(r, rc);
    return;
  }
  if (r.finishing) return;
  Connection* c = r.conn;
  if (c->req != &r) return;
  if (r.bodyReading) {
    // e.g. a content handler failed while the body was still arriving
    r.bodyReading = false;
    r.keepAlive = false;
  }
  if (r.pendingSubrequests > 0 && rc == kOk) {
    // wait for subrequests: the last one finalizes the parent again
    r.done = true;
    return;
  }
  if (rc == kError || rc >= 300 || rc == 201 || rc == 204) {
    if (r.headerSent) {
      if (rc == kError || rc >= 300) {
        c->error = true;
        closeConnection(c);
        return;
      }
    } else {
      int st = rc == kError ? 500 : rc;
      if (st == 408 || st == 413 || st == 414 || st == 494 || st == 400 || st == 500 || st == 501) {
        r.keepAlive = false;
      }
      // 444, and as nginx's ngx_http_terminate_request 408 (a timeout) and
      // 499 (client gone): the connection is closed without a response.
      if (st == 444 || st == 408 || st == 499) {
        r.status = st;
        c->closeAfter = true;
        c->error = true;
        closeConnection(c);
        return;
      }
      rc = specialResponse(r, st);
      if (rc == kDone) return;  // error_page redirected
      if (c->req != &r) return;
    }
  }
  if (rc == kError && !r.headerSent) {
    rc = specialResponse(r, 500);
    if (rc == kDone) return;
  }
  if (!r.headerSent) {
    if (r.headersOut.status == 0) r.headersOut.status = 200;
    sendHeader(r);
    if (c->req != &r) return;
  }
  finishMain(r);
}

// ---- output ----------------------------------------------------------------------------

int sendHeader(Request& r) noexcept {
  if (r.headerSent) return kOk;
  r.headerSent = true;
  // The body that was not read is discarded after this response: nginx
  // tests Expect first (ngx_http_discard_request_body).
  if (r.main == &r && !r.expectSent) testExpect(r);
  if (r.errStatus > 0) r.headersOut.status = r.errStatus;
  if (r.headersOut.status == 0) r.headersOut.status = 200;
  if (r.main == &r) r.status = r.headersOut.status;
  int rc = gActive->topHeader(r);
  if (rc == kOk && r.headerOnly) return kDone;
  return rc;
}

int output(Request& r, Buf* in) noexcept {
  if (r.main == &r && r.finishing && r.lastQueued) return kOk;
  if (r.filterFinalized) [[unlikely]] {
    // the response was replaced (filterFinalize): only its end passes
    bool last = false;
    for (Buf* b = in; b != nullptr; b = b->next) last = last || b->last;
    if (!last || r.lastQueued) return kOk;
    in = newBuf(r, {});
    in->last = true;
    in->lastInChain = true;
  }
  if (!r.headerSent) {
    int rc = sendHeader(r);
    if (rc == kError) return rc;
  }
  return gActive->topBody(r, in);
}

int filterFinalize(Request& r, int status) noexcept {
  r.headerSent = false;  // the header being filtered never went out
  int rc = specialResponse(r, status == kError ? 500 : status);
  r.filterFinalized = true;
  return rc == kError ? kError : kDone;
}

int outputString(Request& r, std::string_view data, bool last) noexcept {
  Buf* b = newBuf(r, data);
  b->last = last && r.main == &r;
  b->lastInChain = last;
  return output(r, b);
}

int sendResponse(Request& r, int status, std::string_view contentType,
                 std::string_view body) noexcept {
  r.headersOut.status = status;
  if (!contentType.empty()) r.headersOut.contentType = contentType;
  r.headersOut.contentLength = static_cast<int64_t>(body.size());
  int rc = sendHeader(r);
  if (rc == kError || rc == kDone) {
    if (rc == kDone) return kOk;
    return rc;
  }
  return outputString(r, body, true);
}

void onDrained(Request& r, void (*fn)(Request& r, void* data), void* data) noexcept {
  Connection* c = r.conn;
  if (r.main != &r) {
    fn(r, data);
    return;
  }
  if (r.out != nullptr) startWriting(r);
  if (c->writer.pending() == 0 && r.out == nullptr) {
    fn(r, data);
    return;
  }
  r.drained = fn;
  r.drainedData = data;
}

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

int chunkedFilter(Request& r, Buf* in) {
  if (!r.chunkedOut || r.headerOnly) {
    if (r.headerOnly) {
      // drop body bufs, keep specials
      for (Buf* b = in; b; b = b->next) {
        b->data = {};
        b->file = nullptr;
        b->fileLen = 0;
      }
    }
    return writeFilter(r, in);
  }
  Buf* head = nullptr;
  Buf** tail = &head;
  int64_t size = 0;
  bool last = false, flush = false;
  for (Buf* b = in; b; b = b->next) {
    size += b->size();
    last |= b->last;
    flush |= b->flush;
  }
  if (size > 0) {
    // The chunk-size line of every chunk: hex digits by hand, no printf.
    char* hdr = static_cast<char*>(r.arena.alloc(24, 1));
    int n = 0;
    for (int shift = 60; shift >= 0; shift -= 4) {
      unsigned d = static_cast<unsigned>(static_cast<uint64_t>(size) >> shift) & 0xf;
      if (d == 0 && n == 0 && shift != 0) continue;
      hdr[n++] = "0123456789abcdef"[d];
    }
    hdr[n++] = '\r';
    hdr[n++] = '\n';
    Buf* hb = newBuf(r, {hdr, static_cast<size_t>(n)});
    *tail = hb;
    tail = &hb->next;
    for (Buf* b = in; b;) {
      Buf* next = b->next;
      b->last = false;
      b->flush = false;
      if (b->size() > 0) {
        *tail = b;
        tail = &b->next;
      }
      b = next;
    }
    *tail = nullptr;
    Buf* tb = newBuf(r, last ? std::string_view("\r\n0\r\n\r\n") : std::string_view("\r\n"));
    tb->last = last;
    tb->flush = flush;
    *tail = tb;
  } else {
    Buf* tb = newBuf(r, last ? std::string_view("0\r\n\r\n") : std::string_view());
    tb->last = last;
    tb->flush = flush;
    head = tb;
  }
  return writeFilter(r, head);
}

// Output of r (main or subrequest) in order: while earlier subrequests are
// pending, data is parked in r.postponed.
int emit(Request& r, Buf* in);

int bodyFilterBottom(Request& r, Buf* in) noexcept {
  if (r.postponed != nullptr) {
    auto* p = r.arena.make<Request::Postponed>();
    p->sr = nullptr;
    p->data = in;
    p->next = nullptr;
    *r.postponedTail = p;
    r.postponedTail = &p->next;
    return kOk;
  }
  return emit(r, in);
}

int emit(Request& r, Buf* in) {
  if (r.main == &r) return chunkedFilter(r, in);
  // subrequest: collect (copy the structs; data stays in r's arena, which
  // lives until the main request ends)
  for (Buf* b = in; b; b = b->next) {
    if (b->size() == 0) continue;
    Buf* nb = r.main->arena.make<Buf>();
    *nb = *b;
    nb->last = nb->lastInChain = nb->flush = false;
    nb->next = nullptr;
    if (b->file) {
      // read it now: the file ref belongs to the subrequest
      char* mem = static_cast<char*>(r.main->arena.alloc(static_cast<size_t>(b->fileLen), 1));
      ssize_t got = ::pread(b->file->fd, mem, static_cast<size_t>(b->fileLen), b->fileOffset);
      nb->file = nullptr;
      nb->data = {mem, got > 0 ? static_cast<size_t>(got) : 0};
    }
    *r.capturedTail = nb;
    r.capturedTail = &nb->next;
  }
  return kOk;
}

void flushPostponed(Request& p) {
  while (p.postponed != nullptr) {
    Request::Postponed* e = p.postponed;
    if (e->sr != nullptr) {
      if (!e->sr->done) return;
      if (!e->sr->inMemory && e->sr->capturedBody != nullptr) {
        Buf* chain = e->sr->capturedBody;
        e->sr->capturedBody = nullptr;
        p.postponed = e->next;
        if (!p.postponed) p.postponedTail = &p.postponed;
        emit(p, chain);
        continue;
      }
    } else if (e->data != nullptr) {
      p.postponed = e->next;
      if (!p.postponed) p.postponedTail = &p.postponed;
      emit(p, e->data);
      continue;
    }
    p.postponed = e->next;
    if (!p.postponed) p.postponedTail = &p.postponed;
  }
}

void subrequestFinished(Request& sr, int rc) {
  if (sr.done) return;
  if (rc >= 300 || rc == kError) {
    if (!sr.headerSent && rc != kError) {
      // subrequest error pages: nginx sends the error page body as output
      int st = rc;
      sr.headersOut.status = st;
      specialResponse(sr, st);
    }
  }
  if (sr.headersOut.status == 0) sr.headersOut.status = rc >= 100 ? rc : 200;
  sr.done = true;
  Request* parent = sr.parent;
  Request* main = sr.main;
  parent->pendingSubrequests--;
  main->count--;
  int src = rc;
  if (sr.subrequestDone) src = sr.subrequestDone(sr, sr.subrequestData, rc);
  (void)src;
  flushPostponed(*parent);
  if (parent->pendingSubrequests == 0 && parent->done) {
    if (parent->main == parent) {
      parent->done = false;
      finalize(*parent, kOk);
    } else {
      parent->done = false;
      subrequestFinished(*parent, kOk);
    }
  }
}

}  // namespace

// ---- subrequests & redirects ----------------------------------------------------------

namespace {
bool setUriArgs(Request& r, std::string_view uri, std::string_view args) {
  std::string_view a = args;
  std::string_view u = uri;
  size_t q = u.find('?');
  if (q != std::string_view::npos) {
    if (a.empty()) a = u.substr(q + 1);
    u = u.substr(0, q);
  }
  r.uri = r.arena.dup(u);
  r.args = a.empty() ? std::string_view() : r.arena.dup(a);
  r.exten = {};
  for (size_t i = r.uri.size(); i-- > 0;) {
    if (r.uri[i] == '/') break;
    if (r.uri[i] == '.') {
      r.exten = r.uri.substr(i + 1);
      break;
    }
  }
  return true;
}
}  // namespace

int internalRedirect(Request& r, std::string_view uri, std::string_view args) noexcept {
  if (--r.uriChanges == 0) {
    LUNET_LOG(r.log, core::Level::kError, 0,
              "rewrite or internal redirection cycle while internally redirecting to \"%.*s\"",
              static_cast<int>(uri.size()), uri.data());
    finalize(r, 500);
    return kDone;
  }
  setUriArgs(r, uri, args);
  // a new location: drop module contexts (nginx clears r->ctx)
  std::memset(r.ctx, 0, sizeof(void*) * conf::allModules().size());
  r.internal = true;
  r.phaseHandler = gActive->serverRewriteIdx;
  r.locConf = r.srvConf;
  runPhases(r);
  return kDone;
}

int namedLocation(Request& r, std::string_view name) noexcept {
  const HttpCoreLoc* root = r.cscf()->rootLoc;
  for (const HttpCoreLoc* l : root->namedLocs) {
    if (l->name == name) {
      if (--r.uriChanges == 0) {
        finalize(r, 500);
        return kDone;
      }
      std::memset(r.ctx, 0, sizeof(void*) * conf::allModules().size());
      r.locConf = l->level;
      r.internal = true;
      r.phaseHandler = gActive->rewriteIdx;
      runPhases(r);
      return kDone;
    }
  }
  LUNET_LOG(r.log, core::Level::kError, 0, "could not find named location \"%.*s\"",
            static_cast<int>(name.size()), name.data());
  finalize(r, 500);
  return kDone;
}

int subrequest(Request& r, std::string_view uri, std::string_view args,
               const SubrequestOptions& opts, Request** out) noexcept {
  if (r.subrequestsLeft <= 0) {
    LUNET_LOG(r.log, core::Level::kError, 0, "subrequests cycle while processing \"%.*s\"",
              static_cast<int>(uri.size()), uri.data());
    return kError;
  }
  Request* sr = createRequest(r.conn);
  // The subrequest lives in the main request's arena's lifetime.
  r.main->arena.addCleanup(destroyRequest, sr);
  sr->main = r.main;
  sr->parent = &r;
  sr->subrequestsLeft = r.subrequestsLeft - 1;
  sr->headersIn = r.main->headersIn;
  sr->requestLine = r.main->requestLine;
  sr->httpVersion = r.main->httpVersion;
  sr->unparsedUri = r.main->unparsedUri;
  sr->srvConf = r.srvConf;
  sr->serverName = r.serverName;
  sr->method = opts.method;
  sr->methodName = opts.methodName;
  sr->internal = true;
  sr->inMemory = opts.inMemory;
  sr->subrequestDone = opts.done;
  sr->subrequestData = opts.data;
  sr->body = r.main->body;
  sr->log.handlerData = sr;
  setUriArgs(*sr, uri, args);
  auto* p = r.arena.make<Request::Postponed>();
  p->sr = sr;
  p->data = nullptr;
  p->next = nullptr;
  *r.postponedTail = p;
  r.postponedTail = &p->next;
  r.pendingSubrequests++;
  r.main->count++;
  if (out) *out = sr;
  sr->phaseHandler = gActive->serverRewriteIdx;
  runPhases(*sr);
  return kOk;
}

// ---- request body ---------------------------------------------------------------------------

// "Expect: 100-continue" on HTTP/1.1 is answered when the body is first read
// or discarded, as nginx does: even when the body has arrived already, even
// for a request without one. Error pages do not (specialResponse marks it
// tested).
void testExpect(Request& m) noexcept {
  if (m.expectSent || m.headersIn.expect == nullptr || m.httpVersion < 1001) return;
  m.expectSent = true;
  if (!ieq(m.headersIn.expect->value, "100-continue")) return;
  static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
  Buf* b = newBuf(m, {kContinue, sizeof(kContinue) - 1});
  b->flush = true;
  writeFilter(m, b);
}

int readBody(Request& r, void (*post)(Request& r)) noexcept {
  Request& m = *r.main;
  Connection* c = m.conn;
  if (m.body == nullptr) m.body = m.arena.make<RequestBody>();
  if (&r != &m) r.body = m.body;
  m.body->post = post;
  testExpect(m);
  if (int st = processPreread(c); st != 0) return st;
  if (c->messageDone || (m.headersIn.contentLengthN <= 0 && !m.headersIn.chunked)) {
    m.body->done = true;
    post(r);
    return kOk;
  }
  if (m.bodyReading) return kAgain;
  int64_t max = m.clcf()->clientMaxBodySize;
  if (max > 0 && m.body->received > max) return 413;
  m.bodyReading = true;
  startBodyRead(c);
  return kAgain;
}

int discardRequestBody(Request& r) noexcept {
  Request& m = *r.main;
  if (&r != &m) return kOk;
  testExpect(m);
  if (m.body != nullptr) return kOk;  // read, or being read
  bool was = m.discardBody;
  m.discardBody = true;  // parsed, not kept
  int st = processPreread(m.conn);
  m.discardBody = was;
  return st == 413 ? kOk : st;
}

int discardBody(Request& r) noexcept {
  testExpect(*r.main);
  return kOk;  // finalize/requestDone discards an unread body
}

}  // namespace lunet::http
