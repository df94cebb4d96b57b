// A request's life: creation and destruction, the log context,
// finalisation, and the output entry points (sendHeader, output, ...).
#include <cstring>

#include "core/time.h"
#include "http/connection.h"
#include "http/core_module.h"
#include "http/filter.h"
#include "http/phases.h"
#include "http/request_internal.h"

namespace lunet::http {

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
  if (!r->upstreamLog.empty()) {
    out += ", upstream: \"";
    out.append(r->upstreamLog.data(), r->upstreamLog.size());
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

}  // namespace

void destroyRequest(void* p) noexcept {
  auto* r = static_cast<Request*>(p);
  r->~Request();
  requestPool().put(r);
}

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
  r.log.action = "logging request";
  for (PhaseHandler h : coreMain()->phases[static_cast<int>(Phase::kLog)]) h(r);
  r.log.action = nullptr;
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

// ---- finalisation -------------------------------------------------------------------

namespace {

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
  int rc = activeTables().topHeader(r);
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
  return activeTables().topBody(r, in);
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
  if (c->writer.pending() == 0 && r.out == nullptr && r.buffered == 0) {
    fn(r, data);
    return;
  }
  r.drained = fn;
  r.drainedData = data;
}

Buf* newBuf(Request& r, std::string_view data) noexcept {
  Buf* b = r.arena.make<Buf>();
  b->data = data;
  return b;
}

Buf* newBufCopy(Request& r, std::string_view data) noexcept { return newBuf(r, r.arena.dup(data)); }

}  // namespace lunet::http
