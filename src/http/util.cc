// Small shared pieces: header hashing/lists, reason phrases, bufs.
#include <cstring>

#include "http/filter.h"
#include "http/request.h"

namespace lunet::http {

namespace {
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c; }
}  // namespace

uint32_t headerHash(std::string_view name) noexcept {
  uint32_t h = 2166136261u;
  for (char c : name) {
    h ^= static_cast<unsigned char>(lower(c));
    h *= 16777619u;
  }
  return h | 1u;  // never 0 (0 marks a deleted header)
}

bool ieq(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

namespace {

bool unsafeInValue(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

bool unsafeInName(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return true;
  return std::strchr("\"(),/:;<=>?@[\\]{}", c) != nullptr;
}

std::string_view escapeWith(core::Arena& a, std::string_view s, bool (*unsafe)(unsigned char)) {
  size_t n = 0;
  for (char c : s) n += unsafe(static_cast<unsigned char>(c)) ? 1 : 0;
  if (n == 0) return s;
  static constexpr char kHex[] = "0123456789ABCDEF";
  char* out = static_cast<char*>(a.alloc(s.size() + 2 * n, 1));
  char* p = out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (unsafe(c)) {
      *p++ = '%';
      *p++ = kHex[c >> 4];
      *p++ = kHex[c & 0xf];
    } else {
      *p++ = ch;
    }
  }
  return {out, static_cast<size_t>(p - out)};
}

}  // namespace

std::string_view escapeHeaderName(core::Arena& a, std::string_view s) noexcept {
  return escapeWith(a, s, unsafeInName);
}

std::string_view escapeHeaderValue(core::Arena& a, std::string_view s) noexcept {
  return escapeWith(a, s, unsafeInValue);
}

const Header* HeaderList::find(std::string_view name) const noexcept {
  uint32_t h = headerHash(name);
  for (const Header& x : list_) {
    if (x.hash == h && ieq(x.name, name)) return &x;
  }
  return nullptr;
}

Header* HeaderList::find(std::string_view name) noexcept {
  uint32_t h = headerHash(name);
  for (Header& x : list_) {
    if (x.hash == h && ieq(x.name, name)) return &x;
  }
  return nullptr;
}

void HeaderList::add(core::Arena& a, std::string_view name, std::string_view value) noexcept {
  list_.push(a, Header{name, value, headerHash(name)});
}

size_t HeaderList::remove(std::string_view name) noexcept {
  uint32_t h = headerHash(name);
  size_t n = 0;
  for (size_t i = 0; i < list_.size();) {
    if (list_[i].hash == h && ieq(list_[i].name, name)) {
      list_.erase(i);
      n++;
    } else {
      i++;
    }
  }
  return n;
}

std::string_view reasonPhrase(int s) noexcept {
  switch (s) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Moved Temporarily";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Time-out";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request-URI Too Large";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Requested Range Not Satisfiable";
    case 421:
      return "Misdirected Request";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Temporarily Unavailable";
    case 504:
      return "Gateway Time-out";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    default:
      return "";
  }
}

Buf* newBuf(Request& r, std::string_view data) noexcept {
  Buf* b = r.arena.make<Buf>();
  b->data = data;
  return b;
}

Buf* newBufCopy(Request& r, std::string_view data) noexcept { return newBuf(r, r.arena.dup(data)); }

}  // namespace lunet::http
