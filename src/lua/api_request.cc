// ngx.req.*: method, URI and args, headers, body, raw header, times.
#include <cstring>

#include "core/time.h"
#include "http/request.h"
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

}  // namespace

void setRequestHeader(http::Request& r, std::string_view name, const std::string_view* values,
                      size_t n) noexcept {
  // CR/LF (and in names ':' and space) escaped as lua-nginx-module does
  std::string_view nm = http::escapeHeaderName(r.arena, r.arena.dup(name));
  r.headersIn.list.remove(nm);
  for (size_t i = 0; i < n; i++) {
    r.headersIn.list.add(r.arena, nm, http::escapeHeaderValue(r.arena, r.arena.dup(values[i])));
  }
  refreshHeadersIn(r);
  if (http::ieq(nm, "Host") && r.headersIn.host != nullptr) {
    std::string_view h = r.headersIn.host->value;
    size_t colon = h.find(':');
    if (colon != std::string_view::npos) h = h.substr(0, colon);
    char* p = static_cast<char*>(r.arena.alloc(h.size(), 1));
    for (size_t i = 0; i < h.size(); i++) p[i] = (h[i] >= 'A' && h[i] <= 'Z') ? h[i] + 32 : h[i];
    r.headersIn.server = {p, h.size()};
  }
  if (http::ieq(nm, "Content-Length")) {
    r.headersIn.contentLengthN = -1;
    if (r.headersIn.contentLength != nullptr) {
      int64_t v = 0;
      for (char c : r.headersIn.contentLength->value) {
        if (c >= '0' && c <= '9') v = v * 10 + (c - '0');
      }
      r.headersIn.contentLengthN = v;
    }
  }
}

namespace {

void onBodyRead(http::Request& r) {
  RequestCtx* ctx = RequestCtx::find(r);
  if (ctx == nullptr || !ctx->waitingBody) return;
  ctx->waitingBody = false;
  Scheduler::get().resume(&ctx->bodyWait, 0);  // ignored if stale
}

void cancelBody(Wait* w) noexcept { static_cast<RequestCtx*>(w->data)->waitingBody = false; }

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
    ctx->bodyWait.cancel = cancelBody;
    ctx->bodyWait.data = ctx;
    return s->suspend(L, &ctx->bodyWait);
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
  std::string_view head = http::receivedHead(r);
  const char* start = head.data();
  const char* limit = start + head.size();
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

}  // namespace

// ---- FFI (lua/resty/core/request.lua) ----

struct FfiStr {
  const char* data;
  size_t len;
};

struct FfiTableElt {
  FfiStr key;
  FfiStr value;
};

namespace {

// The bit number of the method when lua/resty/core/request.lua knows its
// name by it (GET..TRACE: 1..8), else 0 (ask for the name).
int methodBit(const http::Request& r) noexcept {
  uint32_t m = r.method;
  if (m == 0 || m > http::kTrace) return 0;
  return __builtin_ctz(m);
}
static_assert(http::kGet == 1u << 1 && http::kHead == 1u << 2 && http::kPost == 1u << 3 &&
                  http::kPut == 1u << 4 && http::kDelete == 1u << 5 && http::kOptions == 1u << 6 &&
                  http::kPatch == 1u << 7 && http::kTrace == 1u << 8,
              "the method names by bit in lua/resty/core/request.lua");

// The arguments of a query string as pushDecodedArgs sees them: fn(key,
// value, hasValue) for each, until fn returns false.
template <typename Fn>
void forEachArg(std::string_view q, Fn&& fn) noexcept {
  size_t i = 0;
  while (i < q.size()) {
    size_t amp = q.find('&', i);
    if (amp == std::string_view::npos) amp = q.size();
    std::string_view part = q.substr(i, amp - i);
    i = amp + 1;
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view k = eq == std::string_view::npos ? part : part.substr(0, eq);
    if (k.empty()) continue;
    std::string_view v = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    if (!fn(k, v, eq != std::string_view::npos)) return;
  }
}

}  // namespace

int32_t runCtxMethod(const RequestCtx* req) noexcept {
  return req == nullptr ? kFfiBadContext : methodBit(*req->r);
}

extern "C" int lunet_ffi_req_get_method(void* r) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) return kFfiBadContext;
  return methodBit(*ctx->r);
}

extern "C" int lunet_ffi_req_get_method_name(void* r, const char** name, size_t* len) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) return kFfiBadContext;
  *name = ctx->r->methodName.data();
  *len = ctx->r->methodName.size();
  return kFfiOk;
}

extern "C" int lunet_ffi_req_set_method(void* r, int method) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) return kFfiBadContext;
  for (const MethodName& mn : kMethods) {
    if (mn.ngxConst != method) continue;
    ctx->r->method = mn.bit;
    ctx->r->methodName = mn.name;
    if (current().req == ctx) current().method = methodBit(*ctx->r);
    return kFfiOk;
  }
  return kFfiDeclined;
}

