// ngx.req.*: method, URI and args, headers, body, raw header, times.
#include <cstring>

#include "http/connection.h"
#include "lua/api.h"
#include "lua/args.h"
#include "lua/context.h"
#include "lua/request_ctx.h"
#include "lua/scheduler.h"

namespace lunet::lua {

namespace {

constexpr uint32_t kReadPhases = kRequestPhases;
constexpr uint32_t kWritePhases =
    kSet | kRewrite | kAccess | kContent | kHeaderFilter | kBodyFilter | kBalancer;
constexpr uint32_t kBodyPhases = kRewrite | kAccess | kContent;

http::Request& req(lua_State* L, uint32_t phases) {
  checkPhase(L, phases);
  return *checkRequest(L)->r;
}

int getMethod(lua_State* L) {
  http::Request& r = req(L, kReadPhases);
  lua_pushlstring(L, r.methodName.data(), r.methodName.size());
  return 1;
}

struct MethodName {
  int ngxConst;
  uint32_t bit;
  const char* name;
};
const MethodName kMethods[] = {
    {2, http::kGet, "GET"},
    {4, http::kHead, "HEAD"},
    {8, http::kPost, "POST"},
    {16, http::kPut, "PUT"},
    {32, http::kDelete, "DELETE"},
    {64, http::kOtherMethod, "MKCOL"},
    {128, http::kOtherMethod, "COPY"},
    {256, http::kOtherMethod, "MOVE"},
    {512, http::kOptions, "OPTIONS"},
    {1024, http::kOtherMethod, "PROPFIND"},
    {2048, http::kOtherMethod, "PROPPATCH"},
    {4096, http::kOtherMethod, "LOCK"},
    {8192, http::kOtherMethod, "UNLOCK"},
    {16384, http::kPatch, "PATCH"},
    {32768, http::kTrace, "TRACE"},
};

int setMethod(lua_State* L) {
  http::Request& r = req(L, kWritePhases);
  lua_Integer m = luaL_checkinteger(L, 1);
  for (const MethodName& mn : kMethods) {
    if (mn.ngxConst != m) continue;
    r.method = mn.bit;
    r.methodName = mn.name;
    return 0;
  }
  return luaL_error(L, "unsupported HTTP method: %d", static_cast<int>(m));
}

int getUriArgs(lua_State* L) {
  http::Request& r = req(L, kReadPhases);
  int max = static_cast<int>(luaL_optinteger(L, 1, 100));
  int left = pushDecodedArgs(L, r.args, max);
  if (left > 0) {
    lua_pushliteral(L, "truncated");
    return 2;
  }
  return 1;
}

int setUriArgs(lua_State* L) {
  http::Request& r = req(L, kWritePhases);
  switch (lua_type(L, 1)) {
    case LUA_TSTRING:
    case LUA_TNUMBER: {
      size_t len = 0;
      const char* s = lua_tolstring(L, 1, &len);
      r.args = r.arena.dup({s, len});
      return 0;
    }
    case LUA_TTABLE: {
      encodeArgs(L, 1);
      size_t len = 0;
      const char* s = lua_tolstring(L, -1, &len);
      r.args = r.arena.dup({s, len});
      return 0;
    }
    default:
      return luaL_error(L, "bad argument #1 to 'set_uri_args' (string or table expected, got %s)",
                        luaL_typename(L, 1));
  }
}

int setUri(lua_State* L) {
  checkPhase(L, kSet | kRewrite | kAccess | kContent);
  RequestCtx* ctx = checkRequest(L);
  http::Request& r = *ctx->r;
  size_t len = 0;
  const char* uri = luaL_checklstring(L, 1, &len);
  if (len == 0) return luaL_error(L, "attempt to use zero-length uri");
  bool jump = lua_toboolean(L, 2);
  if (jump && current().phase != kRewrite) {
    return luaL_error(L, "API disabled in the context of %s", phaseContextName(current().phase));
  }
  r.uri = r.arena.dup({uri, len});
  r.plainUri = false;
  if (!jump) return 0;
  r.uriChanged = true;
  ctx->uriJump = true;
  ctx->exited = true;
  Scheduler* s = Scheduler::tryGet();
  if (s == nullptr || !s->managed(L))
    return luaL_error(L, "attempt to yield across C-call boundary");
  return s->exit(L);
}

int getHeaders(lua_State* L) {
  http::Request& r = req(L, kReadPhases);
  int max = static_cast<int>(luaL_optinteger(L, 1, 100));
  bool raw = lua_toboolean(L, 2);
  lua_createtable(L, 0, 8);
  int t = lua_gettop(L);
  int count = 0;
  bool truncated = false;
  for (const http::Header& h : r.headersIn.list.all()) {
    if (h.hash == 0) continue;
    if (max > 0 && count >= max) {
      truncated = true;
      break;
    }
    count++;
    pushLowerName(L, h.name, raw);
    lua_pushlstring(L, h.value.data(), h.value.size());
    addMulti(L, t);
  }
  if (!raw) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, headersNormalizingMeta());
    lua_setmetatable(L, t);
  }
  if (truncated) {
    lua_pushliteral(L, "truncated");
    return 2;
  }
  return 1;
}

