// Readiness watching on a socket that a stream already reads and writes:
// writability (a sendfile step that met EAGAIN) and the peer's FIN or RST
// (client-abort detection). libuv allows one watcher per fd and the
// stream's is taken, so the watch polls a dup() of the socket.
#pragma once

#include <uv.h>

namespace lunet::net {

class ReadinessWatch {
 public:
  // events: UV_WRITABLE, UV_READABLE, UV_DISCONNECT (bits) as they fired;
  // status < 0: an error on the socket.
  using Callback = void (*)(void* data, int status, int events);

  // Watches a dup() of fd on loop; nullptr on failure (no fd, EMFILE...).
  static ReadinessWatch* create(uv_loop_t* loop, int fd) noexcept;

  // (Re)starts the watch for `events`; 0 or an error.
  int start(int events, Callback cb, void* data) noexcept;
  void stop() noexcept;
  bool active() const noexcept { return active_; }
  // Stops and frees the watch (from the loop, once libuv lets go of it);
  // the callback never runs again.
  void close() noexcept;

 private:
  ReadinessWatch() = default;
  ~ReadinessWatch() = default;
  static void onPoll(uv_poll_t* p, int status, int events);
  static void onClosed(uv_handle_t* h);

  uv_poll_t poll_;
  int fd_ = -1;
  Callback cb_ = nullptr;
  void* data_ = nullptr;
  bool active_ = false;
};

}  // namespace lunet::net
