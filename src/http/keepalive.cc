// After a response: the next request (keep-alive, pipelined bytes kept),
// or closing, gracefully with lingering close when the client may still
// send.
#include <cstring>

#include "core/time.h"
#include "http/connection.h"
#include "process/process.h"

namespace lunet::http {

namespace {

void onShutdown(void* data, int) {
  auto* c = static_cast<Connection*>(data);
  if (c->state == ConnState::kClosing) return;
  // Read and drop whatever the client still sends until EOF or timeout.
  c->eof = false;
  startReading(c);
  if (!c->reading) closeConnection(c);
}

}  // namespace

void requestDone(Connection* c) noexcept {
  Request* r = c->req;
  if (r == nullptr) return;
  if (c->writer.pending() > 0 || r->out != nullptr) return;  // onWriteDrained comes back
  if (r->buffered != 0 && !c->error) return;  // a filter goes on when the queue drains
  if (!c->messageDone && !c->closeAfter && r->keepAlive && !c->error) {
    // Unread body: read it and throw it away before the next request.
    if (!r->discardBody) {
      r->discardBody = true;
      startBodyRead(c);
    }
    return;
  }
  // r->keepAlive is what the response header told the client: once the
  // worker is exiting, new headers say Connection: close (header filter),
  // and a connection whose header promised keep-alive before that gets the
  // exit grace below rather than a close the client cannot expect.
  bool keep = r->keepAlive && !c->closeAfter && !c->error && c->messageDone;
  // Save pipelined bytes before the request (and its body buffers) go away.
  const char* rest = c->rest;
  size_t restLen = keep ? c->restLen : 0;
  const HttpCoreLoc* clcf = r->locConf ? r->clcf() : nullptr;
  int64_t ka = clcf ? clcf->keepaliveTimeout : 75000;
  int64_t lingerClose = clcf ? clcf->lingeringClose : 1;
  int64_t lingerTimeout = clcf ? clcf->lingeringTimeout : 5000;
  int64_t lingerTime = clcf ? clcf->lingeringTime : 30000;
  bool linger =
      !keep && (c->linger || (!c->messageDone && lingerClose != 0)) && !c->error && !c->eof;
  if (lingerClose == 2 && !keep && !c->error && !c->eof) linger = true;
  // Pipelined bytes are usually at the end of hbuf: they move to its front
  // once the request (whose header slices point into hbuf) is freed. After
  // a body they may sit in the request's body buffers: copied out first.
  bool restInHbuf =
      restLen > 0 && c->hbuf != nullptr && rest >= c->hbuf && rest + restLen <= c->hbuf + c->hlen;
  char* saved = nullptr;
  size_t savedCap = 0;
  if (restLen > 0 && !restInHbuf) {
    savedCap = static_cast<size_t>(c->defaultSrv->clientHeaderBufferSize);
    if (savedCap < restLen) savedCap = restLen;
    saved = allocHbuf(savedCap);
    std::memcpy(saved, rest, restLen);
  }
  c->req = nullptr;
  freeRequest(r);
  if (saved != nullptr) {
    freeHbuf(c->hbuf, c->hcap);
    c->hbuf = saved;
    c->hcap = savedCap;
  } else if (restInHbuf && rest != c->hbuf) {
    std::memmove(c->hbuf, rest, restLen);
  }
  c->rest = nullptr;
  c->restLen = 0;
  if (!keep) {
    if (linger) {
      setState(c, ConnState::kLinger);
      if (c->stream.shutdown(onShutdown, c) != 0) {
        closeConnection(c);
        return;
      }
      c->lingerTimeout = lingerTimeout;
      c->lingerDeadline = core::nowMsec() + static_cast<uint64_t>(lingerTime);
      armTimer(c, static_cast<uint64_t>(lingerTime < lingerTimeout ? lingerTime : lingerTimeout),
               onLingerTimeout);
      return;
    }
    closeConnection(c);
    return;
  }
  // Next request.
  resetHead(c);
  c->reqStart = 0;
  c->hparsed = 0;
  c->linger = false;
  if (c->parser != nullptr) {  // kept for pipelined bytes; idle gives it back
    initParser(c);
  }
  if (!c->nodelay && clcf != nullptr && clcf->tcpNodelay != 0) {
    c->nodelay = true;
    c->stream.setNoDelay(true);
  }
  if (restLen > 0) {
    c->hlen = restLen;
    setState(c, ConnState::kHeader);
    armTimer(c, static_cast<uint64_t>(c->defaultSrv->clientHeaderTimeout), onHeaderTimeout);
    processHeader(c);
    if (c->state == ConnState::kHeader) {
      if (c->eof) {
        closeConnection(c);  // half-closed mid-header
        return;
      }
      startReading(c);  // no-op unless stopped (body, full buffer)
    }
    return;
  }
  releaseHbuf(c);  // idle connections keep no buffer
  setState(c, ConnState::kIdle);
  if (c->eof) {  // the half-close came while the request ran
    LUNET_LOG(c->log, core::Level::kInfo, 0, "client %s closed keepalive connection", c->peerText);
  }
  if (ka <= 0 || c->eof) {
    closeConnection(c);
    return;
  }
  if ((c->shuttingDown || process::exiting()) && ka > kExitIdleGraceMsec) ka = kExitIdleGraceMsec;
  armTimer(c, static_cast<uint64_t>(ka), onKeepaliveTimeout);
  startReading(c);
}

}  // namespace lunet::http
