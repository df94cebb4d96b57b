// Subrequests and internal redirects: subrequest output kept in order
// (nginx's postpone filter), a finished subrequest resuming its parent,
// internalRedirect and named locations.
#include "conf/cycle.h"
#include "http/connection.h"
#include "http/core_module.h"
#include "http/filter.h"
#include "http/phases.h"
#include "http/request_internal.h"
#include "http/uri.h"

namespace lunet::http {

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
  if (r.main == &r) return activeTables().topMain(r, in);
  // subrequest: collect (copy the structs; data stays in r's arena, which
  // lives until the main request ends)
  for (Buf* b = in; b; b = b->next) {
    if (b->last || b->lastInChain) r.lastSeen = true;
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

namespace {

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

}  // namespace

void subrequestFinished(Request& sr, int rc) {
  if (sr.done) return;
  // As nginx: a subrequest is not done while its own subrequests are
  // pending (their output comes before the rest of its own).
  if (rc == kOk && sr.pendingSubrequests > 0) {
    sr.waitingChildren = true;
    return;
  }
  // A subrequest captured in memory is seen as nginx's post_subrequest
  // handlers see it: finalized with a status, its error page not made.
  if ((rc >= 300 || rc == kError) && !sr.inMemory) {
    if (!sr.headerSent && rc != kError) {
      // subrequest error pages: nginx sends the error page body as output
      int st = rc;
      sr.headersOut.status = st;
      specialResponse(sr, st);
    }
  }
  if (sr.headersOut.status == 0) sr.headersOut.status = rc >= 100 ? rc : rc == kError ? 500 : 200;
  // finalized as complete (a handler that did not send a last buf itself)
  if (rc == kOk) sr.lastSeen = true;
  sr.done = true;
  Request* parent = sr.parent;
  Request* main = sr.main;
  parent->pendingSubrequests--;
  main->count--;
  int src = rc;
  if (sr.subrequestDone) src = sr.subrequestDone(sr, sr.subrequestData, rc);
  (void)src;
  flushPostponed(*parent);
  if (parent->pendingSubrequests == 0) {
    if (parent->main == parent) {
      if (parent->done) {
        parent->done = false;
        finalize(*parent, kOk);
      }
    } else if (parent->waitingChildren) {
      parent->waitingChildren = false;
      subrequestFinished(*parent, kOk);
    }
  }
}

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
  r.validUnparsedUri = false;
  r.phaseHandler = activeTables().serverRewriteIdx;
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
      r.phaseHandler = activeTables().rewriteIdx;
      runPhases(r);
      return kDone;
    }
  }
  LUNET_LOG(r.log, core::Level::kError, 0, "could not find named location \"%.*s\"",
            static_cast<int>(name.size()), name.data());
  finalize(r, 500);
  return kDone;
}

Request* createSubrequest(Request& r, std::string_view uri, std::string_view args,
                          const SubrequestOptions& opts) noexcept {
  if (r.subrequestsLeft == 0) {
    if (opts.logCycle) {
      LUNET_LOG(r.log, core::Level::kError, 0, "subrequests cycle while processing \"%.*s\"",
                static_cast<int>(uri.size()), uri.data());
    }
    return nullptr;
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
  sr->headerOnly = opts.method == kHead;
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
  return sr;
}

void startSubrequest(Request& sr) noexcept {
  sr.phaseHandler = activeTables().serverRewriteIdx;
  runPhases(sr);
}

int subrequest(Request& r, std::string_view uri, std::string_view args,
               const SubrequestOptions& opts, Request** out) noexcept {
  Request* sr = createSubrequest(r, uri, args, opts);
  if (sr == nullptr) return kError;
  if (out) *out = sr;
  startSubrequest(*sr);
  return kOk;
}

}  // namespace lunet::http
