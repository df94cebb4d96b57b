// Client-abort detection while a request is processed (what nginx's
// lua_check_client_abort read handler does), and aborting a request with a
// status that only the log sees (499).
//
// The connection's own read side may be off during the request (it is
// re-armed for the next request), so the watch is a net::ReadinessWatch
// for UV_DISCONNECT (EPOLLRDHUP), on a dup() of the socket. It fires on a FIN or an RST, never for
// pending bytes (pipelined requests), and is stopped after the first report.
#include "core/time.h"
#include "http/connection.h"
#include "http/request.h"
#include "net/readiness.h"

namespace lunet::http {

namespace {

struct AbortWatch {
  net::ReadinessWatch* watch = nullptr;
  Request* r = nullptr;  // null once the request is gone
  void (*fn)(Request& r, void* data) = nullptr;
  void* data = nullptr;
};

// Request cleanup: the watch dies with the request.
void cleanup(void* p) {
  auto* w = static_cast<AbortWatch*>(p);
  w->watch->close();
  delete w;
}

void onPoll(void* data, int status, int events) {
  auto* w = static_cast<AbortWatch*>(data);
  if (status >= 0 && !(events & UV_DISCONNECT)) return;
  w->watch->stop();
  Request* r = w->r;
  if (r == nullptr) return;
  core::updateTime();
  LUNET_LOG(r->log, core::Level::kInfo, 0, "client prematurely closed connection");
  w->fn(*r, w->data);
}

}  // namespace

int watchClientAbort(Request& r, void (*fn)(Request& r, void* data), void* data) noexcept {
  Request& m = *r.main;
  Connection* c = m.conn;
  if (c == nullptr) return kError;
  net::ReadinessWatch* watch = net::ReadinessWatch::create(c->stream.loop(), c->stream.fd());
  if (watch == nullptr) return kError;
  auto* w = new AbortWatch;
  w->watch = watch;
  w->r = &m;
  w->fn = fn;
  w->data = data;
  if (watch->start(UV_DISCONNECT, onPoll, w) != 0) {
    watch->close();
    delete w;
    return kError;
  }
  addCleanup(m, cleanup, w);
  return kOk;
}

void abortRequest(Request& r, int status) noexcept {
  Request& m = *r.main;
  Connection* c = m.conn;
  m.status = status;
  m.headersOut.status = status;
  m.keepAlive = false;
  c->error = true;
  c->closeAfter = true;
  closeConnection(c);
}

}  // namespace lunet::http
