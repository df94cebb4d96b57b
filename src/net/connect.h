// Client connections: what a cosocket or an upstream peer connects, uses
// and gives back to the keepalive pool (net/pool.h). See docs/design/net.md.
//
// A ClientConnection is a heap object owning a SocketStream. It is the
// stream's StreamUser and forwards reads to its current user (a cosocket, or
// the pool while it is idle); close() frees it once libuv is done with the
// handle, so a user only ever drops its pointer after close() or a hand-over
// to the pool.
//
// connect() resolves (net/resolver.h) and connects; it has no timer of its
// own: the caller races it against its timeout and cancel()s (the cosocket
// does so through Scheduler::suspendFor).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "net/resolver.h"
#include "net/socket_stream.h"

namespace lunet::net {

class ClientConnection final : public StreamUser {
 public:
  class User {
   public:
    virtual uv_buf_t readBuffer() noexcept = 0;
    virtual void onRead(ssize_t nread) noexcept = 0;

   protected:
    ~User() = default;
  };

  ClientConnection() noexcept { stream_.setUser(this); }
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  SocketStream& stream() noexcept { return stream_; }
  // SocketStream::initTcp / initPipe on the loop, remembered for close().
  int initTcp() noexcept;
  int initPipe() noexcept;
  void setUser(User* u) noexcept { user_ = u; }
  User* user() const noexcept { return user_; }
  // Closes the stream and frees this object from the close callback.
  void close() noexcept;

  // Pool bookkeeping (net/pool.h).
  std::string poolKey;       // where it goes back to
  uint32_t reusedTimes = 0;  // how often it came out of the pool
  uint64_t createdMsec = 0;  // loop time it connected (upstream keepalive_time)
  bool counted = false;      // counts against its pool's size (backlog)
  std::string peerText;      // "127.0.0.1:6379", "unix:/path"

  // StreamUser
  uv_buf_t readBuffer(Stream&) noexcept override;
  void onRead(Stream&, ssize_t nread) noexcept override;
  void onClosed(Stream&) noexcept override;

 private:
  ~ClientConnection() = default;
  SocketStream stream_;
  User* user_ = nullptr;
  bool opened_ = false;
  bool closed_ = false;
};

// Where to connect: a host (name or numeric address) and port, or a unix
// socket path.
struct Target {
  std::string host;  // empty for unix
  uint16_t port = 0;
  std::string path;  // unix socket path
  bool isUnix() const noexcept { return !path.empty(); }
};

// A connect in flight. done(data, conn, err) runs once from the loop:
// conn set on success (err empty); else conn null and err is the message
// ("connection refused", "HOST could not be resolved (3: Host not found)").
// A failure known at once is returned by start() instead (null, *err set)
// and done never runs.
class Connect {
 public:
  // sysErr: the libuv error of a failed connect (0 for other failures),
  // for the "connect() failed (111: Connection refused)" log line.
  using Done = void (*)(void* data, ClientConnection* conn, const std::string& err,
                        int sysErr) noexcept;
  static Connect* start(const Target& t, Done done, void* data, std::string* err,
                        int* sysErr) noexcept;
  // done will not run; a half-made connection is closed.
  void cancel() noexcept;

 private:
  Connect() = default;
  static void onResolved(void* data, int code, const SockAddr* addr) noexcept;
  static void onConnected(void* data, int status);
  int connectTo(const SockAddr& a) noexcept;
  void fail(const std::string& err) noexcept;

  Target target_;
  Done done_ = nullptr;
  void* data_ = nullptr;
  Resolver::Lookup* lookup_ = nullptr;
  ClientConnection* conn_ = nullptr;
  int sysErrno_ = 0;
};

// "connection refused", "connection reset by peer", ...: nginx's
// lowercased strerror, as cosockets report errors.
std::string errorText(int uvErr);

}  // namespace lunet::net
