// ngx.location.capture and ngx.location.capture_multi: subrequests whose
// response (status, headers, body) is captured in memory and handed back to
// the Lua thread that issued them.
//
// The subrequests are created and adjusted (method, body, variables, ctx)
// first, all of them, so that a bad option raises before anything runs;
// then each one is started (http::startSubrequest runs its phases, Lua
// handlers included, nested in this call). If they all finished by then,
// the results are returned at once; otherwise the thread suspends on the
// capture's Wait (the one yield contract) and the last subrequest to finish
// queues the capture: the queue is resumed from Scheduler::defer, i.e. once
// the callback that finished the subrequest has unwound (resuming the
// parent there could end the main request under the subrequest's stack).
#include <cstring>

#include "core/time.h"
#include "http/core_module.h"
#include "http/variables.h"
#include "lua/api.h"
#include "lua/args.h"
#include "lua/context.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

struct CaptureState;

struct CaptureItem {
  http::Request* sr = nullptr;
  CaptureState* st = nullptr;
  int status = 0;
  bool truncated = false;
};

struct CaptureState {
  Wait wait;
  CaptureItem* items = nullptr;
  int n = 0;
  int pending = 0;
  bool suspended = false;
  // the ready queue (subrequests all done, the thread not resumed yet)
  CaptureState* prev = nullptr;
  CaptureState* next = nullptr;
  bool queued = false;
};

// Captures whose subrequests are all done, resumed from one deferred call.
// Per worker (one VM, one loop); a capture leaves it when resumed or when
// its thread is released (Wait::cancel).
CaptureState* gReady = nullptr;
bool gReadyArmed = false;

void unqueue(CaptureState* st) noexcept {
  if (!st->queued) return;
  if (st->prev != nullptr) {
    st->prev->next = st->next;
  } else {
    gReady = st->next;
  }
  if (st->next != nullptr) st->next->prev = st->prev;
  st->prev = st->next = nullptr;
  st->queued = false;
}

void pushResults(lua_State* L, CaptureState* st);

void runReady(void*) noexcept {
  gReadyArmed = false;
  Scheduler* s = Scheduler::tryGet();
  while (gReady != nullptr) {
    CaptureState* st = gReady;
    unqueue(st);
    if (s == nullptr) continue;
    lua_State* co = s->waiter(&st->wait);
    if (co == nullptr) continue;
    pushResults(co, st);
    s->resume(&st->wait, st->n);
  }
}

void cancelCapture(Wait* w) noexcept { unqueue(static_cast<CaptureState*>(w->data)); }

int onSubrequestDone(http::Request& sr, void* data, int rc) {
  auto* item = static_cast<CaptureItem*>(data);
  item->status = sr.headersOut.status;
  item->truncated = !sr.lastSeen;
  CaptureState* st = item->st;
  if (--st->pending == 0 && st->suspended && !st->queued) {
    st->queued = true;
    st->prev = nullptr;
    st->next = gReady;
    if (gReady != nullptr) gReady->prev = st;
    gReady = st;
    if (!gReadyArmed) {
      gReadyArmed = true;
      Scheduler::get().defer(runReady, nullptr);
    }
  }
  return rc;
}

// Sets t[name] = value, or appends to a table of values when it is set.
void addHeader(lua_State* L, std::string_view name, std::string_view value) {
  lua_pushlstring(L, name.data(), name.size());
  lua_pushvalue(L, -1);
  lua_rawget(L, -3);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushlstring(L, value.data(), value.size());
    lua_rawset(L, -3);
    return;
  }
  if (lua_istable(L, -1)) {
    lua_pushlstring(L, value.data(), value.size());
    lua_rawseti(L, -2, static_cast<int>(lua_objlen(L, -2)) + 1);
    lua_pop(L, 2);
    return;
  }
  lua_createtable(L, 4, 0);
  lua_insert(L, -2);
  lua_rawseti(L, -2, 1);
  lua_pushlstring(L, value.data(), value.size());
  lua_rawseti(L, -2, 2);
  lua_rawset(L, -3);
}

