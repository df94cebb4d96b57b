// Request bodies on the connection: bytes that came with the head, reading
// the rest into request-arena buffers, the body timeout, discarding.
#include "core/time.h"
#include "http/connection.h"
#include "http/request_internal.h"

namespace lunet::http {

namespace {

void onBodyTimeout(void* conn) {
  auto* c = static_cast<Connection*>(conn);
  core::updateTime();
  Request* r = c->req;
  if (r == nullptr) return closeConnection(c);
  LUNET_LOG(r->log, core::Level::kInfo, ETIMEDOUT, "client timed out");
  stopReading(c);
  r->keepAlive = false;
  c->closeAfter = true;
  r->bodyReading = false;
  finalize(*r, 408);
}

}  // namespace

void processBody(Connection* c, const char* data, size_t len) {
  Request* r = c->req;
  llhttp_errno_t e = feed(c, data, len);
  if (c->parseError != 0 || (e != HPE_OK && e != HPE_PAUSED)) {
    int status = c->parseError ? c->parseError : 400;
    stopReading(c);
    stopTimer(c);
    c->closeAfter = true;
    r->keepAlive = false;
    if (r->discardBody) {
      closeConnection(c);
      return;
    }
    if (c->parseError == 0)
      LUNET_LOG(r->log, core::Level::kError, 0, "client sent invalid chunked body");
    r->bodyReading = false;
    finalize(*r, status);
    return;
  }
  if (c->messageDone) {
    stopReading(c);
    stopTimer(c);
    if (r->discardBody) {
      r->discardBody = false;
      requestDone(c);
      return;
    }
    if (r->bodyReading) {
      r->bodyReading = false;
      if (r->body && r->body->post) r->body->post(*r);
    }
    return;
  }
  if (r->bodyReading) {
    armTimer(c, static_cast<uint64_t>(r->clcf()->clientBodyTimeout), onBodyTimeout);
  }
}

// A response to a request that could not be parsed: status page, close.

int processPreread(Connection* c) noexcept {
  if (c->prereadLen == 0 || c->messageDone) return 0;
  size_t n = c->prereadLen;
  c->prereadLen = 0;
  llhttp_errno_t e = feed(c, c->hbuf + c->prereadOff, n);
  if (c->parseError != 0) return c->parseError;
  if (e != HPE_OK && e != HPE_PAUSED) {
    if (c->req != nullptr) {
      LUNET_LOG(c->req->log, core::Level::kError, 0, "client sent invalid chunked body");
    }
    return 400;
  }
  return 0;
}

void startBodyRead(Connection* c) noexcept {
  Request* r = c->req;
  if (int st = processPreread(c); st != 0) {
    stopReading(c);
    c->closeAfter = true;
    r->keepAlive = false;
    r->bodyReading = false;
    if (r->discardBody) {
      closeConnection(c);
      return;
    }
    finalize(*r, st);
    return;
  }
  if (c->messageDone) {
    r->bodyReading = false;
    if (r->body) r->body->done = true;
    if (!r->discardBody && r->body && r->body->post) r->body->post(*r);
    if (r->discardBody) {
      r->discardBody = false;
      requestDone(c);
    }
    return;
  }
  if (c->eof) {
    r->bodyReading = false;
    finalize(*r, 400);
    return;
  }
  startReading(c);
  int64_t t = r->discardBody ? 5000 : r->clcf()->clientBodyTimeout;
  armTimer(c, static_cast<uint64_t>(t), r->discardBody ? onLingerTimeout : onBodyTimeout);
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
  if (&r != r.main && r.body != nullptr && r.body->done) {
    // a subrequest's own body, or the main request's already read
    post(r);
    return kOk;
  }
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

void setRequestBody(Request& r, std::string_view data) noexcept {
  auto* body = r.arena.make<RequestBody>();
  if (!data.empty()) {
    Buf* b = newBuf(r, data);
    body->bufs = b;
    body->tail = &b->next;
  }
  body->received = static_cast<int64_t>(data.size());
  body->rest = 0;
  body->done = true;
  r.body = body;
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