// Re-points the HeadersIn shortcuts after the list changed.
void refreshHeadersIn(http::Request& r) {
  http::HeadersIn& in = r.headersIn;
  in.host = in.list.find("Host");
  in.contentType = in.list.find("Content-Type");
  in.userAgent = in.list.find("User-Agent");
  in.referer = in.list.find("Referer");
  in.cookie = in.list.find("Cookie");
  in.connection = in.list.find("Connection");
  in.contentLength = in.list.find("Content-Length");
  in.ifModifiedSince = in.list.find("If-Modified-Since");
  in.ifNoneMatch = in.list.find("If-None-Match");
  in.range = in.list.find("Range");
}

int setHeaderImpl(lua_State* L, int valueIdx) {
  http::Request& r = req(L, kWritePhases);
  size_t nlen = 0;
  const char* name = luaL_checklstring(L, 1, &nlen);
  std::string_view n = http::escapeHeaderName(r.arena, r.arena.dup({name, nlen}));
  r.headersIn.list.remove(n);
  int vt = valueIdx > 0 ? lua_type(L, valueIdx) : LUA_TNIL;
  if (vt == LUA_TSTRING || vt == LUA_TNUMBER) {
    size_t vl = 0;
    const char* v = lua_tolstring(L, valueIdx, &vl);
    r.headersIn.list.add(r.arena, n, http::escapeHeaderValue(r.arena, r.arena.dup({v, vl})));
  } else if (vt == LUA_TTABLE) {
    int cnt = static_cast<int>(lua_objlen(L, valueIdx));
    for (int i = 1; i <= cnt; i++) {
      lua_rawgeti(L, valueIdx, i);
      size_t vl = 0;
      const char* v = lua_tolstring(L, -1, &vl);
      if (v != nullptr) {
        r.headersIn.list.add(r.arena, n, http::escapeHeaderValue(r.arena, r.arena.dup({v, vl})));
      }
      lua_pop(L, 1);
    }
  } else if (vt != LUA_TNIL) {
    return luaL_error(L,
                      "bad argument #2 to 'set_header' (string, number, table or nil "
                      "expected, got %s)",
                      luaL_typename(L, valueIdx));
  }
  refreshHeadersIn(r);
  if (http::ieq(n, "Host") && r.headersIn.host != nullptr) {
    std::string_view h = r.headersIn.host->value;
    size_t colon = h.find(':');
    if (colon != std::string_view::npos) h = h.substr(0, colon);
    char* p = static_cast<char*>(r.arena.alloc(h.size(), 1));
    for (size_t i = 0; i < h.size(); i++) p[i] = (h[i] >= 'A' && h[i] <= 'Z') ? h[i] + 32 : h[i];
    r.headersIn.server = {p, h.size()};
  }
  if (http::ieq(n, "Content-Length")) {
    r.headersIn.contentLengthN = -1;
    if (r.headersIn.contentLength != nullptr) {
      int64_t v = 0;
      for (char c : r.headersIn.contentLength->value) {
        if (c >= '0' && c <= '9') v = v * 10 + (c - '0');
      }
      r.headersIn.contentLengthN = v;
    }
  }
  return 0;
}

