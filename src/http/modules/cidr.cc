#include "http/modules/cidr.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "core/log.h"
#include "http/connection.h"

namespace lunet::http {

namespace {

bool parseBits(std::string_view s, int max, int* bits) {
  if (s.empty() || s.size() > 3) return false;
  int v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + (ch - '0');
  }
  if (v > max) return false;
  *bits = v;
  return true;
}

}  // namespace

CidrParse parseCidr(std::string_view text, Cidr* out) noexcept {
  *out = Cidr{};
  if (text.size() > 63) return CidrParse::kError;
  size_t slash = text.find('/');
  std::string host(text.substr(0, slash));
  int len;
  // nginx parses IPv4 with inet_addr(), whose error value INADDR_NONE makes
  // 255.255.255.255 unusable; keep that so configs fail or load alike.
  if (inet_pton(AF_INET, host.c_str(), out->addr) == 1 && host != "255.255.255.255") {
    out->family = AF_INET;
    len = 4;
  } else if (inet_pton(AF_INET6, host.c_str(), out->addr) == 1) {
    out->family = AF_INET6;
    len = 16;
  } else {
    return CidrParse::kError;
  }
  int bits = len * 8;
  if (slash != std::string_view::npos && !parseBits(text.substr(slash + 1), len * 8, &bits)) {
    return CidrParse::kError;
  }
  bool low = false;
  for (int i = 0; i < len; i++) {
    int b = bits - i * 8;
    uint8_t m = b >= 8 ? 0xff : b <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - b));
    out->mask[i] = m;
    if (out->addr[i] & ~m) low = true;
    out->addr[i] &= m;
  }
  return low ? CidrParse::kLowBits : CidrParse::kOk;
}

Cidr parseCidrArg(const conf::ConfNode& n, const std::string& text) {
  Cidr c;
  CidrParse rc = parseCidr(text, &c);
  if (rc == CidrParse::kError) conf::fail(n, "invalid parameter \"" + text + "\"");
  if (rc == CidrParse::kLowBits) {
    std::string where = n.where();
    LUNET_LOG(core::processLog(), core::Level::kWarn, 0,
              "low address bits of %s are meaningless in %s", text.c_str(), where.c_str());
  }
  return c;
}

bool cidrMatch(const Cidr& c, const sockaddr* sa) noexcept {
  const uint8_t* a = nullptr;
  int len = 0;
  if (sa->sa_family == AF_INET) {
    if (c.family != AF_INET) return false;
    a = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr);
    len = 4;
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(in6)) {
      if (c.family != AF_INET) return false;
      a = reinterpret_cast<const uint8_t*>(in6) + 12;
      len = 4;
    } else {
      if (c.family != AF_INET6) return false;
      a = reinterpret_cast<const uint8_t*>(in6);
      len = 16;
    }
  } else {
    return c.family == sa->sa_family;
  }
  for (int i = 0; i < len; i++) {
    if ((a[i] & c.mask[i]) != c.addr[i]) return false;
  }
  return true;
}

const sockaddr* clientSockaddr(const Request& r) noexcept { return &r.conn->peer.sa; }

bool parseAddr(std::string_view text, sockaddr_in6* storage) noexcept {
  std::memset(storage, 0, sizeof(*storage));
  if (text.size() > 63) return false;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  auto* in4 = reinterpret_cast<sockaddr_in*>(storage);
  if (inet_pton(AF_INET, buf, &in4->sin_addr) == 1 && in4->sin_addr.s_addr != INADDR_NONE) {
    in4->sin_family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, buf, &storage->sin6_addr) == 1) {
    storage->sin6_family = AF_INET6;
    return true;
  }
  return false;
}

}  // namespace lunet::http

namespace lunet::http {

bool cidrMatchAny(const std::vector<Cidr>& nets, const sockaddr* sa) noexcept {
  for (const Cidr& c : nets) {
    if (cidrMatch(c, sa)) return true;
  }
  return false;
}

namespace {

// "ip", "ip:port", "[ipv6]", "[ipv6]:port" → the address and port (0: none).
bool parsePort(std::string_view s, uint16_t* port) noexcept {
  if (s.empty() || s.size() > 5) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v == 0 || v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

bool parseAddrPort(std::string_view s, sockaddr_in6* out, uint16_t* port) noexcept {
  *port = 0;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty() && (rest[0] != ':' || !parsePort(rest.substr(1), port))) return false;
    return parseAddr(s.substr(1, close - 1), out);
  }
  size_t colon = s.find(':');
  if (colon != std::string_view::npos && s.find(':', colon + 1) == std::string_view::npos) {
    if (!parsePort(s.substr(colon + 1), port)) return false;
    return parseAddr(s.substr(0, colon), out);
  }
  return parseAddr(s, out);
}

}  // namespace

bool forwardedAddr(std::string_view xff, const std::vector<Cidr>& proxies, bool recursive,
                   sockaddr_in6* addr, uint16_t* port) noexcept {
  bool changed = false;
  while (cidrMatchAny(proxies, reinterpret_cast<const sockaddr*>(addr))) {
    while (!xff.empty() && (xff.back() == ' ' || xff.back() == ',')) xff.remove_suffix(1);
    if (xff.empty()) break;
    size_t start = xff.find_last_of(" ,");
    start = start == std::string_view::npos ? 0 : start + 1;
    sockaddr_in6 next;
    uint16_t p = 0;
    if (!parseAddrPort(xff.substr(start), &next, &p)) break;
    *addr = next;
    if (port != nullptr) *port = p;
    changed = true;
    xff = xff.substr(0, start);
    if (!recursive) break;
  }
  return changed;
}

std::string_view joinedHeader(Request& r, std::string_view name) noexcept {
  std::string_view first;
  size_t count = 0, total = 0;
  for (const Header& h : r.headersIn.list.all()) {
    if (h.hash == 0 || !ieq(h.name, name)) continue;
    if (count++ == 0) first = h.value;
    total += h.value.size() + 2;
  }
  if (count <= 1) return first;
  char* p = static_cast<char*>(r.arena.alloc(total, 1));
  size_t off = 0;
  for (const Header& h : r.headersIn.list.all()) {
    if (h.hash == 0 || !ieq(h.name, name)) continue;
    if (off != 0) {
      std::memcpy(p + off, ", ", 2);
      off += 2;
    }
    std::memcpy(p + off, h.value.data(), h.value.size());
    off += h.value.size();
  }
  return {p, off};
}

}  // namespace lunet::http