void pushHeaders(lua_State* L, http::Request& sr) {
  const http::HeadersOut& h = sr.headersOut;
  lua_createtable(L, 0, static_cast<int>(h.list.all().size()) + 2);
  bool haveLength = false, haveLocation = false;
  for (const http::Header& e : h.list.all()) {
    if (e.hash == 0) continue;
    if (http::ieq(e.name, "Content-Length")) haveLength = true;
    if (http::ieq(e.name, "Location")) haveLocation = true;
  }
  if (h.contentLength >= 0 && !haveLength) {
    lua_pushliteral(L, "Content-Length");
    lua_pushfstring(L, "%d", static_cast<int>(h.contentLength));
    if (h.contentLength > 0x7fffffff) {
      lua_pop(L, 1);
      char buf[24];
      int n = std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(h.contentLength));
      lua_pushlstring(L, buf, static_cast<size_t>(n));
    }
    lua_rawset(L, -3);
  }
  // As lua-nginx-module: the location's default_type when none was set.
  std::string_view type = h.contentType;
  if (type.empty() && sr.locConf != nullptr) type = *sr.clcf()->defaultType;
  if (!type.empty()) {
    lua_pushliteral(L, "Content-Type");
    if (h.charset.empty()) {
      lua_pushlstring(L, type.data(), type.size());
    } else {
      lua_pushfstring(L, "%s; charset=%s", std::string(type).c_str(),
                      std::string(h.charset).c_str());
    }
    lua_rawset(L, -3);
  }
  if (h.lastModified >= 0) {
    char tb[64];
    size_t n = core::formatHttpTime(h.lastModified, tb);
    lua_pushliteral(L, "Last-Modified");
    lua_pushlstring(L, tb, n);
    lua_rawset(L, -3);
  }
  if (!h.etag.empty()) addHeader(L, "ETag", h.etag);
  if (!h.location.empty() && !haveLocation) addHeader(L, "Location", h.location);
  for (const http::Header& e : h.list.all()) {
    if (e.hash == 0) continue;
    addHeader(L, e.name, e.value);
  }
}

void pushResults(lua_State* L, CaptureState* st) {
  for (int i = 0; i < st->n; i++) {
    CaptureItem& it = st->items[i];
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, it.status);
    lua_setfield(L, -2, "status");
    http::Buf* body = it.sr->capturedBody;
    if (body != nullptr && body->next == nullptr) {
      lua_pushlstring(L, body->data.data(), body->data.size());
    } else {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (http::Buf* x = body; x != nullptr; x = x->next) {
        luaL_addlstring(&b, x->data.data(), x->data.size());
      }
      luaL_pushresult(&b);
    }
    lua_setfield(L, -2, "body");
    pushHeaders(L, *it.sr);
    lua_setfield(L, -2, "header");
    lua_pushboolean(L, it.truncated ? 1 : 0);
    lua_setfield(L, -2, "truncated");
  }
}

// nginx's ngx_http_parse_unsafe_uri: no NUL, no ".." path segment, not
// empty, not only arguments.
bool unsafeUri(std::string_view u) {
  if (u.empty() || u[0] == '?') return true;
  if (u.size() >= 2 && u[0] == '.' && u[1] == '.' && (u.size() == 2 || u[2] == '/')) return true;
  for (size_t i = 0; i < u.size(); i++) {
    char c = u[i];
    if (c == '?') break;
    if (c == '\0') return true;
    if (c == '/' && i + 2 < u.size() && u[i + 1] == '.' && u[i + 2] == '.' &&
        (i + 3 == u.size() || u[i + 3] == '/' || u[i + 3] == '?')) {
      return true;
    }
  }
  return false;
}

struct MethodName {
  uint32_t bit;  // ngx.HTTP_* value
  uint32_t method;
  const char* name;
};

