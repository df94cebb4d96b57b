// ngx.header.* (response headers) and ngx.resp.get_headers().
#include <cstring>

#include "core/time.h"
#include "lua/api.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

constexpr uint32_t kReadPhases = kRequestPhases;

// The header name as nginx will send it: underscores become dashes unless
// lua_transform_underscores_in_response_headers is off. Arena copy.
std::string_view headerName(RequestCtx* ctx, const char* k, size_t len) {
  http::Request& r = *ctx->r;
  const LuaLocConf* lc = r.loc<LuaLocConf>(luaModule());
  char* p = static_cast<char*>(r.arena.alloc(len, 1));
  bool transform = lc == nullptr || lc->transformUnderscores != 0;
  for (size_t i = 0; i < len; i++) p[i] = (transform && k[i] == '_') ? '-' : k[i];
  return {p, len};
}

int pushSpecial(lua_State* L, http::Request& r, std::string_view name, bool* handled) {
  http::HeadersOut& h = r.headersOut;
  *handled = true;
  if (http::ieq(name, "Content-Type")) {
    if (h.contentType.empty()) return 0;
    if (h.charset.empty()) {
      lua_pushlstring(L, h.contentType.data(), h.contentType.size());
    } else {
      lua_pushlstring(L, h.contentType.data(), h.contentType.size());
      lua_pushliteral(L, "; charset=");
      lua_pushlstring(L, h.charset.data(), h.charset.size());
      lua_concat(L, 3);
    }
    return 1;
  }
  if (http::ieq(name, "Content-Length")) {
    if (h.contentLength < 0) return 0;
    lua_pushfstring(L, "%d", static_cast<int>(h.contentLength));
    if (h.contentLength > 0x7fffffff) {
      lua_pop(L, 1);
      lua_pushstring(L, std::to_string(h.contentLength).c_str());
    }
    return 1;
  }
  if (http::ieq(name, "Location")) {
    if (h.location.empty()) {
      *handled = false;
      return 0;
    }
    lua_pushlstring(L, h.location.data(), h.location.size());
    return 1;
  }
  if (http::ieq(name, "Last-Modified")) {
    if (h.lastModified < 0) {
      *handled = false;
      return 0;
    }
    char buf[64];
    size_t n = core::formatHttpTime(h.lastModified, buf);
    lua_pushlstring(L, buf, n);
    return 1;
  }
  if (http::ieq(name, "ETag") && !h.etag.empty()) {
    lua_pushlstring(L, h.etag.data(), h.etag.size());
    return 1;
  }
  *handled = false;
  return 0;
}

// Sets response header `name` to values[0..n) (n == 0: clears it).
// Returns kFfiOk, or kFfiError with *err (a static or arena string).
int setHeader(RequestCtx* ctx, std::string_view name, const std::string_view* values, size_t n,
              const char** err) noexcept {
  http::Request& r = *ctx->r;
  if (r.headerSent && current().phase != kHeaderFilter) {
    ctx->log().error(core::Level::kError, 0,
                     "attempt to set ngx.header.HEADER after sending out response headers");
    return kFfiOk;
  }
  http::HeadersOut& h = r.headersOut;
  // Response splitting: CR/LF and friends are escaped, silently, as
  // lua-nginx-module does.
  name = http::escapeHeaderName(r.arena, name);
  std::string_view* escaped = nullptr;
  for (size_t i = 0; i < n; i++) {
    std::string_view v = http::escapeHeaderValue(r.arena, values[i]);
    if (v.data() == values[i].data() && escaped == nullptr) continue;
    if (escaped == nullptr) {
      escaped = r.arena.array<std::string_view>(n);
      for (size_t j = 0; j < n; j++) escaped[j] = values[j];
    }
    escaped[i] = v;
  }
  if (escaped != nullptr) values = escaped;
  bool clear = n == 0;
  // Single-valued headers keep the last value of a table.
  std::string_view single = clear ? std::string_view() : values[n - 1];
  if (http::ieq(name, "Content-Type")) {
    h.contentType = single;
    h.charset = {};
    ctx->mimeSet = true;
    return kFfiOk;
  }
  if (http::ieq(name, "Content-Length")) {
    h.list.remove("Content-Length");
    if (clear) {
      h.contentLength = -1;
      return kFfiOk;
    }
    int64_t v = 0;
    for (char c : single) {
      if (c < '0' || c > '9') {
        *err = "failed to set header";
        return kFfiError;
      }
      v = v * 10 + (c - '0');
    }
    h.contentLength = v;
    return kFfiOk;
  }
  if (http::ieq(name, "Location")) {
    // A plain header, as lua-nginx-module keeps it: a Location without a
    // host is sent as given (only nginx's own redirects are made absolute).
    h.location = {};
  }
  if (http::ieq(name, "Last-Modified")) {
    h.list.remove("Last-Modified");
    h.lastModified = -1;
    if (clear) return kFfiOk;
    time_t t = core::parseHttpTime(single);
    if (t != -1) {
      h.lastModified = t;
      return kFfiOk;
    }
  }
  if (http::ieq(name, "ETag")) h.etag = {};
  h.list.remove(name);
  for (size_t i = 0; i < n; i++) h.list.add(r.arena, name, values[i]);
  return kFfiOk;
}

}  // namespace

