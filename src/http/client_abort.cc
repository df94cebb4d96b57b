// Client-abort detection while a request is processed (what nginx's
// lua_check_client_abort read handler does), and aborting a request with a
// status that only the log sees (499).
//
// The connection's own read side may be off during the request (it is
// re-armed for the next request), so the watch is a uv_poll_t for
// UV_DISCONNECT (EPOLLRDHUP) on a dup() of the socket — libuv allows one
// watcher per fd. It fires on a FIN or an RST, never for pending bytes
// (pipelined requests), and is stopped after the first report.
#include <unistd.h>
#include <uv.h>

#include "core/time.h"
#include "http/connection.h"
#include "http/request.h"

namespace lunet::http {

namespace {

struct AbortWatch {
  uv_poll_t poll;
  int fd = -1;
  Request* r = nullptr;  // null once the request is gone
  void (*fn)(Request& r, void* data) = nullptr;
  void* data = nullptr;
  bool active = false;
};

void onPollClosed(uv_handle_t* h) {
  auto* w = static_cast<AbortWatch*>(h->data);
  if (w->fd >= 0) ::close(w->fd);
  delete w;
}

void stopWatch(AbortWatch* w) {
  if (!w->active) return;
  w->active = false;
  uv_poll_stop(&w->poll);
}

// Request cleanup: the watch dies with the request.
void cleanup(void* p) {
  auto* w = static_cast<AbortWatch*>(p);
  stopWatch(w);
  w->r = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), onPollClosed);
}

void onPoll(uv_poll_t* h, int status, int events) {
  auto* w = static_cast<AbortWatch*>(h->data);
  if (status >= 0 && !(events & UV_DISCONNECT)) return;
  stopWatch(w);
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
  if (c == nullptr || c->tcp == nullptr) return kError;
  uv_os_fd_t sock;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(c->tcp), &sock) != 0) return kError;
  int fd = ::dup(sock);
  if (fd < 0) return kError;
  auto* w = new AbortWatch;
  w->fd = fd;
  w->r = &m;
  w->fn = fn;
  w->data = data;
  if (uv_poll_init(uv_handle_get_loop(reinterpret_cast<uv_handle_t*>(c->tcp)), &w->poll, fd) != 0) {
    ::close(fd);
    delete w;
    return kError;
  }
  w->poll.data = w;
  if (uv_poll_start(&w->poll, UV_DISCONNECT, onPoll) != 0) {
    w->fd = fd;
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), onPollClosed);
    return kError;
  }
  w->active = true;
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
