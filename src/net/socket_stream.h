// The Stream of a TCP or unix-domain socket, over libuv (uv_tcp_t /
// uv_pipe_t). It lives inside its user's object (no allocation of its own
// but a pooled request per queued write).
#pragma once

#include <sys/socket.h>

#include "net/stream.h"

namespace lunet::net {

class SocketStream final : public Stream {
 public:
  SocketStream() noexcept = default;
  SocketStream(const SocketStream&) = delete;
  SocketStream& operator=(const SocketStream&) = delete;
  // The owner closes the stream and waits for onClosed before this runs.
  ~SocketStream() override = default;

  // One of these first (0 or an error; on error there is nothing to close).
  int initTcp(uv_loop_t* loop) noexcept;
  int initPipe(uv_loop_t* loop) noexcept;

  // Takes the next connection of a listening uv stream.
  int accept(uv_stream_t* server) noexcept;
  // Adopts an open socket (e.g. one made with socket(2) and connected by
  // hand). The stream closes it.
  int open(uv_os_sock_t fd) noexcept;
  // Connects (TCP to addr; unix to path); done(data, status) follows.
  int connect(const sockaddr* addr, StreamDone done, void* data) noexcept;
  int connectPipe(const char* path, StreamDone done, void* data) noexcept;

  int setNoDelay(bool on) noexcept;
  int peerName(sockaddr* addr, int* len) const noexcept;
  int sockName(sockaddr* addr, int* len) const noexcept;
  bool isPipe() const noexcept { return kind_ == Kind::kPipe; }
  // The libuv stream, for what the interface does not cover (a listener's
  // accept target). Prefer the Stream calls.
  uv_stream_t* uvStream() noexcept { return &h_.stream; }

  int readStart() noexcept override;
  void readStop() noexcept override;
  int tryWrite(const uv_buf_t* bufs, unsigned n) noexcept override;
  int write(const uv_buf_t* bufs, unsigned n, StreamDone done, void* data) noexcept override;
  size_t queuedWrites() const noexcept override { return queued_; }
  int shutdown(StreamDone done, void* data) noexcept override;
  void close() noexcept override;
  bool closing() const noexcept override { return closing_; }
  int fd() const noexcept override;
  uv_loop_t* loop() const noexcept override { return h_.handle.loop; }

  struct Op;  // a queued libuv request (socket_stream.cc)

 private:
  enum class Kind : unsigned char { kNone, kTcp, kPipe };

  static void onAlloc(uv_handle_t* h, size_t, uv_buf_t* buf);
  static void onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t*);
  static void onWrite(uv_write_t* w, int status);
  static void onShutdown(uv_shutdown_t* r, int status);
  static void onConnect(uv_connect_t* r, int status);
  static void onClose(uv_handle_t* h);

  union Handle {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    Handle() {}
  } h_;
  size_t queued_ = 0;
  Kind kind_ = Kind::kNone;
  bool reading_ = false;
  bool closing_ = false;
};

}  // namespace lunet::net
