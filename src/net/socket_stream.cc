#include "net/socket_stream.h"

#include "core/arena.h"

namespace lunet::net {

// One queued write, shutdown or connect: the libuv request and the
// caller's callback. Pooled per thread (core::FreeList): a warmed-up
// connection allocates nothing per write.
struct SocketStream::Op {
  union {
    uv_write_t write;
    uv_shutdown_t shutdown;
    uv_connect_t connect;
  } req;
  SocketStream* stream;
  StreamDone done;
  void* data;
};

namespace {

core::FreeList& opPool() noexcept {
  static thread_local core::FreeList pool(sizeof(SocketStream::Op), 256);
  return pool;
}

}  // namespace

int SocketStream::initTcp(uv_loop_t* loop) noexcept {
  int rc = uv_tcp_init(loop, &h_.tcp);
  if (rc != 0) return rc;
  kind_ = Kind::kTcp;
  h_.handle.data = this;
  return 0;
}

int SocketStream::initPipe(uv_loop_t* loop) noexcept {
  int rc = uv_pipe_init(loop, &h_.pipe, 0);
  if (rc != 0) return rc;
  kind_ = Kind::kPipe;
  h_.handle.data = this;
  return 0;
}

int SocketStream::accept(uv_stream_t* server) noexcept { return uv_accept(server, &h_.stream); }

int SocketStream::open(uv_os_sock_t fd) noexcept {
  return kind_ == Kind::kPipe ? uv_pipe_open(&h_.pipe, fd) : uv_tcp_open(&h_.tcp, fd);
}

void SocketStream::onConnect(uv_connect_t* r, int status) {
  auto* op = reinterpret_cast<Op*>(r);
  StreamDone done = op->done;
  void* data = op->data;
  opPool().put(op);
  done(data, status);
}

int SocketStream::connect(const sockaddr* addr, StreamDone done, void* data) noexcept {
  if (kind_ != Kind::kTcp) return UV_EINVAL;
  auto* op = static_cast<Op*>(opPool().get());
  op->stream = this;
  op->done = done;
  op->data = data;
  int rc = uv_tcp_connect(&op->req.connect, &h_.tcp, addr, onConnect);
  if (rc != 0) opPool().put(op);
  return rc;
}

int SocketStream::connectPipe(const char* path, StreamDone done, void* data) noexcept {
  if (kind_ != Kind::kPipe) return UV_EINVAL;
  auto* op = static_cast<Op*>(opPool().get());
  op->stream = this;
  op->done = done;
  op->data = data;
  // libuv reports every failure of a pipe connect through the callback.
  uv_pipe_connect(&op->req.connect, &h_.pipe, path, onConnect);
  return 0;
}

int SocketStream::setNoDelay(bool on) noexcept {
  return kind_ == Kind::kTcp ? uv_tcp_nodelay(&h_.tcp, on ? 1 : 0) : 0;
}

int SocketStream::peerName(sockaddr* addr, int* len) const noexcept {
  if (kind_ == Kind::kTcp) return uv_tcp_getpeername(&h_.tcp, addr, len);
  return UV_ENOTSUP;
}

int SocketStream::sockName(sockaddr* addr, int* len) const noexcept {
  if (kind_ == Kind::kTcp) return uv_tcp_getsockname(&h_.tcp, addr, len);
  return UV_ENOTSUP;
}

void SocketStream::onAlloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* s = static_cast<SocketStream*>(h->data);
  *buf = s->user_->readBuffer(*s);
}

void SocketStream::onRead(uv_stream_t* st, ssize_t nread, const uv_buf_t*) {
  auto* s = static_cast<SocketStream*>(st->data);
  if (nread < 0 && s->reading_) {
    s->reading_ = false;
    uv_read_stop(st);
  }
  s->user_->onRead(*s, nread);
}

int SocketStream::readStart() noexcept {
  if (reading_) return 0;
  if (closing_) return UV_EINVAL;
  int rc = uv_read_start(&h_.stream, onAlloc, onRead);
  if (rc == 0) reading_ = true;
  return rc;
}

void SocketStream::readStop() noexcept {
  if (!reading_) return;
  reading_ = false;
  uv_read_stop(&h_.stream);
}

int SocketStream::tryWrite(const uv_buf_t* bufs, unsigned n) noexcept {
  return uv_try_write(&h_.stream, bufs, n);
}

void SocketStream::onWrite(uv_write_t* w, int status) {
  auto* op = reinterpret_cast<Op*>(w);
  SocketStream* s = op->stream;
  StreamDone done = op->done;
  void* data = op->data;
  opPool().put(op);
  s->queued_--;
  done(data, status);
}

int SocketStream::write(const uv_buf_t* bufs, unsigned n, StreamDone done, void* data) noexcept {
  if (closing_) return UV_EPIPE;
  auto* op = static_cast<Op*>(opPool().get());
  op->stream = this;
  op->done = done;
  op->data = data;
  int rc = uv_write(&op->req.write, &h_.stream, bufs, n, onWrite);
  if (rc != 0) {
    opPool().put(op);
    return rc;
  }
  queued_++;
  return 0;
}

void SocketStream::onShutdown(uv_shutdown_t* r, int status) {
  auto* op = reinterpret_cast<Op*>(r);
  StreamDone done = op->done;
  void* data = op->data;
  opPool().put(op);
  done(data, status);
}

int SocketStream::shutdown(StreamDone done, void* data) noexcept {
  if (closing_) return UV_EPIPE;
  auto* op = static_cast<Op*>(opPool().get());
  op->stream = this;
  op->done = done;
  op->data = data;
  int rc = uv_shutdown(&op->req.shutdown, &h_.stream, onShutdown);
  if (rc != 0) opPool().put(op);
  return rc;
}

void SocketStream::onClose(uv_handle_t* h) {
  auto* s = static_cast<SocketStream*>(h->data);
  s->kind_ = Kind::kNone;
  if (s->user_ != nullptr) s->user_->onClosed(*s);
}

void SocketStream::close() noexcept {
  if (closing_) return;
  closing_ = true;
  reading_ = false;
  if (kind_ == Kind::kNone) return;  // never opened: nothing for libuv to close
  uv_close(&h_.handle, onClose);
}

int SocketStream::fd() const noexcept {
  if (kind_ == Kind::kNone) return -1;
  uv_os_fd_t fd;
  if (uv_fileno(&h_.handle, &fd) != 0) return -1;
  return fd;
}

}  // namespace lunet::net