extern "C" int lunet_ffi_req_is_internal(void* r) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) return kFfiBadContext;
  return ctx->r->internal ? 1 : 0;
}

extern "C" double lunet_ffi_req_start_time(void* r) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  // the fake request of init_worker/timers starts now
  int64_t ms = ctx != nullptr ? ctx->r->startMsec : static_cast<int64_t>(core::nowMsec());
  return static_cast<double>(ms) / 1000.0;
}

// max < 0: the default (100); 0: no limit.
extern "C" int lunet_ffi_req_get_uri_args_count(void* r, int max, int* truncated) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) return kFfiBadContext;
  if (max < 0) max = 100;
  int n = 0;
  *truncated = 0;
  forEachArg(ctx->r->args, [&](std::string_view, std::string_view, bool) {
    if (max > 0 && n >= max) {
      *truncated = 1;
      return false;
    }
    n++;
    return true;
  });
  return n;
}

extern "C" size_t lunet_ffi_req_get_querystring_len(void* r) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  return ctx != nullptr ? ctx->r->args.size() : 0;
}

// Decodes the first `count` arguments into buf (querystring_len bytes) and
// out[]. Returns how many were filled.
extern "C" int lunet_ffi_req_get_uri_args(void* r, char* buf, FfiTableElt* out,
                                          int count) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) return kFfiBadContext;
  int n = 0;
  char* p = buf;
  forEachArg(ctx->r->args, [&](std::string_view k, std::string_view v, bool hasValue) {
    if (n >= count) return false;
    FfiTableElt& e = out[n++];
    e.key.data = p;
    e.key.len = unescapeUriTo(p, k, true);
    p += e.key.len;
    if (!hasValue) {  // the boolean true of an argument without '='
      e.value.data = nullptr;
      e.value.len = 0;
      return true;
    }
    e.value.data = p;
    e.value.len = unescapeUriTo(p, v, true);
    p += e.value.len;
    return true;
  });
  return n;
}

// max < 0: the default (100); 0: no limit. *namesLen: the bytes of the
// names counted (room for their lowercase forms).
extern "C" int lunet_ffi_req_get_headers_count(void* r, int max, int* truncated,
                                               size_t* namesLen) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) return kFfiBadContext;
  if (max < 0) max = 100;
  int n = 0;
  *truncated = 0;
  *namesLen = 0;
  for (const http::Header& h : ctx->r->headersIn.list.all()) {
    if (h.hash == 0) continue;
    if (max > 0 && n >= max) {
      *truncated = 1;
      break;
    }
    n++;
    *namesLen += h.name.size();
  }
  return n;
}

// Lowercase names (unless raw) go to lowbuf (namesLen bytes).
extern "C" int lunet_ffi_req_get_headers(void* r, FfiTableElt* out, int count, int raw,
                                         char* lowbuf) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) return kFfiBadContext;
  http::Request& req = *ctx->r;
  int i = 0;
  for (const http::Header& h : req.headersIn.list.all()) {
    if (h.hash == 0) continue;
    if (i >= count) break;
    FfiTableElt& e = out[i++];
    if (raw) {
      e.key.data = h.name.data();
    } else {
      for (size_t j = 0; j < h.name.size(); j++) {
        char c = h.name[j];
        lowbuf[j] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
      }
      e.key.data = lowbuf;
      lowbuf += h.name.size();
    }
    e.key.len = h.name.size();
    e.value.data = h.value.data();
    e.value.len = h.value.size();
  }
  return i;
}

// ngx.req.set_header / clear_header: value (or mvals[0..mlen) when value is
// null and mlen > 0); neither: the header is removed.
extern "C" int lunet_ffi_req_set_header(void* r, const char* name, size_t nlen, const char* value,
                                        size_t vlen, const FfiStr* mvals, size_t mlen,
                                        const char** err) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) {
    *err = "API disabled in the current context";
    return kFfiBadContext;
  }
  http::Request& req = *ctx->r;
  std::string_view* values = nullptr;
  size_t n = 0;
  if (value != nullptr) {
    values = req.arena.array<std::string_view>(1);
    values[n++] = {value, vlen};
  } else if (mlen > 0) {
    values = req.arena.array<std::string_view>(mlen);
    for (size_t i = 0; i < mlen; i++) values[n++] = {mvals[i].data, mvals[i].len};
  }
  setRequestHeader(req, {name, nlen}, values, n);
  return kFfiOk;
}

void injectRequestApi(lua_State* L) {
  const luaL_Reg fns[] = {{"set_uri_args", setUriArgs},
                          {"set_uri", setUri},
                          {"read_body", readBody},
                          {"get_body_data", getBodyData},
                          {"get_post_args", getPostArgs},
                          {"discard_body", discardBody},
                          {"http_version", httpVersion},
                          {"raw_header", rawHeader},
                          {nullptr, nullptr}};
  lua_createtable(L, 0, 24);
  for (const luaL_Reg* f = fns; f->name != nullptr; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  lua_setfield(L, -2, "req");
}

}  // namespace lunet::lua
