// The request head with nginx's grammar (the behaviour of nginx 1.27's
// ngx_http_parse_request_line / ngx_http_parse_header_line and
// ngx_http_validate_host), on a byte buffer, without allocating.
//
// The connection adapter (connection.cc) tokenizes the request line and the
// header lines with these functions, then hands llhttp a canonical head
// (request line and the framing header it validated) followed by the body
// bytes: llhttp keeps the body framing and the chunked decoding, while what
// is accepted in a head is nginx's rule, not llhttp's (bare LF line ends,
// header lines without a colon, unknown methods, HTTP/1.2..1.999, ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lunet::http {

// Results besides an HTTP status (400, 505): the line is complete, or more
// bytes are needed to decide.
constexpr int kHeadOk = 0;
constexpr int kHeadAgain = -1;

struct RequestLineParse {
  uint32_t start = 0;  // first byte of the line (empty lines before it skipped)
  uint32_t methodLen = 0;
  uint32_t uriOff = 0, uriLen = 0;
  uint32_t hostOff = 0, hostLen = 0;  // an absolute URI's host[:port]
  bool absolute = false;              // then uri is its path when it has one
  uint32_t protoOff = 0, protoLen = 0;
  uint32_t end = 0;      // end of the line's text (for $request)
  uint32_t next = 0;     // first byte after the line's LF
  uint16_t version = 0;  // major * 1000 + minor; 9 for an HTTP/0.9 simple request
};

// Parses the request line in [buf+from, buf+len). Returns kHeadOk,
// kHeadAgain, or 400/505 with *err set to nginx's log message ("client sent
// invalid method", "client sent invalid request", "client sent invalid
// version"). An error is reported as soon as the bytes so far prove it.
int parseRequestLine(const char* buf, size_t from, size_t len, RequestLineParse* out,
                     const char** err) noexcept;

struct HeaderLineParse {
  uint32_t nameOff = 0, nameLen = 0;
  uint32_t valOff = 0, valLen = 0;  // spaces around the value trimmed
  uint32_t next = 0;                // first byte after the line's LF
  bool last = false;                // the empty line that ends the head
};

// Parses the header line at buf+from. Returns kHeadOk, kHeadAgain, or 400
// for nginx's "client sent invalid header line" with *bad set to the offset
// of the offending byte (a space, control character or ':' in or before the
// name, which includes obs-fold lines; NUL or a bare CR anywhere).
int parseHeaderLine(const char* buf, size_t from, size_t len, HeaderLineParse* out,
                    size_t* bad) noexcept;

// An upstream's status line, "HTTP/1.1 200 OK" (nginx's
// ngx_http_parse_status_line): the version, a three-digit code, an optional
// reason phrase.
struct StatusLineParse {
  uint16_t version = 0;  // major * 1000 + minor
  uint16_t status = 0;
  uint32_t textOff = 0, textLen = 0;  // "200 OK": the code and the reason
  uint32_t next = 0;                  // first byte after the line's LF
};

// Parses the status line at buf[0..len). Returns kHeadOk, kHeadAgain, or
// -2 when the bytes are no HTTP/1.x status line.
constexpr int kStatusInvalid = -2;
int parseStatusLine(const char* buf, size_t len, StatusLineParse* out) noexcept;

// nginx's Host check: lowercases `host` into `out` (host.size() bytes),
// drops a ":port" and one trailing dot. Returns the length, or -1 for an
// invalid host (empty, "..", '/', NUL, a space or control character).
long validateHost(std::string_view host, char* out) noexcept;

}  // namespace lunet::http
