// The keepalive connection pool of a process, keyed by "host:port[:name]"
// (or "unix:path[:name]", or a user's pool name), shared by cosockets and
// upstream connections. See docs/design/net.md.
//
// Each key has a pool with a size fixed when it is created (lua-nginx-
// module's rule): idle connections beyond it push out the least recently
// used one. An idle connection is read-watched: data or a close from the
// peer drops it at once, so take() never hands out a connection the peer
// has closed; one idle longer than its timeout is closed.
//
// The pool also counts the connections made for a key (idle + busy). With a
// backlog, admit() refuses to open more than `size` of them: further
// connects wait in a queue of at most `backlog` (then kFull: "too many
// waiting connect operations") and are woken, from the loop, when a
// connection of the key closes (a fresh slot) or is put back (that very
// connection).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "event/loop.h"
#include "net/connect.h"

namespace lunet::net {

class KeepalivePool {
 public:
  struct Pool;

  // A connect waiting for a slot. wake() runs from the loop with `conn` set
  // (an idle connection handed over) or null (a slot is reserved for it:
  // connect, then counted() / failed()).
  struct Waiter {
    void (*wake)(Waiter* self, ClientConnection* conn) noexcept = nullptr;
    void* data = nullptr;
    // Internal.
    Pool* pool = nullptr;
    Waiter* prev = nullptr;
    Waiter* next = nullptr;
    ClientConnection* handed = nullptr;
    bool woken = false;
  };

  enum class Admit : uint8_t {
    kIdle,    // *conn is an idle connection of the key (reusedTimes bumped)
    kGo,      // connect now; the slot is counted (call counted() / failed())
    kGoFree,  // connect now; the key has no pool yet, nothing is counted
    kQueued,  // w is queued; wake() follows
    kFull,    // backlog full
  };

  KeepalivePool() = default;
  ~KeepalivePool();
  KeepalivePool(const KeepalivePool&) = delete;
  KeepalivePool& operator=(const KeepalivePool&) = delete;

  static KeepalivePool& get() noexcept;

  // Before connecting to `key`. The key's pool is created here when a size
  // or a backlog is given (sizeGiven; backlog 0: no limit on connections,
  // never queued), else by the first put(), with that call's size (as
  // lua-nginx-module does).
  Admit admit(std::string_view key, size_t size, bool sizeGiven, size_t backlog, Waiter* w,
              ClientConnection** conn) noexcept;
  // The connect a kGo / slot-wake answer allowed succeeded (conn is counted
  // against the pool from now on) or failed (the slot is given back).
  void counted(std::string_view key, ClientConnection* conn) noexcept;
  void failed(std::string_view key) noexcept;
  // A queued waiter gives up (timeout, its owner ended). Safe if not queued.
  void leave(Waiter* w) noexcept;
  // A connection of the pool closes (the user closes it or it failed).
  // Call before conn->close().
  void closing(ClientConnection* conn) noexcept;

  // Puts conn back (the user must not touch it afterwards). size: the pool
  // size if the key has no pool yet; timeoutMs 0: no idle timeout.
  void put(ClientConnection* conn, size_t size, uint64_t timeoutMs) noexcept;

  // Graceful exit: closes every idle connection; put() closes from now on.
  void shutdown() noexcept;
  // A process (or an embedded server) starts serving: pooling works again.
  void start() noexcept { shutdown_ = false; }

  struct Stats {
    size_t idle = 0, busy = 0, waiting = 0, size = 0, backlog = 0;
  };
  // Every pool (for lunet.socket.pool_stats()).
  template <class F>
  void forEach(F f) const {
    for (const auto& [key, p] : pools_) f(key, statsOf(*p));
  }
  Stats stats(std::string_view key) const noexcept;

 private:
  struct Idle;
  Pool* find(std::string_view key) const noexcept;
  Pool* pool(std::string_view key, size_t size, size_t backlog) noexcept;
  static Stats statsOf(const Pool& p) noexcept;
  void release(Pool* p) noexcept;  // a counted connection ended
  void dropIdle(Idle* i) noexcept;
  void wakeLater(Waiter* w, Pool* p) noexcept;
  static void onWakeTimer(uv_timer_t* t);

  std::unordered_map<std::string, std::unique_ptr<Pool>> pools_;
  event::UvHandle<uv_timer_t> wakeTimer_;
  Waiter* wokenHead_ = nullptr;
  Waiter* wokenTail_ = nullptr;
  bool shutdown_ = false;
};

}  // namespace lunet::net