// Sets t[key] = value, turning repeated keys into arrays. key and value on
// the stack top (key below value); pops both.
void addMulti(lua_State* L, int t) {
  lua_pushvalue(L, -2);
  lua_rawget(L, t);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_rawset(L, t);
    return;
  }
  if (lua_istable(L, -1)) {
    lua_insert(L, -2);
    lua_rawseti(L, -2, static_cast<int>(lua_objlen(L, -2)) + 1);
    lua_pop(L, 2);
    return;
  }
  lua_createtable(L, 4, 0);
  lua_insert(L, -2);
  lua_rawseti(L, -2, 1);
  lua_insert(L, -2);
  lua_rawseti(L, -2, 2);
  lua_rawset(L, t);
}

void pushLowerName(lua_State* L, std::string_view name, bool raw) {
  if (raw) {
    lua_pushlstring(L, name.data(), name.size());
    return;
  }
  char buf[256];
  if (name.size() <= sizeof(buf)) {
    for (size_t i = 0; i < name.size(); i++) {
      char c = name[i];
      buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
    lua_pushlstring(L, buf, name.size());
    return;
  }
  lua_pushlstring(L, name.data(), name.size());
  lua_getfield(L, -1, "lower");
  lua_insert(L, -2);
  lua_call(L, 1, 1);
}

namespace {

int gNormMetaRef = LUA_NOREF;

int respGetHeaders(lua_State* L) {
  checkPhase(L, kReadPhases);
  RequestCtx* ctx = checkRequest(L);
  int max = static_cast<int>(luaL_optinteger(L, 1, 100));
  bool raw = lua_toboolean(L, 2);
  http::Request& r = *ctx->r;
  http::HeadersOut& h = r.headersOut;
  lua_createtable(L, 0, 8);
  int t = lua_gettop(L);
  int count = 0;
  bool truncated = false;
  auto room = [&]() {
    if (max > 0 && count >= max) {
      truncated = true;
      return false;
    }
    count++;
    return true;
  };
  if (!h.contentType.empty() && room()) {
    pushLowerName(L, "Content-Type", raw);
    bool handled = false;
    pushSpecial(L, r, "Content-Type", &handled);
    addMulti(L, t);
  }
  if (h.contentLength >= 0 && room()) {
    pushLowerName(L, "Content-Length", raw);
    bool handled = false;
    pushSpecial(L, r, "Content-Length", &handled);
    addMulti(L, t);
  }
  // The headers nginx generates itself, as lua-nginx-module reports them.
  if (room()) {
    pushLowerName(L, "Connection", raw);
    if (h.status == 101) {
      lua_pushliteral(L, "upgrade");
    } else if (r.keepAlive && r.headersIn.keepAlive) {
      lua_pushliteral(L, "keep-alive");
    } else {
      lua_pushliteral(L, "close");
    }
    addMulti(L, t);
  }
  if (r.chunkedOut && room()) {
    pushLowerName(L, "Transfer-Encoding", raw);
    lua_pushliteral(L, "chunked");
    addMulti(L, t);
  }
  if (!h.location.empty() && room()) {
    pushLowerName(L, "Location", raw);
    lua_pushlstring(L, h.location.data(), h.location.size());
    addMulti(L, t);
  }
  for (const http::Header& hd : h.list.all()) {
    if (hd.hash == 0) continue;
    if (!room()) break;
    pushLowerName(L, hd.name, raw);
    lua_pushlstring(L, hd.value.data(), hd.value.size());
    addMulti(L, t);
  }
  if (!raw) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, gNormMetaRef);
    lua_setmetatable(L, t);
  }
  if (truncated) {
    lua_pushliteral(L, "truncated");
    return 2;
  }
  return 1;
}

// __index of header tables: t.Foo_Bar finds t["foo-bar"].
const char kNormIndex[] =
    "local rawget, lower, gsub = rawget, string.lower, string.gsub\n"
    "return { __index = function(t, k)\n"
    "  if type(k) ~= 'string' then return nil end\n"
    "  local v = rawget(t, lower(k)) if v ~= nil then return v end\n"
    "  return rawget(t, (gsub(lower(k), '_', '-')))\n"
    "end }\n";

}  // namespace

int headersNormalizingMeta() { return gNormMetaRef; }

// ---- FFI (lua/resty/core/response.lua) ----