int setHeader(lua_State* L) { return setHeaderImpl(L, 2); }
int clearHeader(lua_State* L) { return setHeaderImpl(L, 0); }

void onBodyRead(http::Request& r) {
  RequestCtx* ctx = RequestCtx::find(r);
  if (ctx == nullptr || !ctx->waitingBody || ctx->thread == nullptr) return;
  ctx->waitingBody = false;
  Scheduler::get().resume(ctx->thread, 0);
}

Wait gBodyWait{[](Wait* w) noexcept { static_cast<RequestCtx*>(w->data)->waitingBody = false; },
               nullptr};

int readBody(lua_State* L) {
  checkPhase(L, kBodyPhases);
  RequestCtx* ctx = checkRequest(L);
  http::Request& r = *ctx->r;
  if (r.body != nullptr && r.body->done) return 0;
  Scheduler* s = Scheduler::tryGet();
  if (s == nullptr || !s->managed(L) || s->currentEntry() != ctx->thread) {
    return luaL_error(L, "attempt to yield across C-call boundary");
  }
  ctx->waitingBody = false;
  int rc = http::readBody(r, onBodyRead);
  if (rc == http::kOk) return 0;
  if (rc == http::kAgain) {
    ctx->waitingBody = true;
    gBodyWait.data = ctx;
    return s->suspend(L, &gBodyWait);
  }
  // 413, 400, ...: finish the request with it, as lua-nginx-module does.
  ctx->exited = true;
  ctx->exitCode = rc >= 100 ? rc : http::kError;
  return s->exit(L);
}

// Pushes the whole in-memory body (or nil); false if it is (partly) in a file.
bool pushBody(lua_State* L, http::Request& r) {
  if (r.body == nullptr || r.body->bufs == nullptr) {
    lua_pushnil(L);
    return true;
  }
  size_t n = 0;
  for (http::Buf* b = r.body->bufs; b != nullptr; b = b->next) {
    if (b->file != nullptr) return false;
    n++;
  }
  if (n == 1) {
    lua_pushlstring(L, r.body->bufs->data.data(), r.body->bufs->data.size());
    return true;
  }
  luaL_Buffer buf;
  luaL_buffinit(L, &buf);
  for (http::Buf* b = r.body->bufs; b != nullptr; b = b->next) {
    luaL_addlstring(&buf, b->data.data(), b->data.size());
  }
  luaL_pushresult(&buf);
  return true;
}

int getBodyData(lua_State* L) {
  http::Request& r = req(L, kBodyPhases | kLog | kHeaderFilter | kBodyFilter);
  if (!pushBody(L, r)) lua_pushnil(L);
  return 1;
}

int getPostArgs(lua_State* L) {
  http::Request& r = req(L, kBodyPhases | kLog | kHeaderFilter | kBodyFilter);
  int max = static_cast<int>(luaL_optinteger(L, 1, 100));
  if (r.body == nullptr) {
    return luaL_error(L,
                      "no request body found; maybe you should turn on "
                      "lua_need_request_body?");
  }
  if (!pushBody(L, r)) {
    lua_pushnil(L);
    lua_pushliteral(L, "request body in temp file not supported");
    return 2;
  }
  size_t len = 0;
  const char* s = lua_isnil(L, -1) ? "" : lua_tolstring(L, -1, &len);
  int left = pushDecodedArgs(L, {s, len}, max);
  if (left > 0) {
    lua_pushliteral(L, "truncated");
    return 2;
  }
  return 1;
}

int discardBody(lua_State* L) {
  http::Request& r = req(L, kBodyPhases);
  http::discardBody(r);
  return 0;
}

int httpVersion(lua_State* L) {
  http::Request& r = req(L, kReadPhases);
  int v = r.httpVersion;
  if (v == 9) {
    lua_pushnumber(L, 0.9);
  } else {
    lua_pushnumber(L, static_cast<lua_Number>(v / 1000) + (v % 1000) / 10.0);
  }
  return 1;
}