constexpr MethodName kMethods[] = {
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

const MethodName* findMethod(lua_Integer bit) {
  for (const MethodName& m : kMethods) {
    if (m.bit == bit) return &m;
  }
  return nullptr;
}

// One query after validation (values point into Lua strings that stay on
// the stack until the subrequests are created).
struct Query {
  std::string_view uri, args;
  const MethodName* method = nullptr;
  bool hasBody = false;
  std::string_view body;
  int varsIdx = 0;  // stack index of the vars table, 0: none
  int ctxIdx = 0;   // stack index of the ctx table, 0: none
  bool share = false, copy = false, forwardBody = false;
};

// Validates query i (its table is on the top of the stack) into q; pushes
// what must stay on the stack (the args string, vars and ctx tables).
void parseQuery(lua_State* L, int i, Query& q) {
  int qi = lua_gettop(L);
  if (!lua_istable(L, qi)) {
    luaL_error(L, "the query argument %d is not a table, but a %s", i, luaL_typename(L, qi));
  }
  int nargs = static_cast<int>(lua_objlen(L, qi));
  if (nargs != 1 && nargs != 2)
    luaL_error(L, "query argument %d expecting one or two arguments", i);
  lua_rawgeti(L, qi, 1);
  size_t ulen = 0;
  const char* uri = luaL_checklstring(L, -1, &ulen);
  q.uri = {uri, ulen};
  if (unsafeUri(q.uri)) luaL_error(L, "unsafe uri in argument #1: %s", uri);
  std::string_view extra;
  lua_rawgeti(L, qi, 2);
  int oi = lua_gettop(L);
  if (lua_istable(L, oi)) {
    lua_getfield(L, oi, "args");
    switch (lua_type(L, -1)) {
      case LUA_TNIL:
        break;
      case LUA_TSTRING:
      case LUA_TNUMBER: {
        size_t n = 0;
        const char* s = lua_tolstring(L, -1, &n);
        extra = {s, n};
        break;
      }
      case LUA_TTABLE: {
        encodeArgs(L, lua_gettop(L));
        size_t n = 0;
        const char* s = lua_tolstring(L, -1, &n);
        extra = {s, n};
        break;
      }
      default:
        luaL_error(L, "Bad args option value");
    }
    lua_getfield(L, oi, "vars");
    if (lua_istable(L, -1)) {
      q.varsIdx = lua_gettop(L);
      lua_pushnil(L);
      while (lua_next(L, q.varsIdx) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING) {
          luaL_error(L, "attempt to use a non-string key in the \"vars\" option table");
        }
        int t = lua_type(L, -1);
        if (t != LUA_TSTRING && t != LUA_TNUMBER) {
          luaL_error(L, "attempt to use bad variable value type %s", luaL_typename(L, -1));
        }
        lua_pop(L, 1);
      }
    } else if (!lua_isnil(L, -1)) {
      luaL_error(L, "Bad vars option value");
    }
    lua_getfield(L, oi, "share_all_vars");
    if (lua_isboolean(L, -1)) {
      q.share = lua_toboolean(L, -1) != 0;
    } else if (!lua_isnil(L, -1)) {
      luaL_error(L, "Bad share_all_vars option value");
    }
    lua_pop(L, 1);
    lua_getfield(L, oi, "copy_all_vars");
    if (lua_isboolean(L, -1)) {
      q.copy = lua_toboolean(L, -1) != 0;
    } else if (!lua_isnil(L, -1)) {
      luaL_error(L, "Bad copy_all_vars option value");
    }
    lua_pop(L, 1);
    lua_getfield(L, oi, "method");
    if (lua_isnumber(L, -1)) {
      lua_Integer m = lua_tointeger(L, -1);
      q.method = findMethod(m);
      if (q.method == nullptr) {
        RequestCtx* ctx = checkRequest(L);
        LUNET_LOG(ctx->r->log, core::Level::kError, 0, "unsupported HTTP method: %u",
                  static_cast<unsigned>(m));
        luaL_error(L, "failed to adjust the subrequest: -1");
      }
    } else if (!lua_isnil(L, -1)) {
      luaL_error(L, "Bad http request method");
    }
    lua_pop(L, 1);
    lua_getfield(L, oi, "ctx");
    if (lua_istable(L, -1)) {
      q.ctxIdx = lua_gettop(L);
    } else if (!lua_isnil(L, -1)) {
      luaL_error(L, "Bad ctx option value type %s, expected a Lua table", luaL_typename(L, -1));
    }
    lua_getfield(L, oi, "body");
    if (lua_isstring(L, -1)) {
      size_t n = 0;
      const char* s = lua_tolstring(L, -1, &n);
      q.body = {s, n};
      q.hasBody = true;
    } else if (!lua_isnil(L, -1)) {
      luaL_error(L, "Bad http request body");
    }
    lua_getfield(L, oi, "always_forward_body");
    q.forwardBody = lua_toboolean(L, -1) != 0;
    lua_pop(L, 1);
  } else if (!lua_isnil(L, oi)) {
    luaL_error(L, "expecting table as the 2nd argument for subrequest %d, but got %s", i,
               luaL_typename(L, oi));
  }
  // the uri's own arguments come first, then the args option's
  size_t qm = q.uri.find('?');
  std::string_view own;
  if (qm != std::string_view::npos) {
    own = q.uri.substr(qm + 1);
    q.uri = q.uri.substr(0, qm);
  }
  if (own.empty()) {
    q.args = extra;
  } else if (extra.empty()) {
    q.args = own;
  } else {
    lua_pushlstring(L, own.data(), own.size());
    lua_pushliteral(L, "&");
    lua_pushlstring(L, extra.data(), extra.size());
    lua_concat(L, 3);
    size_t n = 0;
    const char* s = lua_tolstring(L, -1, &n);
    q.args = {s, n};
  }
}

