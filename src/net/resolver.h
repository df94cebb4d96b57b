// The non-blocking resolver of a worker: host names become addresses
// through getaddrinfo on libuv's thread pool, never on the event loop, with
// a small per-process cache (answers kept `valid` seconds, a bounded number
// of names). Numeric addresses skip both. Used by cosocket connect and, next,
// by upstream connections (docs/design/net.md).
//
// The `resolver` / `resolver_timeout` directives set the cache lifetime
// (`valid=`) and how long a lookup may take; the name servers they list are
// not queried (the system's resolver configuration is): see
// docs/directives/lua.md.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lunet::net {

// One resolved address (IPv4 or IPv6) with the port set.
struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&ss); }
  // "127.0.0.1:6379", "[::1]:80"
  std::string text() const;
};

// Parses a numeric IPv4/IPv6 address (IPv6 with or without brackets).
bool parseNumeric(std::string_view host, uint16_t port, SockAddr* out) noexcept;

// Resolution failures, numbered and worded as nginx's resolver reports
// them (a cosocket says "HOST could not be resolved (3: Host not found)").
enum ResolveError : int {
  kResolveOk = 0,
  kResolveFormErr = 1,
  kResolveServFail = 2,
  kResolveNxDomain = 3,
  kResolveNotImp = 4,
  kResolveRefused = 5,
  kResolveTimedOut = 110,
};
const char* resolveErrorText(int code) noexcept;

class Resolver {
 public:
  // Called once per lookup (never after cancel()); code is kResolveOk with
  // `addr` set, or a ResolveError.
  using Callback = void (*)(void* data, int code, const SockAddr* addr) noexcept;
  struct Lookup;

  explicit Resolver(uv_loop_t* loop) noexcept : loop_(loop) {}
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The resolver of this process's loop (created on first use).
  static Resolver& get() noexcept;

  // Settings of the `resolver` / `resolver_timeout` directives.
  void setValidSeconds(uint32_t s) noexcept { validMs_ = uint64_t{s} * 1000; }
  void setTimeoutMs(uint64_t ms) noexcept { timeoutMs_ = ms; }

  // A cached answer (round robin over its addresses), without blocking.
  bool cached(std::string_view host, uint16_t port, SockAddr* out) noexcept;
  // Starts a lookup; returns a handle for cancel(). The callback runs from
  // the loop, never from inside resolve().
  Lookup* resolve(std::string_view host, uint16_t port, Callback cb, void* data) noexcept;
  // The callback of `l` will not run.
  static void cancel(Lookup* l) noexcept;

  size_t cacheSize() const noexcept { return cache_.size(); }
  uint64_t lookups() const noexcept { return lookups_; }

 private:
  struct Entry {
    std::vector<SockAddr> addrs;  // port 0
    uint64_t expires = 0;         // loop time, ms
    uint32_t next = 0;            // round robin
  };
  static void onResolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  static void onTimeout(uv_timer_t* t);
  void finish(Lookup* l, int code, const SockAddr* addr) noexcept;

  uv_loop_t* loop_;
  uint64_t validMs_ = 30000;
  uint64_t timeoutMs_ = 30000;
  uint64_t lookups_ = 0;
  std::unordered_map<std::string, Entry> cache_;
  static constexpr size_t kMaxCached = 512;
};

}  // namespace lunet::net
