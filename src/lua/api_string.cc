// ngx.encode_args, decode_args, hmac_sha1, quote_sql_str (lua_CFunctions),
// and the FFI side of ngx.escape_uri, unescape_uri, md5, md5_bin, sha1_bin,
// crc32_short/long, encode_base64, decode_base64, decode_base64mime
// (lua/resty/core/uri.lua, hash.lua, base64.lua).
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/sha.h>

#include <cstdint>
#include <cstring>

#include "lua/api.h"
#include "lua/args.h"

namespace lunet::lua {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

// Which bytes ngx.escape_uri escapes for each type (0 URI, 1 ARGS, 2 URI
// component, 3 HTML, 4 REFRESH, 5 MEMCACHED, 6 MAIL_AUTH): one bit per byte,
// as nginx 1.22 + lua-nginx-module answer it (measured byte by byte).
constexpr uint32_t kEscape[7][8] = {
    {0xffffffff, 0x80000029, 0x00000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff,
     0xffffffff},
    {0xffffffff, 0x80000829, 0x00000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff,
     0xffffffff},
    {0xffffffff, 0xfc00987d, 0x78000001, 0xb8000001, 0xffffffff, 0xffffffff, 0xffffffff,
     0xffffffff},
    {0xffffffff, 0x000000ad, 0x00000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff,
     0xffffffff},
    {0xffffffff, 0x00000085, 0x00000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff,
     0xffffffff},
    {0xffffffff, 0x00000021, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
     0x00000000},
    {0xffffffff, 0x00000021, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
     0x00000000},
};

inline bool escaped(int type, unsigned char c) { return (kEscape[type][c >> 5] >> (c & 31)) & 1; }

int hexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int encodeArgsFn(lua_State* L) {
  if (lua_type(L, 1) != LUA_TTABLE) {
    return luaL_error(L, "bad argument #1 to 'encode_args' (table expected, got %s)",
                      luaL_typename(L, 1));
  }
  encodeArgs(L, 1);
  return 1;
}

int decodeArgsFn(lua_State* L) {
  size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  int max = static_cast<int>(luaL_optinteger(L, 2, 100));
  pushDecodedArgs(L, {s, len}, max);
  return 1;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64Val(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int hmacSha1(lua_State* L) {
  size_t klen = 0, len = 0;
  const char* key = luaL_checklstring(L, 1, &klen);
  const char* s = luaL_checklstring(L, 2, &len);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (HMAC(EVP_sha1(), key, static_cast<int>(klen), reinterpret_cast<const unsigned char*>(s), len,
           out, &n) == nullptr) {
    return luaL_error(L, "HMAC failed");
  }
  lua_pushlstring(L, reinterpret_cast<const char*>(out), n);
  return 1;
}

uint32_t crc32Table[256];
bool crcInit = [] {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc32Table[i] = c;
  }
  return true;
}();

int quoteSqlStr(lua_State* L) {
  size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '\'');
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    switch (c) {
      case '\0':
        luaL_addlstring(&b, "\\0", 2);
        break;
      case '\b':
        luaL_addlstring(&b, "\\b", 2);
        break;
      case '\n':
        luaL_addlstring(&b, "\\n", 2);
        break;
      case '\r':
        luaL_addlstring(&b, "\\r", 2);
        break;
      case '\t':
        luaL_addlstring(&b, "\\t", 2);
        break;
      case 26:
        luaL_addlstring(&b, "\\Z", 2);
        break;
      case '\\':
        luaL_addlstring(&b, "\\\\", 2);
        break;
      case '\'':
        luaL_addlstring(&b, "\\'", 2);
        break;
      case '"':
        luaL_addlstring(&b, "\\\"", 2);
        break;
      default:
        luaL_addchar(&b, c);
    }
  }
  luaL_addchar(&b, '\'');
  luaL_pushresult(&b);
  return 1;
}

// Pushes "key=value" (or "key" for true); returns false for false.
bool pushArg(lua_State* L, std::string_view key, int vidx) {
  int t = lua_type(L, vidx);
  if (t == LUA_TBOOLEAN) {
    if (!lua_toboolean(L, vidx)) return false;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    escapeUri(&b, key, true);
    luaL_pushresult(&b);
    return true;
  }
  if (t != LUA_TSTRING && t != LUA_TNUMBER) {
    luaL_error(L, "attempt to use %s as query arg value", lua_typename(L, t));
    return false;
  }
  lua_pushvalue(L, vidx);
  size_t vlen = 0;
  const char* v = lua_tolstring(L, -1, &vlen);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  escapeUri(&b, key, true);
  luaL_addchar(&b, '=');
  escapeUri(&b, {v, vlen}, true);
  luaL_pushresult(&b);
  lua_remove(L, -2);
  return true;
}

}  // namespace

void escapeUri(luaL_Buffer* b, std::string_view s, bool component) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    bool esc = escaped(component ? 2 : 0, c);
    if (!esc) {
      luaL_addchar(b, ch);
      continue;
    }
    luaL_addchar(b, '%');
    luaL_addchar(b, kHex[c >> 4]);
    luaL_addchar(b, kHex[c & 15]);
  }
}

