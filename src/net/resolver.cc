#include "net/resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>
#include <memory>

#include "event/loop.h"

namespace lunet::net {

namespace {

void setPort(SockAddr* a, uint16_t port) {
  if (a->ss.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&a->ss)->sin_port = htons(port);
  } else if (a->ss.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&a->ss)->sin6_port = htons(port);
  }
}

}  // namespace

std::string SockAddr::text() const {
  char buf[INET6_ADDRSTRLEN + 8];
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    return std::string(buf) + ":" + std::to_string(ntohs(a->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    return "[" + std::string(buf) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  return "?";
}

bool parseNumeric(std::string_view host, uint16_t port, SockAddr* out) noexcept {
  char buf[INET6_ADDRSTRLEN + 2];
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host.size() >= sizeof(buf)) return false;
  memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  *out = SockAddr{};
  auto* a4 = reinterpret_cast<sockaddr_in*>(&out->ss);
  if (inet_pton(AF_INET, buf, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    out->len = sizeof(sockaddr_in);
    return true;
  }
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&out->ss);
  if (inet_pton(AF_INET6, buf, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    out->len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

const char* resolveErrorText(int code) noexcept {
  switch (code) {
    case kResolveFormErr:
      return "Format error";
    case kResolveServFail:
      return "Server failure";
    case kResolveNxDomain:
      return "Host not found";
    case kResolveNotImp:
      return "Unimplemented";
    case kResolveRefused:
      return "Operation refused";
    case kResolveTimedOut:
      return "Operation timed out";
    default:
      return "Unknown error";
  }
}

// One lookup in flight. Owned by the getaddrinfo request: freed in its
// callback (a cancelled or timed-out lookup just has no callback left).
struct Resolver::Lookup {
  uv_getaddrinfo_t req{};
  Resolver* self = nullptr;
  Callback cb = nullptr;
  void* data = nullptr;
  std::string host;
  uint16_t port = 0;
  event::UvHandle<uv_timer_t> timer;
};

Resolver::~Resolver() = default;

Resolver& Resolver::get() noexcept {
  // One per process: workers create it after fork, on their loop. Lookups
  // in flight point at it, so it is never destroyed.
  static Resolver* r = new Resolver(event::loop());
  return *r;
}

bool Resolver::cached(std::string_view host, uint16_t port, SockAddr* out) noexcept {
  auto it = cache_.find(std::string(host));
  if (it == cache_.end()) return false;
  Entry& e = it->second;
  if (e.expires <= uv_now(loop_) || e.addrs.empty()) {
    cache_.erase(it);
    return false;
  }
  *out = e.addrs[e.next++ % e.addrs.size()];
  setPort(out, port);
  return true;
}

Resolver::Lookup* Resolver::resolve(std::string_view host, uint16_t port, Callback cb,
                                    void* data) noexcept {
  auto* l = new Lookup;
  l->self = this;
  l->cb = cb;
  l->data = data;
  l->host.assign(host);
  l->port = port;
  l->req.data = l;
  lookups_++;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  int rc = uv_getaddrinfo(loop_, &l->req, onResolved, l->host.c_str(), nullptr, &hints);
  if (rc != 0) {
    // Report from the loop, as promised: through the timer.
    l->req.data = nullptr;
  }
  LUNET_UV_CHECK(uv_timer_init(loop_, l->timer.get()));
  l->timer.markInitialized();
  l->timer->data = l;
  LUNET_UV_CHECK(uv_timer_start(l->timer.get(), onTimeout, rc != 0 ? 0 : timeoutMs_, 0));
  return l;
}

void Resolver::cancel(Lookup* l) noexcept {
  l->cb = nullptr;
  if (l->timer.initialized()) uv_timer_stop(l->timer.get());
  if (l->req.data == nullptr) delete l;  // no request in flight
}

void Resolver::finish(Lookup* l, int code, const SockAddr* addr) noexcept {
  Callback cb = l->cb;
  l->cb = nullptr;
  if (l->timer.initialized()) uv_timer_stop(l->timer.get());
  if (cb != nullptr) cb(l->data, code, addr);
}

void Resolver::onTimeout(uv_timer_t* t) {
  auto* l = static_cast<Lookup*>(t->data);
  bool inFlight = l->req.data != nullptr;
  // No request in flight: uv_getaddrinfo failed to start.
  l->self->finish(l, inFlight ? kResolveTimedOut : kResolveServFail, nullptr);
  if (!inFlight) delete l;
}

void Resolver::onResolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* l = static_cast<Lookup*>(req->data);
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(res, uv_freeaddrinfo);
  Resolver* self = l->self;
  l->req.data = nullptr;
  if (l->cb == nullptr) {  // cancelled, or timed out
    delete l;
    return;
  }
  if (status != 0) {
    int code = status == UV_EAI_NONAME || status == UV_EAI_NODATA ? kResolveNxDomain
               : status == UV_EAI_AGAIN                           ? kResolveServFail
                                                                  : kResolveServFail;
    self->finish(l, code, nullptr);
    delete l;
    return;
  }
  Entry e;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
        a->ai_addrlen > sizeof(sockaddr_storage)) {
      continue;
    }
    SockAddr s;
    memcpy(&s.ss, a->ai_addr, a->ai_addrlen);
    s.len = static_cast<socklen_t>(a->ai_addrlen);
    e.addrs.push_back(s);
  }
  if (e.addrs.empty()) {
    self->finish(l, kResolveNxDomain, nullptr);
    delete l;
    return;
  }
  SockAddr first = e.addrs[0];
  setPort(&first, l->port);
  e.next = 1;
  e.expires = uv_now(self->loop_) + self->validMs_;
  if (self->validMs_ > 0) {
    if (self->cache_.size() >= kMaxCached) self->cache_.clear();
    self->cache_[l->host] = std::move(e);
  }
  self->finish(l, kResolveOk, &first);
  delete l;
}

}  // namespace lunet::net