int rawHeader(lua_State* L) {
  http::Request& r = req(L, kReadPhases);
  bool noRequestLine = lua_toboolean(L, 1);
  if (r.requestLine.empty()) {
    lua_pushliteral(L, "");
    return 1;
  }
  const char* start = r.requestLine.data();
  const char* limit = nullptr;
  if (r.conn != nullptr && r.conn->hbuf != nullptr && start >= r.conn->hbuf &&
      start < r.conn->hbuf + r.conn->hlen) {
    limit = r.conn->hbuf + r.conn->hlen;
  } else {
    limit = start + r.requestLine.size();
  }
  // The header ends at the first empty line.
  const char* end = limit;
  for (const char* p = start; p < limit; p++) {
    if (*p != '\n') continue;
    if (p + 1 < limit && p[1] == '\n') {
      end = p + 2;
      break;
    }
    if (p + 2 < limit && p[1] == '\r' && p[2] == '\n') {
      end = p + 3;
      break;
    }
  }
  if (noRequestLine) {
    const char* nl =
        static_cast<const char*>(std::memchr(start, '\n', static_cast<size_t>(end - start)));
    if (nl != nullptr) start = nl + 1;
  }
  lua_pushlstring(L, start, static_cast<size_t>(end - start));
  return 1;
}

int startTime(lua_State* L) {
  http::Request& r = req(L, kReadPhases);
  lua_pushnumber(L, static_cast<lua_Number>(r.startMsec) / 1000.0);
  return 1;
}

int isInternal(lua_State* L) {
  http::Request& r = req(L, kReadPhases);
  lua_pushboolean(L, r.internal);
  return 1;
}

}  // namespace

// ---- FFI (lua/resty/core/request.lua) ----

struct FfiTableElt {
  const char* key;
  size_t keyLen;
  const char* value;
  size_t valueLen;
};

extern "C" int lunet_ffi_req_get_headers_count(int max, int* truncated, const char** err) noexcept {
  RequestCtx* ctx = nullptr;
  int rc = ffiCheck(kReadPhases, &ctx, err);
  if (rc != kFfiOk) return rc;
  int n = 0;
  *truncated = 0;
  for (const http::Header& h : ctx->r->headersIn.list.all()) {
    if (h.hash == 0) continue;
    if (max > 0 && n >= max) {
      *truncated = 1;
      break;
    }
    n++;
  }
  return n;
}

extern "C" int lunet_ffi_req_get_headers(FfiTableElt* out, int count, int raw,
                                         const char** err) noexcept {
  RequestCtx* ctx = nullptr;
  int rc = ffiCheck(kReadPhases, &ctx, err);
  if (rc != kFfiOk) return rc;
  http::Request& r = *ctx->r;
  int i = 0;
  for (const http::Header& h : r.headersIn.list.all()) {
    if (h.hash == 0) continue;
    if (i >= count) break;
    FfiTableElt& e = out[i++];
    if (raw) {
      e.key = h.name.data();
    } else {
      char* p = static_cast<char*>(r.arena.alloc(h.name.size(), 1));
      for (size_t j = 0; j < h.name.size(); j++) {
        char c = h.name[j];
        p[j] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
      }
      e.key = p;
    }
    e.keyLen = h.name.size();
    e.value = h.value.data();
    e.valueLen = h.value.size();
  }
  return i;
}

void injectRequestApi(lua_State* L) {
  const luaL_Reg fns[] = {{"get_method", getMethod},
                          {"set_method", setMethod},
                          {"get_uri_args", getUriArgs},
                          {"set_uri_args", setUriArgs},
                          {"set_uri", setUri},
                          {"get_headers", getHeaders},
                          {"set_header", setHeader},
                          {"clear_header", clearHeader},
                          {"read_body", readBody},
                          {"get_body_data", getBodyData},
                          {"get_post_args", getPostArgs},
                          {"discard_body", discardBody},
                          {"http_version", httpVersion},
                          {"raw_header", rawHeader},
                          {"start_time", startTime},
                          {"is_internal", isInternal},
                          {nullptr, nullptr}};
  lua_createtable(L, 0, 24);
  for (const luaL_Reg* f = fns; f->name != nullptr; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  lua_setfield(L, -2, "req");
}

}  // namespace lunet::lua
