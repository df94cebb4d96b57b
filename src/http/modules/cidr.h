// Network addresses for the access, geo and realip modules: nginx's
// ngx_parse_cidr / ngx_cidr_match, over the client's socket address.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "conf/ast.h"
#include "http/request.h"

namespace lunet::http {

struct Cidr {
  int family = AF_INET;  // AF_INET, AF_INET6 (AF_UNIX: "unix:")
  uint8_t addr[16] = {};
  uint8_t mask[16] = {};
};

enum class CidrParse { kOk, kLowBits, kError };

// "addr", "addr/bits" (IPv4 or IPv6). kLowBits: the address had bits set
// outside the mask (they are cleared, as nginx does, and it warns).
CidrParse parseCidr(std::string_view text, Cidr* out) noexcept;
// parseCidr for a directive argument: fails the load with nginx's
// `invalid parameter "X"` and logs its "low address bits ... are
// meaningless" warning.
Cidr parseCidrArg(const conf::ConfNode& n, const std::string& text);

// Does the address `sa` fall into c? An IPv4-mapped IPv6 address matches
// IPv4 rules, as nginx's access and geo modules treat it.
bool cidrMatch(const Cidr& c, const sockaddr* sa) noexcept;

// The client address the access-control modules see (the connection's
// peer; realip may replace it for the request).
const sockaddr* clientSockaddr(const Request& r) noexcept;

// Parses a literal IPv4/IPv6 address (no mask) into a sockaddr storage.
bool parseAddr(std::string_view text, sockaddr_in6* storage) noexcept;

}  // namespace lunet::http

namespace lunet::http {

// Is the address in any of `nets`?
bool cidrMatchAny(const std::vector<Cidr>& nets, const sockaddr* sa) noexcept;

// nginx's ngx_http_get_forwarded_addr: when *addr is one of `proxies`,
// replaces it by the last address of the X-Forwarded-For-style list
// `value`; with `recursive`, keeps walking left past trusted addresses.
// Returns true if *addr changed. Entries may carry a port (ip:port,
// [ipv6]:port).
// *port (if given) gets the entry's port, 0 without one.
bool forwardedAddr(std::string_view value, const std::vector<Cidr>& proxies, bool recursive,
                   sockaddr_in6* addr, uint16_t* port = nullptr) noexcept;

// The values of every header named `name`, joined with ", " (arena).
std::string_view joinedHeader(Request& r, std::string_view name) noexcept;

}  // namespace lunet::http