namespace {

struct FfiStr {
  const char* data;
  size_t len;
};

// name == key after lua_transform_underscores_in_response_headers, ignoring
// case (no copy: reads run on every ngx.header.X).
bool headerNameIs(std::string_view name, const char* key, size_t len, bool transform) noexcept {
  if (name.size() != len) return false;
  for (size_t i = 0; i < len; i++) {
    char a = name[i], b = key[i];
    if (transform && b == '_') b = '-';
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a + 32);
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b + 32);
    if (a != b) return false;
  }
  return true;
}

}  // namespace

// ngx.header.NAME: fills values[0..max) and returns their count (0: unset).
extern "C" int lunet_ffi_get_resp_header(void* r, const char* key, size_t len, FfiStr* values,
                                         int max, const char** err) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) {
    *err = "API disabled in the current context";
    return kFfiBadContext;
  }
  http::Request& req = *ctx->r;
  http::HeadersOut& h = req.headersOut;
  const LuaLocConf* lc = req.loc<LuaLocConf>(luaModule());
  bool transform = lc == nullptr || lc->transformUnderscores != 0;
  auto is = [&](std::string_view name) { return headerNameIs(name, key, len, transform); };
  auto one = [&](std::string_view v) {
    values[0] = {v.data(), v.size()};
    return 1;
  };
  if (is("Content-Type")) {
    if (h.contentType.empty()) return 0;
    if (h.charset.empty()) return one(h.contentType);
    static constexpr std::string_view kCharset = "; charset=";
    size_t n = h.contentType.size() + kCharset.size() + h.charset.size();
    char* p = static_cast<char*>(req.arena.alloc(n, 1));
    std::memcpy(p, h.contentType.data(), h.contentType.size());
    std::memcpy(p + h.contentType.size(), kCharset.data(), kCharset.size());
    std::memcpy(p + h.contentType.size() + kCharset.size(), h.charset.data(), h.charset.size());
    return one({p, n});
  }
  if (is("Content-Length")) {
    if (h.contentLength < 0) return 0;
    char* p = static_cast<char*>(req.arena.alloc(24, 1));
    char* e = p + 24;
    char* q = e;
    int64_t v = h.contentLength;
    do {
      *--q = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v > 0);
    return one({q, static_cast<size_t>(e - q)});
  }
  if (is("Location") && !h.location.empty()) return one(h.location);
  if (is("Last-Modified") && h.lastModified >= 0) {
    char* p = static_cast<char*>(req.arena.alloc(64, 1));
    return one({p, core::formatHttpTime(h.lastModified, p)});
  }
  if (is("ETag") && !h.etag.empty()) return one(h.etag);
  int n = 0;
  for (const http::Header& hd : h.list.all()) {
    if (hd.hash == 0 || !is(hd.name)) continue;
    if (n >= max) break;
    values[n++] = {hd.value.data(), hd.value.size()};
  }
  return n;
}

// ngx.header.NAME = value: sval (or mvals[0..mlen) when sval is null), or
// clears it when isNil. override == 0 adds to the existing values instead
// (ngx.resp.add_header).
extern "C" int lunet_ffi_set_resp_header(void* r, const char* key, size_t len, int isNil,
                                         const char* sval, size_t slen, const FfiStr* mvals,
                                         size_t mlen, int override, const char** err) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) {
    *err = "API disabled in the current context";
    return kFfiBadContext;
  }
  http::Request& req = *ctx->r;
  std::string_view name = headerName(ctx, key, len);
  size_t n = 0;
  std::string_view* values = nullptr;
  if (isNil == 0) {
    size_t old = 0;
    if (override == 0) {
      for (const http::Header& hd : req.headersOut.list.all()) {
        if (hd.hash != 0 && http::ieq(hd.name, name)) old++;
      }
    }
    values = req.arena.array<std::string_view>(old + (sval != nullptr ? 1 : mlen) + 1);
    if (override == 0) {
      for (const http::Header& hd : req.headersOut.list.all()) {
        if (hd.hash != 0 && http::ieq(hd.name, name)) values[n++] = hd.value;
      }
    }
    if (sval != nullptr) {
      values[n++] = req.arena.dup({sval, slen});
    } else {
      for (size_t i = 0; i < mlen; i++) values[n++] = req.arena.dup({mvals[i].data, mvals[i].len});
    }
    // an empty table clears the header, as nil does
  }
  return setHeader(ctx, name, values, n, err);
}

void injectHeadersApi(lua_State* L) {
  if (luaL_loadbuffer(L, kNormIndex, sizeof(kNormIndex) - 1, "=ngx.headers") == 0 &&
      lua_pcall(L, 0, 1, 0) == 0) {
    gNormMetaRef = luaL_ref(L, LUA_REGISTRYINDEX);
  } else {
    lua_pop(L, 1);
  }
  // (ngx.header: lua/resty/core/response.lua)
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, respGetHeaders);
  lua_setfield(L, -2, "get_headers");
  lua_setfield(L, -2, "resp");
}

}  // namespace lunet::lua