// The subrequest's own request headers (its list must not share storage
// with the parent's); with a body of its own, its Content-Length.
void copyHeaders(http::Request& sr, const http::Request& parent, bool ownBody, size_t bodyLen) {
  http::HeadersIn& h = sr.headersIn;
  h.list = http::HeaderList();
  for (const http::Header& e : parent.headersIn.list.all()) {
    if (e.hash == 0) continue;
    if (ownBody &&
        (http::ieq(e.name, "Content-Length") || http::ieq(e.name, "Transfer-Encoding"))) {
      continue;
    }
    h.list.add(sr.arena, e.name, e.value);
  }
  if (!ownBody) return;
  h.transferEncoding = nullptr;
  h.chunked = false;
  h.contentLength = nullptr;
  h.contentLengthN = -1;
  if (bodyLen == static_cast<size_t>(-1)) return;  // no body at all
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%zu", bodyLen);
  h.list.add(sr.arena, "Content-Length", sr.arena.dup({buf, static_cast<size_t>(n)}));
  h.contentLength = h.list.find("Content-Length");
  h.contentLengthN = static_cast<int64_t>(bodyLen);
}

// Applies q to the (not yet started) subrequest; false with a message
// pushed when a variable cannot be set.
bool adjust(lua_State* L, http::Request& r, http::Request& sr, const Query& q) {
  bool forward =
      q.forwardBody || (q.method != nullptr && (q.method->bit == 8 || q.method->bit == 16));
  if (q.hasBody) {
    http::setRequestBody(sr, r.main->arena.dup(q.body));
    copyHeaders(sr, r, true, q.body.size());
  } else if (forward) {
    copyHeaders(sr, r, false, 0);
  } else {
    http::setRequestBody(sr, {});
    copyHeaders(sr, r, true, static_cast<size_t>(-1));
  }
  size_t nv = http::indexedCount();
  if (q.share) {
    sr.variables = r.variables;
  } else if (q.copy && nv > 0) {
    std::memcpy(static_cast<void*>(sr.variables), r.variables, sizeof(http::Request::VarSlot) * nv);
  }
  if (q.ctxIdx != 0) {
    RequestCtx* sctx = RequestCtx::of(sr);
    lua_getfield(L, LUA_REGISTRYINDEX, "ngx_lua_ctx_tables");
    if (!lua_istable(L, -1)) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, LUA_REGISTRYINDEX, "ngx_lua_ctx_tables");
    }
    lua_pushvalue(L, q.ctxIdx);
    sctx->ctxRef = luaL_ref(L, -2);
    lua_pop(L, 1);
  }
  if (q.varsIdx != 0) {
    lua_pushnil(L);
    while (lua_next(L, q.varsIdx) != 0) {
      size_t kl = 0, vl = 0;
      const char* k = lua_tolstring(L, -2, &kl);
      lua_pushvalue(L, -1);  // tolstring on a number converts in place
      const char* v = lua_tolstring(L, -1, &vl);
      std::string_view name(k, kl);
      http::SetVarResult res = http::trySetVariable(sr, name, r.main->arena.dup({v, vl}));
      lua_pop(L, 2);
      if (res != http::SetVarResult::kOk) {
        if (res == http::SetVarResult::kNotChangeable) {
          LUNET_LOG(r.log, core::Level::kError, 0, "variable \"%.*s\" not changeable",
                    static_cast<int>(kl), k);
        } else {
          LUNET_LOG(r.log, core::Level::kError, 0,
                    "variable \"%.*s\" cannot be assigned a value (maybe you forgot to define it "
                    "first?) ",
                    static_cast<int>(kl), k);
        }
        lua_pop(L, 1);  // the key
        return false;
      }
    }
  }
  return true;
}

