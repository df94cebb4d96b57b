// The request head with nginx's grammar (parse.h). Checked against Debian's
// nginx by the differential test (t/diff/).
#include "http/parse.h"

#include <cstring>

namespace lunet::http {

namespace {

constexpr const char* kInvalidMethod = "client sent invalid method";
constexpr const char* kInvalidRequest = "client sent invalid request";
constexpr const char* kInvalidVersion = "client sent invalid version";

bool isDigit(char ch) { return ch >= '0' && ch <= '9'; }
bool isAlpha(char ch) {
  char c = static_cast<char>(ch | 0x20);
  return c >= 'a' && c <= 'z';
}
bool isCtl(char ch) {
  auto u = static_cast<unsigned char>(ch);
  return u < 0x20 || u == 0x7f;
}
// Inside "[...]" of an absolute URI's host: unreserved, sub-delims and ':'.
bool isIpLiteral(char ch) {
  if (isDigit(ch) || isAlpha(ch)) return true;
  return std::strchr(":-._~!$&'()*+,;=", ch) != nullptr && ch != '\0';
}

}  // namespace

int parseRequestLine(const char* b, size_t from, size_t len, RequestLineParse* o,
                     const char** err) noexcept {
  auto fail = [err](const char* msg, int status) {
    *err = msg;
    return status;
  };
  size_t p = from;
  while (p < len && (b[p] == '\r' || b[p] == '\n')) p++;  // empty lines before it
  if (p == len) return kHeadAgain;
  o->start = static_cast<uint32_t>(p);
  // Method: uppercase letters, '_' and '-'; unknown ones are fine.
  size_t m = p;
  while (p < len && ((b[p] >= 'A' && b[p] <= 'Z') || b[p] == '_' || b[p] == '-')) p++;
  if (p == len) return kHeadAgain;
  if (b[p] != ' ' || p == m) return fail(kInvalidMethod, 400);
  o->methodLen = static_cast<uint32_t>(p - m);
  while (p < len && b[p] == ' ') p++;
  if (p == len) return kHeadAgain;
  o->uriOff = static_cast<uint32_t>(p);
  o->hostOff = o->hostLen = 0;
  o->absolute = false;
  if (b[p] != '/') {
    // Absolute URI: scheme "://" host [":" port], then the path.
    if (!isAlpha(b[p])) return fail(kInvalidRequest, 400);
    while (p < len &&
           (isAlpha(b[p]) || isDigit(b[p]) || b[p] == '+' || b[p] == '-' || b[p] == '.')) {
      p++;
    }
    for (char want : {':', '/', '/'}) {
      if (p == len) return kHeadAgain;
      if (b[p++] != want) return fail(kInvalidRequest, 400);
    }
    size_t h = p;
    if (p < len && b[p] == '[') {
      p++;
      while (p < len && isIpLiteral(b[p])) p++;
      if (p == len) return kHeadAgain;
      if (b[p] != ']') return fail(kInvalidRequest, 400);
      p++;
    } else {
      while (p < len && (isAlpha(b[p]) || isDigit(b[p]) || b[p] == '.' || b[p] == '-')) p++;
    }
    if (p == len) return kHeadAgain;
    if (b[p] == ':') {
      p++;
      while (p < len && isDigit(b[p])) p++;
      if (p == len) return kHeadAgain;
    }
    o->hostOff = static_cast<uint32_t>(h);
    o->hostLen = static_cast<uint32_t>(p - h);
    if (b[p] != '/' && b[p] != '?' && b[p] != ' ') return fail(kInvalidRequest, 400);
    o->absolute = true;
    if (b[p] == '/') o->uriOff = static_cast<uint32_t>(p);  // $request_uri is the path
  }
  // Path and arguments run to a space; control characters are an error.
  while (p < len && b[p] != ' ' && b[p] != '\r' && b[p] != '\n') {
    if (isCtl(b[p])) return fail(kInvalidRequest, 400);
    p++;
  }
  if (p == len) return kHeadAgain;
  size_t uriEnd = p;
  o->uriLen = static_cast<uint32_t>(uriEnd - o->uriOff);
  while (p < len && b[p] == ' ') p++;
  if (p == len) return kHeadAgain;
  auto lineEnd = [&](uint16_t version) {
    o->end = static_cast<uint32_t>(p);  // nginx's request_end: spaces before CR included
    if (b[p] == '\r') {
      if (p + 1 == len) return kHeadAgain;
      if (b[p + 1] != '\n') return fail(kInvalidRequest, 400);
      p++;
    } else if (b[p] != '\n') {
      return fail(kInvalidRequest, 400);
    }
    o->next = static_cast<uint32_t>(p + 1);
    o->version = version;
    return kHeadOk;
  };
  if (b[p] == '\r' || b[p] == '\n') {  // no version: an HTTP/0.9 simple request
    o->protoOff = o->protoLen = 0;
    return lineEnd(9);
  }
  o->protoOff = static_cast<uint32_t>(p);
  for (char want : {'H', 'T', 'T', 'P', '/'}) {
    if (p == len) return kHeadAgain;
    if (b[p++] != want) return fail(kInvalidRequest, 400);
  }
  if (p == len) return kHeadAgain;
  if (b[p] < '1' || b[p] > '9') return fail(kInvalidRequest, 400);
  if (b[p] > '1') return fail(kInvalidVersion, 505);
  p++;
  if (p == len) return kHeadAgain;
  if (isDigit(b[p])) return fail(kInvalidVersion, 505);  // a major version of 10 or more
  if (b[p++] != '.') return fail(kInvalidRequest, 400);
  if (p == len) return kHeadAgain;
  if (!isDigit(b[p])) return fail(kInvalidRequest, 400);
  int minor = 0;
  while (p < len && isDigit(b[p])) {
    if (minor > 99) return fail(kInvalidRequest, 400);  // nginx stops after 3 digits
    minor = minor * 10 + (b[p++] - '0');
  }
  if (p == len) return kHeadAgain;
  size_t protoEnd = p;
  o->protoLen = static_cast<uint32_t>(protoEnd - o->protoOff);
  while (p < len && b[p] == ' ') p++;
  if (p == len) return kHeadAgain;
  return lineEnd(static_cast<uint16_t>(1000 + minor));
}

int parseHeaderLine(const char* b, size_t from, size_t len, HeaderLineParse* o,
                    size_t* bad) noexcept {
  if (from >= len) return kHeadAgain;
  const char* s = b + from;
  size_t avail = len - from;
  const auto* lf = static_cast<const char*>(std::memchr(s, '\n', avail));
  size_t n = lf != nullptr ? static_cast<size_t>(lf - s) : avail;
  // nginx lets any number of CRs stand before the LF.
  size_t e = n;
  while (e > 0 && s[e - 1] == '\r') e--;
  if (lf != nullptr && e == 0) {
    if (n > 1) {  // the head ends with CRLF or LF only: "\r\r\n" is invalid
      *bad = from + 1;
      return 400;
    }
    o->last = true;
    o->next = static_cast<uint32_t>(from + n + 1);
    return kHeadOk;
  }
  if (lf == nullptr && e == 0) return kHeadAgain;  // CRs so far
  o->last = false;
  auto invalid = [&](size_t at) {
    *bad = from + at;
    return 400;
  };
  // A line may not start with a space, a control character or ':' (so an
  // obs-fold continuation line is an error), nor have one in its name.
  if (isCtl(s[0]) || s[0] == ' ' || s[0] == ':') return invalid(0);
  size_t i = 0;
  for (; i < e && s[i] != ':'; i++) {
    if (isCtl(s[i]) || s[i] == ' ') return invalid(i);
  }
  if (lf == nullptr) return kHeadAgain;
  o->nameOff = static_cast<uint32_t>(from);
  o->nameLen = static_cast<uint32_t>(i);
  o->next = static_cast<uint32_t>(from + n + 1);
  if (i == e) {  // a bare token: a header with an empty value
    o->valOff = static_cast<uint32_t>(from + i);
    o->valLen = 0;
    return kHeadOk;
  }
  size_t v = i + 1;
  if (const void* z = std::memchr(s + v, '\0', e - v)) {
    return invalid(static_cast<size_t>(static_cast<const char*>(z) - s));
  }
  if (const void* cr = std::memchr(s + v, '\r', e - v)) {
    return invalid(static_cast<size_t>(static_cast<const char*>(cr) - s));
  }
  while (v < e && s[v] == ' ') v++;
  size_t ve = e;
  while (ve > v && s[ve - 1] == ' ') ve--;
  o->valOff = static_cast<uint32_t>(from + v);
  o->valLen = static_cast<uint32_t>(ve - v);
  return kHeadOk;
}

int parseStatusLine(const char* b, size_t len, StatusLineParse* o) noexcept {
  size_t p = 0;
  for (char want : {'H', 'T', 'T', 'P', '/'}) {
    if (p == len) return kHeadAgain;
    if (b[p++] != want) return kStatusInvalid;
  }
  int major = 0, minor = 0;
  size_t d = p;
  while (p < len && isDigit(b[p])) {
    if (major > 99) return kStatusInvalid;
    major = major * 10 + (b[p++] - '0');
  }
  if (p == len) return kHeadAgain;
  if (p == d || b[p++] != '.') return kStatusInvalid;
  d = p;
  while (p < len && isDigit(b[p])) {
    if (minor > 99) return kStatusInvalid;
    minor = minor * 10 + (b[p++] - '0');
  }
  if (p == len) return kHeadAgain;
  if (p == d || b[p] != ' ') return kStatusInvalid;
  while (p < len && b[p] == ' ') p++;
  size_t code = p;
  int status = 0;
  for (int i = 0; i < 3; i++) {
    if (p == len) return kHeadAgain;
    if (!isDigit(b[p])) return kStatusInvalid;
    status = status * 10 + (b[p++] - '0');
  }
  if (p == len) return kHeadAgain;
  if (b[p] != ' ' && b[p] != '\r' && b[p] != '\n') return kStatusInvalid;
  const auto* lf = static_cast<const char*>(std::memchr(b + p, '\n', len - p));
  if (lf == nullptr) return kHeadAgain;
  size_t e = static_cast<size_t>(lf - b);
  size_t te = e;
  while (te > code && (b[te - 1] == '\r' || b[te - 1] == ' ')) te--;
  o->version = static_cast<uint16_t>(major * 1000 + minor);
  o->status = static_cast<uint16_t>(status);
  o->textOff = static_cast<uint32_t>(code);
  o->textLen = static_cast<uint32_t>(te - code);
  o->next = static_cast<uint32_t>(e + 1);
  return kHeadOk;
}

long validateHost(std::string_view h, char* out) noexcept {
  enum { kUsual, kLiteral, kRest } state = kUsual;
  size_t hostLen = h.size();
  size_t dot = h.size();  // position of the last '.', none yet
  for (size_t i = 0; i < h.size(); i++) {
    char ch = h[i];
    switch (ch) {
      case '.':
        if (dot + 1 == i) return -1;
        dot = i;
        break;
      case ':':
        if (state == kUsual) {
          hostLen = i;
          state = kRest;
        }
        break;
      case '[':
        if (i == 0) state = kLiteral;
        break;
      case ']':
        if (state == kLiteral) {
          hostLen = i + 1;
          state = kRest;
        }
        break;
      default:
        if (ch == '/' || ch == ' ' || isCtl(ch)) return -1;
        break;
    }
    out[i] = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch | 0x20) : ch;
  }
  if (hostLen > 0 && dot == hostLen - 1) hostLen--;
  if (hostLen == 0) return -1;
  return static_cast<long>(hostLen);
}

}  // namespace lunet::http