void unescapeUri(luaL_Buffer* b, std::string_view s, bool plusAsSpace) {
  for (size_t i = 0; i < s.size(); i++) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int h = hexVal(s[i + 1]), l = hexVal(s[i + 2]);
      if (h >= 0 && l >= 0) {
        luaL_addchar(b, static_cast<char>(h * 16 + l));
        i += 2;
        continue;
      }
    }
    if (c == '+' && plusAsSpace) {
      luaL_addchar(b, ' ');
      continue;
    }
    luaL_addchar(b, c);
  }
}

int pushDecodedArgs(lua_State* L, std::string_view q, int max) {
  lua_createtable(L, 0, 4);
  int count = 0, left = 0;
  size_t i = 0;
  while (i <= q.size()) {
    size_t amp = q.find('&', i);
    if (amp == std::string_view::npos) amp = q.size();
    std::string_view part = q.substr(i, amp - i);
    i = amp + 1;
    if (part.empty()) {
      if (amp == q.size()) break;
      continue;
    }
    size_t eq = part.find('=');
    std::string_view k = eq == std::string_view::npos ? part : part.substr(0, eq);
    if (k.empty()) {
      if (amp == q.size()) break;
      continue;
    }
    if (max > 0 && count >= max) {
      left++;
      if (amp == q.size()) break;
      continue;
    }
    count++;
    luaL_Buffer kb;
    luaL_buffinit(L, &kb);
    unescapeUri(&kb, k, true);
    luaL_pushresult(&kb);
    if (eq == std::string_view::npos) {
      lua_pushboolean(L, 1);
    } else {
      luaL_Buffer vb;
      luaL_buffinit(L, &vb);
      unescapeUri(&vb, part.substr(eq + 1), true);
      luaL_pushresult(&vb);
    }
    // t[k] = v, or append to an array of values for repeated keys.
    lua_pushvalue(L, -2);
    lua_rawget(L, -4);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_rawset(L, -3);
    } else if (lua_istable(L, -1)) {
      lua_insert(L, -2);
      lua_rawseti(L, -2, static_cast<int>(lua_objlen(L, -2)) + 1);
      lua_pop(L, 2);
    } else {
      lua_createtable(L, 4, 0);
      lua_insert(L, -2);
      lua_rawseti(L, -2, 1);
      lua_insert(L, -2);
      lua_rawseti(L, -2, 2);
      lua_rawset(L, -3);
    }
    if (amp == q.size()) break;
  }
  return left;
}

void encodeArgs(lua_State* L, int idx) {
  // Pieces go to a table first: a luaL_Buffer must not be interleaved with
  // the lua_next traversal.
  lua_newtable(L);
  int parts = lua_gettop(L);
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      luaL_error(L, "attempt to use a %s as query arg key", luaL_typename(L, -2));
      return;
    }
    size_t klen = 0;
    const char* k = lua_tolstring(L, -2, &klen);
    if (lua_istable(L, -1)) {
      int m = static_cast<int>(lua_objlen(L, -1));
      for (int j = 1; j <= m; j++) {
        lua_rawgeti(L, -1, j);
        if (pushArg(L, {k, klen}, lua_gettop(L))) lua_rawseti(L, parts, ++n);
        lua_pop(L, 1);
      }
    } else if (pushArg(L, {k, klen}, lua_gettop(L))) {
      lua_rawseti(L, parts, ++n);
    }
    lua_pop(L, 1);
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&b, '&');
    lua_rawgeti(L, parts, i);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lua_remove(L, parts);
}

size_t unescapeUriTo(char* dst, std::string_view s, bool plusAsSpace) noexcept {
  char* d = dst;
  for (size_t i = 0; i < s.size(); i++) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int h = hexVal(s[i + 1]), l = hexVal(s[i + 2]);
      if (h >= 0 && l >= 0) {
        *d++ = static_cast<char>(h * 16 + l);
        i += 2;
        continue;
      }
    }
    *d++ = (c == '+' && plusAsSpace) ? ' ' : c;
  }
  return static_cast<size_t>(d - dst);
}

namespace {

// OpenSSL's low-level MD5_*/SHA1_* run the digest directly; the EVP route
// (even with a reused context and a fetched algorithm) costs a provider
// dispatch per step, which made ngx.md5("hello") slower than nginx's own
// MD5 (and OpenSSL 3's one-shot MD5()/SHA1() fetch the algorithm per call).
// They are deprecated in OpenSSL 3 only in favour of EVP, which is what we
// avoid here.
bool digestInto(const char* name, const char* s, size_t len, unsigned char* out) noexcept {
  if (name[0] == 'M') {
    MD5_CTX c;
    return MD5_Init(&c) == 1 && MD5_Update(&c, s, len) == 1 && MD5_Final(out, &c) == 1;
  }
  SHA_CTX c;
  return SHA1_Init(&c) == 1 && SHA1_Update(&c, s, len) == 1 && SHA1_Final(out, &c) == 1;
}

uint32_t crc32Of(const char* s, size_t len) noexcept {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < len; i++) {
    c = crc32Table[(c ^ static_cast<unsigned char>(s[i])) & 0xff] ^ (c >> 8);
  }
  return c ^ 0xffffffffu;
}