// Ends subrequests that were created but will not run (a later option
// failed): their parent stops waiting for them.
void drop(CaptureState* st, int upto) noexcept {
  for (int i = 0; i < upto; i++) {
    http::Request* sr = st->items[i].sr;
    sr->subrequestDone = nullptr;
    http::finalize(*sr, http::kError);
  }
}

// capture_multi's body; the queries table is at index 1.
int captureQueries(lua_State* L) {
  checkPhase(L, kRewrite | kAccess | kContent);
  RequestCtx* ctx = checkRequest(L);
  http::Request& r = *ctx->r;
  luaL_checktype(L, 1, LUA_TTABLE);
  int n = static_cast<int>(lua_objlen(L, 1));
  if (n == 0) return luaL_error(L, "at least one subrequest should be specified");
  Scheduler* s = Scheduler::tryGet();
  if (s == nullptr || !s->managed(L)) {
    return luaL_error(L, "attempt to yield across C-call boundary");
  }
  auto* queries = r.arena.array<Query>(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) {
    queries[i] = Query{};
    luaL_checkstack(L, 12, "too many subrequests");
    lua_rawgeti(L, 1, i + 1);
    parseQuery(L, i, queries[i]);
  }
  if (r.subrequestsLeft == 0) {
    LUNET_LOG(r.log, core::Level::kError, 0, "lua subrequests cycle while processing \"%.*s\"",
              static_cast<int>(queries[0].uri.size()), queries[0].uri.data());
    return luaL_error(L, "failed to issue subrequest: %d", http::kError);
  }
  auto* st = r.arena.make<CaptureState>();
  st->items = r.arena.array<CaptureItem>(static_cast<size_t>(n));
  st->n = n;
  st->wait.cancel = cancelCapture;
  st->wait.data = st;
  for (int i = 0; i < n; i++) {
    const Query& q = queries[i];
    CaptureItem& it = st->items[i];
    it = CaptureItem{};
    it.st = st;
    http::SubrequestOptions o;
    o.done = onSubrequestDone;
    o.data = &it;
    o.inMemory = true;
    o.logCycle = false;
    if (q.method != nullptr) {
      o.method = q.method->method;
      o.methodName = q.method->name;
    }
    it.sr = http::createSubrequest(r, q.uri, q.args, o);
    if (it.sr == nullptr) {
      drop(st, i);
      return luaL_error(L, "failed to issue subrequest: %d", http::kError);
    }
    if (!adjust(L, r, *it.sr, q)) {
      drop(st, i + 1);
      return luaL_error(L, "failed to adjust the subrequest: %d", 500);
    }
  }
  st->pending = n;
  for (int i = 0; i < n; i++) http::startSubrequest(*st->items[i].sr);
  if (http::requestFreed(r)) return luaL_error(L, "request closed");
  if (st->pending == 0) {
    lua_settop(L, 0);
    pushResults(L, st);
    return n;
  }
  st->suspended = true;
  return s->suspend(L, &st->wait);
}

int captureMulti(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 1) return luaL_error(L, "only one argument is expected, but got %d", n);
  return captureQueries(L);
}

int capture(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 1 && n != 2) return luaL_error(L, "expecting one or two arguments");
  lua_createtable(L, 1, 0);
  lua_createtable(L, 2, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  if (n == 2) {
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, 2);
  }
  lua_rawseti(L, -2, 1);
  lua_replace(L, 1);
  lua_settop(L, 1);
  return captureQueries(L);
}

}  // namespace

void injectSubrequestApi(lua_State* L) {
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, capture);
  lua_setfield(L, -2, "capture");
  lua_pushcfunction(L, captureMulti);
  lua_setfield(L, -2, "capture_multi");
  lua_setfield(L, -2, "location");
}

}  // namespace lunet::lua
