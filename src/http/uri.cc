#include "http/uri.h"

#include <cstring>

namespace lunet::http {

namespace {

int hexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(c | 0x20);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

bool parseTarget(std::string_view t, ParsedTarget* out) noexcept {
  *out = ParsedTarget{};
  if (t.empty()) return false;
  if (t[0] != '/') {
    // absolute-form: scheme://host[:port]/path
    size_t p = t.find("://");
    if (p == std::string_view::npos || p == 0) return false;
    for (size_t i = 0; i < p; i++) {
      char c = static_cast<char>(t[i] | 0x20);
      if (c < 'a' || c > 'z') return false;
    }
    std::string_view rest = t.substr(p + 3);
    size_t slash = rest.find_first_of("/?");
    out->host = rest.substr(0, slash);
    if (out->host.empty()) return false;
    size_t at = out->host.find('@');
    if (at != std::string_view::npos) return false;
    if (slash == std::string_view::npos) {
      t = "/";
    } else if (rest[slash] == '?') {
      // "http://h?x" — path is "/"
      out->path = "/";
      out->args = rest.substr(slash + 1);
      out->hasArgs = true;
      size_t hash = out->args.find('#');
      if (hash != std::string_view::npos) out->args = out->args.substr(0, hash);
      return true;
    } else {
      t = rest.substr(slash);
    }
  }
  size_t hash = t.find('#');
  if (hash != std::string_view::npos) t = t.substr(0, hash);
  size_t q = t.find('?');
  if (q == std::string_view::npos) {
    out->path = t;
  } else {
    out->path = t.substr(0, q);
    out->args = t.substr(q + 1);
    out->hasArgs = true;
  }
  return true;
}

long normalizePath(std::string_view raw, char* out, bool mergeSlashes) noexcept {
  if (raw.empty() || raw[0] != '/') return -1;
  // Pass 1: decode %XX. A decoded '%' is literal data (nginx does not decode
  // twice); %00 is rejected.
  char* o = out;
  for (size_t i = 0; i < raw.size(); i++) {
    char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) return -1;
      int h = hexVal(raw[i + 1]);
      int l = hexVal(raw[i + 2]);
      if (h < 0 || l < 0) return -1;
      c = static_cast<char>((h << 4) | l);
      if (c == '\0') return -1;
      i += 2;
    } else if (c == '\0') {
      return -1;
    }
    *o++ = c;
  }
  size_t n = static_cast<size_t>(o - out);
  // Pass 2 (in place): segments. `w` is the write position; out[0] == '/'.
  size_t w = 1;
  size_t i = 1;
  while (i < n) {
    if (out[i] == '/') {
      if (mergeSlashes && out[w - 1] == '/') {
        i++;
        continue;
      }
      out[w++] = '/';
      i++;
      continue;
    }
    // At the start of a segment (previous written char is '/').
    if (out[w - 1] == '/' && out[i] == '.') {
      size_t segEnd = i;
      while (segEnd < n && out[segEnd] != '/') segEnd++;
      size_t segLen = segEnd - i;
      if (segLen == 1) {  // "."
        i = segEnd < n ? segEnd + 1 : segEnd;
        continue;
      }
      if (segLen == 2 && out[i + 1] == '.') {  // ".."
        if (w == 1) return -1;                 // above the root
        // drop the previous segment: w points after its trailing '/'
        size_t k = w - 1;  // index of '/' ending the previous segment
        while (k > 0 && out[k - 1] != '/') k--;
        // out[k-1] is the '/' before the previous segment
        if (k == 0) return -1;
        w = k;
        i = segEnd < n ? segEnd + 1 : segEnd;
        continue;
      }
    }
    out[w++] = out[i++];
  }
  return static_cast<long>(w);
}

size_t unescape(std::string_view in, char* out, bool plusAsSpace) noexcept {
  char* o = out;
  for (size_t i = 0; i < in.size(); i++) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int h = hexVal(in[i + 1]);
      int l = hexVal(in[i + 2]);
      if (h >= 0 && l >= 0) {
        *o++ = static_cast<char>((h << 4) | l);
        i += 2;
        continue;
      }
    } else if (c == '+' && plusAsSpace) {
      c = ' ';
    }
    *o++ = c;
  }
  return static_cast<size_t>(o - out);
}

std::string_view escapeUri(core::Arena& a, std::string_view in) noexcept {
  static const char* kHex = "0123456789ABCDEF";
  size_t extra = 0;
  auto needs = [](unsigned char c) {
    return c <= 0x20 || c >= 0x7f || c == '"' || c == '%' || c == '<' || c == '>' || c == '\\' ||
           c == '^' || c == '`' || c == '{' || c == '|' || c == '}' || c == '#' || c == '?';
  };
  for (unsigned char c : in) extra += needs(c) ? 2 : 0;
  if (extra == 0) return in;
  char* p = static_cast<char*>(a.alloc(in.size() + extra, 1));
  char* o = p;
  for (unsigned char c : in) {
    if (needs(c)) {
      *o++ = '%';
      *o++ = kHex[c >> 4];
      *o++ = kHex[c & 15];
    } else {
      *o++ = static_cast<char>(c);
    }
  }
  return {p, in.size() + extra};
}

}  // namespace lunet::http
