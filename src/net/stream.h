// A byte stream: what every connection's transport looks like to its user
// (the HTTP server connection today; cosockets, upstream connections and a
// TLS stream next). See docs/design/net.md.
//
// The user implements StreamUser and owns the memory of the stream (a
// stream is usually a member of the user's connection object). Reads go
// into a buffer the user hands out per read; writes are of uv_buf_t arrays
// whose memory stays the caller's until the write's callback. Errors are
// negative libuv codes (UV_EAGAIN, UV_EPIPE, ...); a call that returned an
// error never calls its callback. After close() the stream reports nothing
// but the pending writes' cancellation (UV_ECANCELED) and then onClosed();
// only from onClosed on may its memory go.
#pragma once

#include <sys/types.h>
#include <uv.h>

namespace lunet::net {

class Stream;

class StreamUser {
 public:
  // The buffer the next read goes into; asked before every read while
  // reading is on. A zero-length buffer reads nothing (UV_ENOBUFS).
  virtual uv_buf_t readBuffer(Stream& s) noexcept = 0;
  // nread > 0: that many bytes are in the buffer readBuffer gave; 0: none
  // for now (the buffer may be taken back); < 0: UV_EOF or an error, and
  // reading is over (it is stopped).
  virtual void onRead(Stream& s, ssize_t nread) noexcept = 0;
  // After close(): nothing refers to the stream any more.
  virtual void onClosed(Stream& s) noexcept = 0;

 protected:
  ~StreamUser() = default;
};

// A write or shutdown completed: status 0, a negative error, or
// UV_ECANCELED when the stream was closed first.
using StreamDone = void (*)(void* data, int status);

class Stream {
 public:
  virtual ~Stream() = default;

  void setUser(StreamUser* user) noexcept { user_ = user; }
  StreamUser* user() const noexcept { return user_; }

  // Starts / stops reading (idempotent). Returns 0 or an error.
  virtual int readStart() noexcept = 0;
  virtual void readStop() noexcept = 0;

  // Writes what the kernel takes now, nothing queued: returns the bytes
  // written (possibly fewer than asked), UV_EAGAIN, or an error.
  virtual int tryWrite(const uv_buf_t* bufs, unsigned n) noexcept = 0;
  // Queues all of bufs; done(data, status) runs once they are written (never
  // from inside this call). Writes go out in the order they were queued.
  virtual int write(const uv_buf_t* bufs, unsigned n, StreamDone done, void* data) noexcept = 0;
  // Number of write() calls whose callback has not run yet.
  virtual size_t queuedWrites() const noexcept = 0;
  // Half-closes the sending side once queued writes are out.
  virtual int shutdown(StreamDone done, void* data) noexcept = 0;
  // Closes; onClosed() follows from the loop. Idempotent.
  virtual void close() noexcept = 0;
  virtual bool closing() const noexcept = 0;

  // The socket, for sendfile(2) and readiness watching: -1 for a stream
  // that offers none (TLS: bytes must pass through it).
  virtual int fd() const noexcept = 0;
  virtual uv_loop_t* loop() const noexcept = 0;

 protected:
  StreamUser* user_ = nullptr;
};

}  // namespace lunet::net
