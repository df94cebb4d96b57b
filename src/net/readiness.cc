#include "net/readiness.h"

#include <fcntl.h>
#include <unistd.h>

namespace lunet::net {

ReadinessWatch* ReadinessWatch::create(uv_loop_t* loop, int fd) noexcept {
  if (fd < 0) return nullptr;
  int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return nullptr;
  auto* w = new ReadinessWatch;
  w->fd_ = dup;
  if (uv_poll_init(loop, &w->poll_, dup) != 0) {
    ::close(dup);
    delete w;
    return nullptr;
  }
  w->poll_.data = w;
  return w;
}

void ReadinessWatch::onPoll(uv_poll_t* p, int status, int events) {
  auto* w = static_cast<ReadinessWatch*>(p->data);
  w->cb_(w->data_, status, events);
}

int ReadinessWatch::start(int events, Callback cb, void* data) noexcept {
  cb_ = cb;
  data_ = data;
  int rc = uv_poll_start(&poll_, events, onPoll);
  active_ = rc == 0;
  return rc;
}

void ReadinessWatch::stop() noexcept {
  if (!active_) return;
  active_ = false;
  uv_poll_stop(&poll_);
}

void ReadinessWatch::onClosed(uv_handle_t* h) {
  auto* w = static_cast<ReadinessWatch*>(h->data);
  ::close(w->fd_);
  delete w;
}

void ReadinessWatch::close() noexcept {
  stop();
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), onClosed);
}

}  // namespace lunet::net
