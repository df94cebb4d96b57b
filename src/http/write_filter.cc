// The bottom of the body filter chain: the request's output chain goes to
// the connection's net::ChainWriter; the send timeout; draining.
#include "core/time.h"
#include "http/connection.h"
#include "http/request_internal.h"

namespace lunet::http {

namespace {

void onSendTimeout(void* conn) {
  auto* c = static_cast<Connection*>(conn);
  core::updateTime();
  LUNET_LOG(c->req ? c->req->log : c->log, core::Level::kInfo, ETIMEDOUT, "client timed out");
  c->error = true;
  closeConnection(c);
}

}  // namespace

namespace {

bool useSendfile(Request& r) noexcept {
  return !r.filterNeedInMemory && r.main->locConf != nullptr && r.main->clcf()->sendfile == 1;
}

// From a writer callback: write what is queued; when nothing is left in
// flight (possibly because it all went out synchronously), the queue has
// drained.
void continueWriting(Connection* c) noexcept {
  if (c->req != nullptr && c->req->out != nullptr) {
    startWriting(*c->req);
    if (c->state == ConnState::kClosing) return;
  }
  if (c->writer.pending() == 0 && (c->req == nullptr || c->req->out == nullptr)) {
    onWriteDrained(c);
  }
}

}  // namespace

void Connection::onWriterProgress() noexcept {
  if (state == ConnState::kClosing) return;
  continueWriting(this);
}

void Connection::onWriterWaiting() noexcept {
  armTimer(this, static_cast<uint64_t>(sendTimeout), onSendTimeout);
}

void Connection::onWriterError(bool closeNow) noexcept {
  error = true;
  if (closeNow && state != ConnState::kClosing) closeConnection(this);
}

core::Log& Connection::writerLog() noexcept {
  if (writingLog != nullptr) return *writingLog;
  return req != nullptr ? req->log : log;
}

void startWriting(Request& r) noexcept {
  Connection* c = r.conn;
  if (c->state == ConnState::kClosing || c->error) {
    r.out = nullptr;
    r.outTail = &r.out;
    r.outBytes = 0;
    return;
  }
  c->sendTimeout = r.clcf()->sendTimeout;
  c->writingLog = &r.log;
  auto res = c->writer.write({&r.out, &r.outTail, &r.bodyBytesSent}, useSendfile(r));
  c->writingLog = nullptr;
  if (res == net::ChainWriter::Result::kWritten) r.outBytes = 0;
}

int writeFilter(Request& r, Buf* in) noexcept {
  bool flush = false;
  for (Buf* b = in; b != nullptr;) {
    Buf* next = b->next;
    b->next = nullptr;
    if (b->flush || b->last) flush = true;
    if (b->last) r.lastQueued = true;
    if (b->size() > 0) {
      *r.outTail = b;
      r.outTail = &b->next;
      r.outBytes += b->size();
    }
    b = next;
  }
  if (flush || r.outBytes >= 8192) {
    if (r.conn->writer.pending() == 0 || r.out != nullptr) startWriting(r);
    if (r.conn->state == ConnState::kClosing) return kError;
  }
  return r.conn->error ? kError : kOk;
}

bool outputDrained(const Request& r, uint8_t except) noexcept {
  const Request* m = r.main;
  return m->out == nullptr && m->conn->writer.pending() == 0 && (m->buffered & ~except) == 0;
}

void onWriteDrained(Connection* c) noexcept {
  Request* r = c->req;
  if (r == nullptr) return;
  stopTimer(c);
  if (r->buffered != 0 && !c->error) {
    // A filter holds data back until its output buffers are free: now.
    activeTables().topMain(*r, nullptr);
    if (c->req != r || c->state == ConnState::kClosing) return;
    if (c->writer.pending() > 0 || r->out != nullptr) return;  // comes back here
  }
  if (r->drained != nullptr) {
    auto fn = r->drained;
    r->drained = nullptr;
    fn(*r, r->drainedData);
    if (c->req != r) return;
  }
  if (r->finishing) requestDone(c);
}

}  // namespace lunet::http
