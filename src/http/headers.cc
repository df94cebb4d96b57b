// Header helpers: name hashing, case-insensitive compare, header lists,
// escaping of names and values for output.
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

}  // namespace lunet::http