// Decodes base64 as nginx does: stops at the first '='; any other byte
// outside the alphabet fails, unless `mime` (then it is skipped, as MIME
// line breaks are). Returns false on invalid input.
bool decodeB64(const char* s, size_t len, char* dst, size_t* dlen, bool mime) noexcept {
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0, used = 0;
  char* d = dst;
  for (; n < len; n++) {
    auto c = static_cast<unsigned char>(s[n]);
    if (c == '=') break;
    int v = b64Val(c);
    if (v < 0) {
      if (mime) continue;
      return false;
    }
    used++;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *d++ = static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (used % 4 == 1) return false;
  *dlen = static_cast<size_t>(d - dst);
  return true;
}

}  // namespace

// ---- FFI (lua/resty/core/uri.lua, hash.lua, base64.lua) ----

extern "C" size_t lunet_ffi_uri_escaped_length(const char* src, size_t len, int type) noexcept {
  if (type < 0 || type > 6) type = 2;
  size_t n = len;
  for (size_t i = 0; i < len; i++) {
    if (escaped(type, static_cast<unsigned char>(src[i]))) n += 2;
  }
  return n;
}

extern "C" void lunet_ffi_escape_uri(const char* src, size_t len, char* dst, int type) noexcept {
  if (type < 0 || type > 6) type = 2;
  for (size_t i = 0; i < len; i++) {
    auto c = static_cast<unsigned char>(src[i]);
    if (!escaped(type, c)) {
      *dst++ = static_cast<char>(c);
      continue;
    }
    *dst++ = '%';
    *dst++ = kHex[c >> 4];
    *dst++ = kHex[c & 15];
  }
}

extern "C" size_t lunet_ffi_unescape_uri(const char* src, size_t len, char* dst) noexcept {
  return unescapeUriTo(dst, {src, len}, true);
}

// dst: 32 bytes (hex) / 16 (binary) / 20 (SHA-1). Return 1, or 0 if the
// digest failed.
extern "C" int lunet_ffi_md5(const char* src, size_t len, char* dst) noexcept {
  unsigned char out[16];
  if (!digestInto("MD5", src, len, out)) return 0;
  for (int i = 0; i < 16; i++) {
    dst[2 * i] = kHexLower[out[i] >> 4];
    dst[2 * i + 1] = kHexLower[out[i] & 15];
  }
  return 1;
}

extern "C" int lunet_ffi_md5_bin(const char* src, size_t len, unsigned char* dst) noexcept {
  return digestInto("MD5", src, len, dst) ? 1 : 0;
}

extern "C" int lunet_ffi_sha1_bin(const char* src, size_t len, unsigned char* dst) noexcept {
  return digestInto("SHA1", src, len, dst) ? 1 : 0;
}

// crc32_short and crc32_long differ in nginx only in speed for their sizes.
extern "C" unsigned int lunet_ffi_crc32(const char* src, size_t len) noexcept {
  return crc32Of(src, len);
}

extern "C" size_t lunet_ffi_encode_base64(const char* src, size_t len, char* dst,
                                          int noPadding) noexcept {
  auto* p = reinterpret_cast<const unsigned char*>(src);
  char* d = dst;
  size_t i = 0;
  for (; i + 2 < len; i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    *d++ = kB64[(v >> 18) & 63];
    *d++ = kB64[(v >> 12) & 63];
    *d++ = kB64[(v >> 6) & 63];
    *d++ = kB64[v & 63];
  }
  if (i < len) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (i + 1 < len) v |= uint32_t{p[i + 1]} << 8;
    *d++ = kB64[(v >> 18) & 63];
    *d++ = kB64[(v >> 12) & 63];
    if (i + 1 < len) {
      *d++ = kB64[(v >> 6) & 63];
    } else if (noPadding == 0) {
      *d++ = '=';
    }
    if (noPadding == 0) *d++ = '=';
  }
  return static_cast<size_t>(d - dst);
}

// Return 1 with *dlen set, 0 for invalid input.
extern "C" int lunet_ffi_decode_base64(const char* src, size_t len, char* dst,
                                       size_t* dlen) noexcept {
  return decodeB64(src, len, dst, dlen, false) ? 1 : 0;
}

extern "C" int lunet_ffi_decode_base64mime(const char* src, size_t len, char* dst,
                                           size_t* dlen) noexcept {
  return decodeB64(src, len, dst, dlen, true) ? 1 : 0;
}

void injectStringApi(lua_State* L) {
  (void)crcInit;
  const luaL_Reg fns[] = {{"encode_args", encodeArgsFn},
                          {"decode_args", decodeArgsFn},
                          {"hmac_sha1", hmacSha1},
                          {"quote_sql_str", quoteSqlStr},
                          {nullptr, nullptr}};
  for (const luaL_Reg* f = fns; f->name != nullptr; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
}

}  // namespace lunet::lua
