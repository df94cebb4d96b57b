#include "http/credentials.h"

namespace lunet::http {

namespace {

int value64(unsigned char c, bool url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url ? '-' : '+')) return 62;
  if (c == (url ? '_' : '/')) return 63;
  return -1;
}

}  // namespace

bool decodeBase64(std::string_view in, char* out, size_t* outLen, bool url) noexcept {
  size_t len = 0;
  while (len < in.size() && in[len] != '=') {
    if (value64(static_cast<unsigned char>(in[len]), url) < 0) return false;
    len++;
  }
  if (len % 4 == 1) return false;
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    acc = (acc << 6) | static_cast<uint32_t>(value64(static_cast<unsigned char>(in[i]), url));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<char>((acc >> bits) & 0xff);
    }
  }
  *outLen = o;
  return true;
}

size_t encodeBase64(std::string_view in, char* out) noexcept {
  static const char kAlpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0, i = 0;
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint32_t{s[i]} << 16) | (uint32_t{s[i + 1]} << 8) | s[i + 2];
    out[o++] = kAlpha[(v >> 18) & 63];
    out[o++] = kAlpha[(v >> 12) & 63];
    out[o++] = kAlpha[(v >> 6) & 63];
    out[o++] = kAlpha[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t{s[i]} << 16;
    if (i + 1 < in.size()) v |= uint32_t{s[i + 1]} << 8;
    out[o++] = kAlpha[(v >> 18) & 63];
    out[o++] = kAlpha[(v >> 12) & 63];
    out[o++] = i + 1 < in.size() ? kAlpha[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  return o;
}

bool basicCredentials(Request& r, std::string_view* user, std::string_view* password) noexcept {
  const Header* h = r.headersIn.list.find("Authorization");
  if (h == nullptr) return false;
  std::string_view v = h->value;
  if (v.size() < 6 || !ieq(v.substr(0, 6), "Basic ")) return false;
  v.remove_prefix(6);
  while (!v.empty() && v[0] == ' ') v.remove_prefix(1);
  if (v.empty()) return false;
  char* out = static_cast<char*>(r.arena.alloc((v.size() + 3) / 4 * 3 + 1, 1));
  size_t n = 0;
  if (!decodeBase64(v, out, &n, false)) return false;
  out[n] = '\0';
  std::string_view auth(out, n);
  size_t colon = auth.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  *user = auth.substr(0, colon);
  *password = auth.substr(colon + 1);
  return true;
}

}  // namespace lunet::http
