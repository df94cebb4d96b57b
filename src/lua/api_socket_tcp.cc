// ngx.socket.tcp / ngx.socket.connect: the TCP (and stream unix-domain)
// cosocket of lua-nginx-module, on src/net/ (connect, keepalive pool,
// resolver) and the scheduler's yield contract (Scheduler::suspendFor: every
// connect, send and receive races its own timeout).
//
// The Lua object is lua-nginx-module's shape: a table (methods through its
// metatable) whose [1] is a userdata holding the TcpSocket. The TcpSocket
// belongs to the owner that created it (request or timer): used by another
// one it raises "bad request"; when the owner ends, its connection is closed
// (never pooled); when the userdata is collected, the fd is closed.
//
// Error rules as lua-nginx-module: a read timeout leaves the connection
// open; every other error closes it and later calls return nil, "closed".
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <string>

#include "lua/api.h"
#include "lua/context.h"
#include "lua/request_ctx.h"
#include "lua/scheduler.h"
#include "lua/socket.h"
#include "lua/vm.h"
#include "net/connect.h"
#include "net/pool.h"

namespace lunet::lua {

namespace {

constexpr char kTcpMethods[] = "lunet.socket.tcp";       // registry: methods metatable
constexpr char kTcpUdataMeta[] = "lunet.socket.tcp.ud";  // registry: userdata metatable

struct TcpSocket;

// A write in flight: its bytes and the socket, which may go first.
struct WriteReq {
  TcpSocket* sock = nullptr;
  std::string data;
  size_t total = 0;  // bytes the send() call returns
};

struct TcpSocket final : OwnedObject, net::ClientConnection::User {
  enum class Op : uint8_t { kNone, kConnect, kRead, kWrite };
  enum class Mode : uint8_t { kLine, kAll, kSize, kAny, kUntil };

  net::ClientConnection* conn = nullptr;
  net::Connect* connecting = nullptr;
  net::KeepalivePool::Waiter waiter;
  WriteReq* writing = nullptr;
  Op op = Op::kNone;
  Wait wait;
  // While an operation is pending the socket's table is pinned in the
  // registry: the Wait lives here, so the socket must not be collected
  // before the operation ends.
  int pinRef = LUA_NOREF;
  void pin(lua_State* L) noexcept {
    lua_pushvalue(L, 1);
    pinRef = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  void endOp() noexcept { op = Op::kNone; }
  // After the results are pushed (pushing may run the GC).
  void unpin() noexcept {
    if (pinRef == LUA_NOREF) return;
    if (Vm* vm = currentVm(); vm != nullptr) luaL_unref(vm->state(), LUA_REGISTRYINDEX, pinRef);
    pinRef = LUA_NOREF;
  }

  // Timeouts (ms) and the rest of lua_socket_* as of creation.
  uint64_t connectTimeout = 0, sendTimeout = 0, readTimeout = 0;
  size_t bufferSize = 4096;
  size_t defaultPoolSize = 30;
  uint64_t keepaliveTimeout = 60000;
  bool logErrors = true;
  const core::Log* log = nullptr;

  // The connect in progress (and the pool of the connection).
  std::string poolKey;
  std::string peerText;      // for the connect timeout log line
  size_t poolSize = 0;       // from connect's opts (0: not given)
  bool slotCounted = false;  // the pool counts the connect in progress
  net::Target target;

  // Read buffer: bytes [start, end) unread.
  std::unique_ptr<char[]> buf;
  size_t cap = 0, start = 0, end = 0;
  bool eof = false;      // the peer closed its side (after a successful *a)
  bool created = false;  // connect() was called (lua-resty-core's sock[1] exists)
  bool zombie = false;   // failConn() happened, close() not called yet
  uint32_t zombieReused = 0;

  // The read in progress.
  Mode mode = Mode::kLine;
  size_t want = 0;     // kSize, kAny, kUntil with a size (0: none)
  size_t scanned = 0;  // bytes from start already searched
  std::string pattern;
  bool inclusive = false;
  bool* untilDone = nullptr;  // the iterator's state (its upvalue userdata)
  std::string sendBuf;        // a table argument of send(), flattened

  size_t avail() const noexcept { return end - start; }
  const char* data() const noexcept { return buf.get() + start; }
  void consume(size_t n) noexcept {
    start += n;
    scanned = scanned > n ? scanned - n : 0;
    if (start == end) start = end = scanned = 0;
  }

  void closeConn() noexcept {
    if (conn == nullptr) return;
    net::KeepalivePool::get().closing(conn);
    conn->close();
    conn = nullptr;
    start = end = scanned = 0;
    eof = false;
  }
  // After an error other than a read timeout: the connection goes, but the
  // socket stays "open" for close() (which then returns 1, as in
  // lua-nginx-module) and getreusedtimes().
  void failConn() noexcept {
    if (conn == nullptr) return;
    zombieReused = conn->reusedTimes;
    closeConn();
    zombie = true;
  }
  void stopOp() noexcept;
  // Closes everything (owner ended, collected).
  void shutdown() noexcept {
    stopOp();
    closeConn();
    unpin();
  }

  // ClientConnection::User
  uv_buf_t readBuffer() noexcept override {
    if (cap - end < bufferSize / 2 + 1) {
      if (start > 0) {
        memmove(buf.get(), buf.get() + start, end - start);
        end -= start;
        start = 0;
      }
      if (cap - end < bufferSize / 2 + 1) {
        size_t ncap = cap == 0 ? bufferSize : cap * 2;
        auto nb = std::make_unique<char[]>(ncap);
        if (end > 0) memcpy(nb.get(), buf.get(), end);
        buf = std::move(nb);
        cap = ncap;
      }
    }
    return uv_buf_init(buf.get() + end, static_cast<unsigned>(cap - end));
  }
  void onRead(ssize_t nread) noexcept override;

 protected:
  void ownerEnded() noexcept override {
    shutdown();
    log = &core::processLog();  // the owner's log goes with it
  }
};

void TcpSocket::stopOp() noexcept {
  switch (op) {
    case Op::kConnect:
      if (connecting != nullptr) {
        connecting->cancel();
        connecting = nullptr;
        if (slotCounted) net::KeepalivePool::get().failed(poolKey);
        slotCounted = false;
      } else {
        net::KeepalivePool::get().leave(&waiter);
      }
      break;
    case Op::kRead:
      if (conn != nullptr) conn->stream().readStop();
      break;
    case Op::kWrite:
      if (writing != nullptr) {
        writing->sock = nullptr;  // its callback frees it
        writing = nullptr;
      }
      failConn();  // a send that does not finish leaves the stream unusable
      break;
    case Op::kNone:
      break;
  }
  endOp();
}

void cancelWait(Wait* w) noexcept { static_cast<TcpSocket*>(w->data)->stopOp(); }

const char* opName(TcpSocket::Op op) {
  switch (op) {
    case TcpSocket::Op::kConnect:
      return "connecting";
    case TcpSocket::Op::kRead:
      return "reading";
    case TcpSocket::Op::kWrite:
      return "writing";
    default:
      return "";
  }
}

// ---- the Lua object ----

struct SockBox {
  TcpSocket* sock;
};

int sockGc(lua_State* L) {
  auto* box = static_cast<SockBox*>(lua_touserdata(L, 1));
  if (box != nullptr && box->sock != nullptr) {
    TcpSocket* s = box->sock;
    box->sock = nullptr;
    s->pinRef = LUA_NOREF;  // collected while pinned: the VM is closing
    s->shutdown();
    s->detach();
    delete s;
  }
  return 0;
}

// The socket of method call `self` (argument 1), checked against the
// running phase and owner. Raises on misuse.
TcpSocket* checkSock(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  checkPhase(L, kYieldable);
  lua_rawgeti(L, 1, 1);
  auto* box = static_cast<SockBox*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  if (box == nullptr || box->sock == nullptr) luaL_error(L, "bad tcp socket");
  TcpSocket* s = box->sock;
  // A socket whose owner ended is closed (its calls answer "closed", as in
  // lua-nginx-module); one of another live owner may not be touched.
  if (!s->dead() && s->owner() != current().owner) luaL_error(L, "bad request");
  return s;
}

int closedError(lua_State* L, TcpSocket* s, const char* what) {
  if (s->logErrors) {
    s->log->error(core::Level::kError, 0,
                  "attempt to %s data on a closed socket: u:%p, c:%p, ft:0 eof:%d", what,
                  static_cast<void*>(s), static_cast<void*>(s->conn), s->eof ? 1 : 0);
  }
  lua_pushnil(L);
  lua_pushliteral(L, "closed");
  return 2;
}

int busy(lua_State* L, TcpSocket* s) {
  lua_pushnil(L);
  lua_pushfstring(L, "socket busy %s", opName(s->op));
  return 2;
}

Scheduler* scheduler(lua_State* L) {
  Scheduler* sch = Scheduler::tryGet();
  if (sch == nullptr || !sch->managed(L)) luaL_error(L, "attempt to yield across C-call boundary");
  return sch;
}

// ngx.socket.tcp()
int tcpNew(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 0) return luaL_error(L, "expecting zero arguments, but got %d", n);
  checkPhase(L, kYieldable);
  Owner* owner = current().owner;
  if (owner == nullptr) return luaL_error(L, "no request found");
  const SocketConf& sc = currentSocketConf();
  lua_createtable(L, 1, 0);
  auto* box = static_cast<SockBox*>(lua_newuserdata(L, sizeof(SockBox)));
  box->sock = nullptr;
  lua_getfield(L, LUA_REGISTRYINDEX, kTcpUdataMeta);
  lua_setmetatable(L, -2);
  auto* s = new TcpSocket;
  box->sock = s;
  s->wait.data = s;
  s->wait.cancel = cancelWait;
  s->waiter.data = s;
  s->connectTimeout = static_cast<uint64_t>(sc.connectTimeout);
  s->sendTimeout = static_cast<uint64_t>(sc.sendTimeout);
  s->readTimeout = static_cast<uint64_t>(sc.readTimeout);
  s->bufferSize = static_cast<size_t>(sc.bufferSize > 0 ? sc.bufferSize : 4096);
  s->defaultPoolSize = static_cast<size_t>(sc.poolSize > 0 ? sc.poolSize : 30);
  s->keepaliveTimeout = static_cast<uint64_t>(sc.keepaliveTimeout);
  s->logErrors = sc.logErrors != 0;
  s->log = &owner->log();
  owner->adopt(s);
  lua_rawseti(L, -2, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, kTcpMethods);
  lua_setmetatable(L, -2);
  return 1;
}

// ---- connect ----

// Pushes the connect results once the thread is resumed.
void connectDone(TcpSocket* s, net::ClientConnection* c, const std::string& err,
                 int sysErr) noexcept {
  Scheduler& sch = Scheduler::get();
  s->connecting = nullptr;
  s->endOp();
  lua_State* co = sch.waiter(&s->wait);
  if (c == nullptr) {
    if (s->slotCounted) net::KeepalivePool::get().failed(s->poolKey);
    s->slotCounted = false;
    if (s->logErrors && sysErr != 0) {
      if (s->target.isUnix()) {
        s->log->error(core::Level::kCrit, -sysErr, "connect() to unix:%s failed",
                      s->target.path.c_str());
      } else {
        s->log->error(core::Level::kError, -sysErr, "connect() failed");
      }
    }
    if (co == nullptr) {
      s->unpin();
      return;
    }
    lua_pushnil(co);
    lua_pushlstring(co, err.data(), err.size());
    s->unpin();
    sch.resume(&s->wait, 2);
    return;
  }
  if (s->slotCounted) {
    net::KeepalivePool::get().counted(s->poolKey, c);
  } else {
    c->poolKey = s->poolKey;
  }
  s->slotCounted = false;
  s->conn = c;
  c->setUser(s);
  if (co == nullptr) {
    s->unpin();
    return;
  }
  lua_pushinteger(co, 1);
  s->unpin();
  sch.resume(&s->wait, 1);
}

void onConnected(void* data, net::ClientConnection* c, const std::string& err,
                 int sysErr) noexcept {
  connectDone(static_cast<TcpSocket*>(data), c, err, sysErr);
}

// A queued connect (backlog) got its turn.
void onWoken(net::KeepalivePool::Waiter* w, net::ClientConnection* c) noexcept {
  auto* s = static_cast<TcpSocket*>(w->data);
  if (c != nullptr) {  // an idle connection handed over
    connectDone(s, c, std::string(), 0);
    return;
  }
  std::string err;
  int sysErr = 0;
  s->slotCounted = true;  // the pool reserved the slot for this connect
  s->connecting = net::Connect::start(s->target, onConnected, s, &err, &sysErr);
  if (s->connecting == nullptr) connectDone(s, nullptr, err, sysErr);
}

int onConnectTimeout(Wait* w, lua_State* co) noexcept {
  auto* s = static_cast<TcpSocket*>(w->data);
  if (s->logErrors) {
    s->log->error(core::Level::kError, 0, "lua tcp socket connect timed out, when connecting to %s",
                  s->peerText.c_str());
  }
  lua_pushnil(co);
  lua_pushliteral(co, "timeout");
  s->unpin();
  return 2;
}

int sockConnect(lua_State* L) {
  int n = lua_gettop(L);
  if (n < 2 || n > 4) {
    return luaL_error(L,
                      "ngx.socket connect: expecting 2, 3, or 4 arguments (including the "
                      "object), but seen %d",
                      n);
  }
  TcpSocket* s = checkSock(L);
  if (s->dead()) return luaL_error(L, "bad request");
  size_t hlen = 0;
  const char* host = luaL_checklstring(L, 2, &hlen);
  bool isUnix = hlen >= 5 && memcmp(host, "unix:", 5) == 0;
  int optsIdx = 0;
  lua_Integer port = 0;
  if (isUnix) {
    if (n == 3) optsIdx = 3;
    if (n == 4) return luaL_error(L, "ngx.socket connect: unix domain sockets take no port");
  } else {
    if (n < 3 || lua_type(L, 3) == LUA_TNIL) {
      lua_pushnil(L);
      lua_pushliteral(L, "missing the port number");
      return 2;
    }
    port = lua_tointeger(L, 3);
    if (port == 0 && !lua_isnumber(L, 3)) {
      lua_pushnil(L);
      lua_pushliteral(L, "missing the port number");
      return 2;
    }
    if (port < 0 || port > 65535) {
      lua_pushnil(L);
      lua_pushfstring(L, "bad port number: %d", static_cast<int>(port));
      return 2;
    }
    if (n == 4) optsIdx = 4;
  }
  size_t poolLen = 0;
  const char* pool = nullptr;
  lua_Integer poolSize = 0, backlog = 0;
  bool backlogSet = false;
  if (optsIdx != 0 && !lua_isnil(L, optsIdx)) {
    luaL_checktype(L, optsIdx, LUA_TTABLE);
    lua_getfield(L, optsIdx, "pool");
    int t = lua_type(L, -1);
    if (t == LUA_TSTRING || t == LUA_TNUMBER) {
      pool = lua_tolstring(L, -1, &poolLen);  // stays on the stack
    } else if (t != LUA_TNIL) {
      return luaL_error(L, "bad \"pool\" option type: %s", lua_typename(L, t));
    }
    lua_getfield(L, optsIdx, "pool_size");
    t = lua_type(L, -1);
    if (t == LUA_TNUMBER) {
      poolSize = lua_tointeger(L, -1);
      if (poolSize <= 0) {
        return luaL_argerror(
            L, optsIdx,
            lua_pushfstring(L, "bad \"pool_size\" option value: %d", static_cast<int>(poolSize)));
      }
    } else if (t != LUA_TNIL) {
      return luaL_error(L, "bad \"pool_size\" option type: %s", lua_typename(L, t));
    }
    lua_pop(L, 1);
    lua_getfield(L, optsIdx, "backlog");
    t = lua_type(L, -1);
    if (t == LUA_TNUMBER) {
      backlog = lua_tointeger(L, -1);
      if (backlog < 0) {
        return luaL_argerror(
            L, optsIdx,
            lua_pushfstring(L, "bad \"backlog\" option value: %d", static_cast<int>(backlog)));
      }
      backlogSet = true;
    } else if (t != LUA_TNIL) {
      return luaL_error(L, "bad \"backlog\" option type: %s", lua_typename(L, t));
    }
    lua_pop(L, 1);
  }
  if (s->op != TcpSocket::Op::kNone) return busy(L, s);
  Scheduler* sch = scheduler(L);
  s->created = true;
  // A connected socket connects anew (the old connection is closed).
  s->closeConn();
  s->zombie = false;
  s->target = net::Target{};
  if (isUnix) {
    s->target.path.assign(host + 5, hlen - 5);
    s->peerText.assign(host, hlen);
  } else {
    s->target.host.assign(host, hlen);
    s->target.port = static_cast<uint16_t>(port);
    s->peerText.assign(host, hlen);
    s->peerText += ":" + std::to_string(port);
  }
  if (pool != nullptr) {
    s->poolKey.assign(pool, poolLen);
  } else {
    s->poolKey = s->peerText;
  }
  s->poolSize = static_cast<size_t>(poolSize);
  size_t size = poolSize > 0 ? static_cast<size_t>(poolSize) : s->defaultPoolSize;
  net::ClientConnection* idle = nullptr;
  s->waiter.wake = onWoken;
  auto admit = net::KeepalivePool::get().admit(
      s->poolKey, size, poolSize > 0, backlogSet && backlog > 0 ? static_cast<size_t>(backlog) : 0,
      &s->waiter, &idle);
  // lua-nginx-module: a backlog of 0 with a full pool fails at once.
  if (admit == net::KeepalivePool::Admit::kIdle) {
    LUNET_LOG(*s->log, core::Level::kDebug, 0,
              "lua tcp socket get keepalive peer: using connection %p", static_cast<void*>(idle));
    s->conn = idle;
    idle->setUser(s);
    lua_pushinteger(L, 1);
    return 1;
  }
  if (admit == net::KeepalivePool::Admit::kFull) {
    lua_pushnil(L);
    lua_pushliteral(L, "too many waiting connect operations");
    return 2;
  }
  s->op = TcpSocket::Op::kConnect;
  s->slotCounted = admit == net::KeepalivePool::Admit::kGo;
  if (admit == net::KeepalivePool::Admit::kGo || admit == net::KeepalivePool::Admit::kGoFree) {
    int sysErr = 0;
    s->connecting = net::Connect::start(s->target, onConnected, s, &s->pattern, &sysErr);
    if (s->connecting == nullptr) {
      s->op = TcpSocket::Op::kNone;
      if (s->slotCounted) net::KeepalivePool::get().failed(s->poolKey);
      s->slotCounted = false;
      if (s->logErrors && sysErr != 0) {
        s->log->error(core::Level::kError, -sysErr, "connect() failed");
      }
      lua_pushnil(L);
      lua_pushlstring(L, s->pattern.data(), s->pattern.size());
      return 2;
    }
  }
  s->pin(L);
  return sch->suspendFor(L, &s->wait, s->connectTimeout, onConnectTimeout);
}

// ---- receive ----

// Completes the read in progress from the buffer if it can: pushes the
// results on L and returns their number, or 0 (more data needed).
int tryComplete(TcpSocket* s, lua_State* L) noexcept {
  size_t n = s->avail();
  const char* d = s->data();
  switch (s->mode) {
    case TcpSocket::Mode::kLine: {
      const void* nl = n > s->scanned ? memchr(d + s->scanned, '\n', n - s->scanned) : nullptr;
      if (nl == nullptr) {
        s->scanned = n;
        return 0;
      }
      size_t len = static_cast<size_t>(static_cast<const char*>(nl) - d);
      if (memchr(d, '\r', len) == nullptr) {
        lua_pushlstring(L, d, len);
      } else {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (size_t i = 0; i < len; i++) {
          if (d[i] != '\r') luaL_addchar(&b, d[i]);
        }
        luaL_pushresult(&b);
      }
      s->consume(len + 1);
      return 1;
    }
    case TcpSocket::Mode::kSize:
      if (n < s->want) return 0;
      lua_pushlstring(L, d, s->want);
      s->consume(s->want);
      return 1;
    case TcpSocket::Mode::kAny: {
      if (n == 0) return 0;
      size_t len = n < s->want ? n : s->want;
      lua_pushlstring(L, d, len);
      s->consume(len);
      return 1;
    }
    case TcpSocket::Mode::kAll:
      if (!s->eof) return 0;
      lua_pushlstring(L, d, n);
      s->consume(n);
      return 1;
    case TcpSocket::Mode::kUntil: {
      const std::string& p = s->pattern;
      size_t from = s->scanned >= p.size() ? s->scanned - p.size() + 1 : 0;
      std::string_view hay(d, n);
      size_t pos = hay.find(p, from);
      if (pos == std::string_view::npos) {
        s->scanned = n;
        if (s->want > 0 && n >= p.size() - 1 && n - (p.size() - 1) >= s->want) {
          lua_pushlstring(L, d, s->want);
          s->consume(s->want);
          return 1;
        }
        return 0;
      }
      if (s->want > 0 && pos > s->want) {
        lua_pushlstring(L, d, s->want);
        s->consume(s->want);
        return 1;
      }
      size_t len = s->inclusive ? pos + p.size() : pos;
      if (s->want > 0 && len == 0) {
        // Sized reads: the boundary itself ends the stream (nil, nil).
        s->consume(p.size());
        lua_pushnil(L);
        lua_pushnil(L);
        return 2;
      }
      lua_pushlstring(L, d, len);
      s->consume(pos + p.size());
      if (s->want > 0 && s->untilDone != nullptr) *s->untilDone = true;
      return 1;
    }
  }
  return 0;
}

// Pushes nil, err, partial (all the unread data, consumed).
int pushReadError(TcpSocket* s, lua_State* L, const char* err, size_t errLen) noexcept {
  lua_pushnil(L);
  lua_pushlstring(L, err, errLen);
  if (s->mode == TcpSocket::Mode::kAny) return 2;
  lua_pushlstring(L, s->data(), s->avail());
  s->consume(s->avail());
  return 3;
}

void TcpSocket::onRead(ssize_t nread) noexcept {
  if (nread == 0) return;
  if (nread > 0) end += static_cast<size_t>(nread);
  if (op != Op::kRead) {
    // Nobody reads: keep the bytes, stop reading.
    conn->stream().readStop();
    if (nread == UV_EOF) eof = true;
    return;
  }
  Scheduler& sch = Scheduler::get();
  lua_State* co = sch.waiter(&wait);
  if (co == nullptr) {
    conn->stream().readStop();
    endOp();
    unpin();
    return;
  }
  int nret = 0;
  if (nread == UV_EOF) {
    eof = true;
    nret = tryComplete(this, co);
    if (nret == 0) {
      nret = pushReadError(this, co, "closed", 6);
      failConn();
    } else if (conn != nullptr) {
      conn->stream().readStop();
    }
  } else if (nread < 0) {
    std::string e = net::errorText(static_cast<int>(nread));
    if (logErrors) log->error(core::Level::kError, static_cast<int>(-nread), "recv() failed");
    nret = pushReadError(this, co, e.data(), e.size());
    failConn();
  } else {
    nret = tryComplete(this, co);
    if (nret == 0) return;
    conn->stream().readStop();
  }
  endOp();
  untilDone = nullptr;
  unpin();
  sch.resume(&wait, nret);
}

int onReadTimeout(Wait* w, lua_State* co) noexcept {
  auto* s = static_cast<TcpSocket*>(w->data);
  if (s->logErrors) s->log->error(core::Level::kError, 0, "lua tcp socket read timed out");
  s->untilDone = nullptr;
  int n = pushReadError(s, co, "timeout", 7);
  s->unpin();
  return n;
}

// Starts (or completes at once) the read set up in s->mode / want.
int startRead(lua_State* L, TcpSocket* s) {
  s->scanned = 0;
  int nret = tryComplete(s, L);
  if (nret > 0) {
    s->untilDone = nullptr;
    return nret;
  }
  if (s->eof) {
    // The peer closed earlier: what is left is all there will be.
    int r = pushReadError(s, L, "closed", 6);
    s->failConn();
    return r;
  }
  Scheduler* sch = scheduler(L);
  int rc = s->conn->stream().readStart();
  if (rc != 0) {
    std::string e = net::errorText(rc);
    lua_pushnil(L);
    lua_pushlstring(L, e.data(), e.size());
    s->failConn();
    return 2;
  }
  s->op = TcpSocket::Op::kRead;
  s->pin(L);
  return sch->suspendFor(L, &s->wait, s->readTimeout, onReadTimeout);
}

int sockReceive(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 1 && n != 2) {
    return luaL_error(L, "expecting 1 or 2 arguments (including the object), but got %d", n);
  }
  TcpSocket* s = checkSock(L);
  TcpSocket::Mode mode = TcpSocket::Mode::kLine;
  size_t want = 0;
  if (n == 2) {
    if (lua_type(L, 2) == LUA_TNUMBER || (lua_type(L, 2) == LUA_TSTRING && lua_isnumber(L, 2))) {
      lua_Number v = lua_tonumber(L, 2);
      if (v < 0) return luaL_argerror(L, 2, "bad pattern argument");
      mode = TcpSocket::Mode::kSize;
      want = static_cast<size_t>(v);
    } else if (lua_type(L, 2) == LUA_TSTRING) {
      size_t len = 0;
      const char* p = lua_tolstring(L, 2, &len);
      if (len != 2 || p[0] != '*' || (p[1] != 'l' && p[1] != 'a')) {
        return luaL_argerror(L, 2, "bad pattern argument");
      }
      mode = p[1] == 'a' ? TcpSocket::Mode::kAll : TcpSocket::Mode::kLine;
    } else {
      return luaL_argerror(L, 2, "bad pattern argument");
    }
  }
  if (s->conn == nullptr) return closedError(L, s, "receive");
  if (s->op != TcpSocket::Op::kNone) return busy(L, s);
  if (mode == TcpSocket::Mode::kSize && want == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  s->mode = mode;
  s->want = want;
  return startRead(L, s);
}

int sockReceiveAny(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 2) return luaL_error(L, "expecting 2 arguments (including the object), but got %d", n);
  TcpSocket* s = checkSock(L);
  if (s->conn == nullptr) return closedError(L, s, "receive");
  lua_Integer max = lua_tointeger(L, 2);
  if (max <= 0) return luaL_argerror(L, 2, "bad max argument");
  if (s->op != TcpSocket::Op::kNone) return busy(L, s);
  s->mode = TcpSocket::Mode::kAny;
  s->want = static_cast<size_t>(max);
  return startRead(L, s);
}

// The iterator of receiveuntil: upvalues socket table, pattern, inclusive,
// state (a userdata bool: the boundary was reached by a sized read).
int untilIterator(lua_State* L) {
  int n = lua_gettop(L);
  if (n > 1) return luaL_error(L, "expecting 0 or 1 arguments, but seen %d", n);
  lua_Integer size = 0;
  if (n == 1 && !lua_isnil(L, 1)) {
    size = luaL_checkinteger(L, 1);
    if (size < 0) return luaL_argerror(L, 1, "bad size argument");
  }
  auto* done = static_cast<bool*>(lua_touserdata(L, lua_upvalueindex(4)));
  lua_settop(L, 0);
  lua_pushvalue(L, lua_upvalueindex(1));
  TcpSocket* s = checkSock(L);
  if (*done) {
    *done = false;
    lua_pushnil(L);
    lua_pushnil(L);
    return 2;
  }
  if (s->conn == nullptr) return closedError(L, s, "receive");
  if (s->op != TcpSocket::Op::kNone) return busy(L, s);
  size_t plen = 0;
  const char* p = lua_tolstring(L, lua_upvalueindex(2), &plen);
  s->pattern.assign(p, plen);
  s->inclusive = lua_toboolean(L, lua_upvalueindex(3));
  s->mode = TcpSocket::Mode::kUntil;
  s->want = static_cast<size_t>(size);
  s->untilDone = done;
  return startRead(L, s);
}

int sockReceiveUntil(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 2 && n != 3) {
    return luaL_error(L, "expecting 2 or 3 arguments (including the object), but got %d", n);
  }
  checkSock(L);
  size_t plen = 0;
  luaL_checklstring(L, 2, &plen);
  if (plen == 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "pattern is empty");
    return 2;
  }
  bool inclusive = false;
  if (n == 3 && !lua_isnil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_getfield(L, 3, "inclusive");
    int t = lua_type(L, -1);
    if (t == LUA_TBOOLEAN) {
      inclusive = lua_toboolean(L, -1);
    } else if (t != LUA_TNIL) {
      return luaL_error(L, "bad \"inclusive\" option value type: %s", lua_typename(L, t));
    }
    lua_pop(L, 1);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushboolean(L, inclusive);
  auto* done = static_cast<bool*>(lua_newuserdata(L, sizeof(bool)));
  *done = false;
  lua_pushcclosure(L, untilIterator, 4);
  return 1;
}

// ---- send ----

// Checks a send() argument (recursively for tables) and adds its length.
bool dataLength(lua_State* L, int idx, bool top, size_t* len) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
    case LUA_TNUMBER: {
      size_t l = 0;
      lua_tolstring(L, idx, &l);
      *len += l;
      return true;
    }
    case LUA_TNIL:
      if (!top) break;
      *len += 3;
      return true;
    case LUA_TBOOLEAN:
      if (!top) break;
      *len += lua_toboolean(L, idx) ? 4 : 5;
      return true;
    case LUA_TTABLE: {
      int abs = idx > 0 ? idx : lua_gettop(L) + idx + 1;
      // As lua-nginx-module: every key an array index, every slot up to
      // the largest one a string or number ("bad data type nil found").
      lua_Integer count = 0;
      lua_pushnil(L);
      while (lua_next(L, abs) != 0) {
        lua_pop(L, 1);
        lua_Integer k = lua_type(L, -1) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0;
        if (k <= 0 || static_cast<lua_Number>(k) != lua_tonumber(L, -1)) {
          lua_pop(L, 1);
          lua_pushliteral(L, "non-array table");
          return false;
        }
        if (k > count) count = k;
      }
      for (lua_Integer i = 1; i <= count; i++) {
        lua_rawgeti(L, abs, static_cast<int>(i));
        if (!dataLength(L, -1, false, len)) return false;
        lua_pop(L, 1);
      }
      return true;
    }
    default:
      break;
  }
  // Leaves the offending value on the stack for the message.
  if (idx != -1) lua_pushvalue(L, idx);
  return false;
}

// Copies a checked send() argument to out; returns the end.
char* fillData(lua_State* L, int idx, char* out) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
    case LUA_TNUMBER: {
      size_t l = 0;
      const char* p = lua_tolstring(L, idx, &l);
      memcpy(out, p, l);
      return out + l;
    }
    case LUA_TNIL:
      memcpy(out, "nil", 3);
      return out + 3;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) {
        memcpy(out, "true", 4);
        return out + 4;
      }
      memcpy(out, "false", 5);
      return out + 5;
    case LUA_TTABLE: {
      int abs = idx > 0 ? idx : lua_gettop(L) + idx + 1;
      lua_Integer count = 0;
      lua_pushnil(L);
      while (lua_next(L, abs) != 0) {
        lua_pop(L, 1);
        lua_Integer k = lua_tointeger(L, -1);
        if (k > count) count = k;
      }
      for (lua_Integer i = 1; i <= count; i++) {
        lua_rawgeti(L, abs, static_cast<int>(i));
        out = fillData(L, -1, out);
        lua_pop(L, 1);
      }
      return out;
    }
    default:
      return out;
  }
}

void onWritten(void* data, int status) {
  auto* req = static_cast<WriteReq*>(data);
  TcpSocket* s = req->sock;
  size_t total = req->total;
  delete req;
  if (s == nullptr) return;
  s->writing = nullptr;
  s->endOp();
  Scheduler& sch = Scheduler::get();
  lua_State* co = sch.waiter(&s->wait);
  int nret;
  if (status == 0) {
    if (co == nullptr) {
      s->unpin();
      return;
    }
    lua_pushinteger(co, static_cast<lua_Integer>(total));
    nret = 1;
  } else {
    if (s->logErrors) s->log->error(core::Level::kError, -status, "send() failed");
    s->failConn();
    if (co == nullptr) {
      s->unpin();
      return;
    }
    std::string e = net::errorText(status);
    lua_pushnil(co);
    lua_pushlstring(co, e.data(), e.size());
    nret = 2;
  }
  s->unpin();
  sch.resume(&s->wait, nret);
}

int onSendTimeout(Wait* w, lua_State* co) noexcept {
  auto* s = static_cast<TcpSocket*>(w->data);
  if (s->logErrors) s->log->error(core::Level::kError, 0, "lua tcp socket write timed out");
  lua_pushnil(co);
  lua_pushliteral(co, "timeout");
  s->unpin();
  return 2;
}

int sockSend(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 2) return luaL_error(L, "expecting 2 arguments (including the object), but got %d", n);
  TcpSocket* s = checkSock(L);
  size_t total = 0;
  int t = lua_type(L, 2);
  if (t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TTABLE && t != LUA_TNIL &&
      t != LUA_TBOOLEAN) {
    return luaL_argerror(
        L, 2,
        lua_pushfstring(L, "string, number, boolean, nil, or array table expected, got %s",
                        luaL_typename(L, 2)));
  }
  if (!dataLength(L, 2, true, &total)) {
    if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "non-array table") == 0) {
      return luaL_argerror(L, 2, "non-array table found");
    }
    return luaL_argerror(L, 2, lua_pushfstring(L, "bad data type %s found", luaL_typename(L, -1)));
  }
  if (s->conn == nullptr) return closedError(L, s, "send");
  if (s->op != TcpSocket::Op::kNone) return busy(L, s);
  if (total == 0) {
    lua_pushinteger(L, 0);
    return 1;
  }
  const char* p;
  size_t len = total;
  if (t == LUA_TSTRING) {
    p = lua_tolstring(L, 2, &len);
  } else {
    s->sendBuf.resize(total);
    fillData(L, 2, s->sendBuf.data());
    p = s->sendBuf.data();
  }
  uv_buf_t ub = uv_buf_init(const_cast<char*>(p), static_cast<unsigned>(len));
  int w = s->conn->stream().tryWrite(&ub, 1);
  if (w == static_cast<int>(len)) {
    lua_pushinteger(L, static_cast<lua_Integer>(len));
    return 1;
  }
  if (w < 0 && w != UV_EAGAIN) {
    if (s->logErrors) s->log->error(core::Level::kError, -w, "send() failed");
    s->failConn();
    std::string e = net::errorText(w);
    lua_pushnil(L);
    lua_pushlstring(L, e.data(), e.size());
    return 2;
  }
  size_t done = w > 0 ? static_cast<size_t>(w) : 0;
  Scheduler* sch = scheduler(L);
  auto* req = new WriteReq;
  req->sock = s;
  req->total = len;
  if (p == s->sendBuf.data() && done == 0) {
    req->data.swap(s->sendBuf);
  } else {
    req->data.assign(p + done, len - done);
  }
  uv_buf_t rest = uv_buf_init(req->data.data(), static_cast<unsigned>(req->data.size()));
  int rc = s->conn->stream().write(&rest, 1, onWritten, req);
  if (rc != 0) {
    delete req;
    s->failConn();
    lua_pushnil(L);
    lua_pushstring(L, net::errorText(rc).c_str());
    return 2;
  }
  s->writing = req;
  s->op = TcpSocket::Op::kWrite;
  s->pin(L);
  return sch->suspendFor(L, &s->wait, s->sendTimeout, onSendTimeout);
}

// ---- the rest ----

int sockClose(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 1) return luaL_error(L, "expecting 1 argument (including the object) but seen %d", n);
  TcpSocket* s = checkSock(L);
  if (s->conn == nullptr && s->zombie) {
    s->zombie = false;
    lua_pushinteger(L, 1);
    return 1;
  }
  if (s->conn == nullptr) {
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    return 2;
  }
  if (s->op != TcpSocket::Op::kNone) return busy(L, s);
  s->closeConn();
  lua_pushinteger(L, 1);
  return 1;
}

int sockSetKeepalive(lua_State* L) {
  int n = lua_gettop(L);
  if (n < 1 || n > 3) {
    return luaL_error(L, "expecting 1 to 3 arguments (including the object), but got %d", n);
  }
  TcpSocket* s = checkSock(L);
  if (s->conn == nullptr) {
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    return 2;
  }
  uint64_t timeout = s->keepaliveTimeout;
  if (n >= 2 && !lua_isnil(L, 2)) {
    lua_Integer v = luaL_checkinteger(L, 2);
    // lua-nginx-module takes a negative value as an unsigned one: no expiry
    // in practice.
    timeout = v < 0 ? 0 : static_cast<uint64_t>(v);
  }
  size_t size = s->poolSize > 0 ? s->poolSize : s->defaultPoolSize;
  if (n >= 3 && !lua_isnil(L, 3)) {
    lua_Integer v = luaL_checkinteger(L, 3);
    if (v <= 0) {
      return luaL_error(L, "bad \"pool_size\" option value: %d", static_cast<int>(v));
    }
    size = static_cast<size_t>(v);
  }
  if (s->op != TcpSocket::Op::kNone) return busy(L, s);
  if (s->avail() > 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "unread data in buffer");
    return 2;
  }
  if (s->eof) {
    // The peer closed (seen by *a): lua-nginx-module answers "closed".
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    return 2;
  }
  if (s->conn->stream().closing() || s->conn->stream().queuedWrites() > 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "connection in dubious state");
    return 2;
  }
  net::ClientConnection* c = s->conn;
  s->conn = nullptr;
  s->start = s->end = s->scanned = 0;
  if (c->poolKey.empty()) c->poolKey = s->poolKey;
  net::KeepalivePool::get().put(c, size, timeout);
  lua_pushinteger(L, 1);
  return 1;
}

int sockGetReusedTimes(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 1) return luaL_error(L, "expecting 1 argument (including the object), but got %d", n);
  TcpSocket* s = checkSock(L);
  if (s->conn == nullptr && s->zombie) {
    lua_pushinteger(L, s->zombieReused);
    return 1;
  }
  if (s->conn == nullptr) {
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    return 2;
  }
  lua_pushinteger(L, s->conn->reusedTimes);
  return 1;
}

uint64_t checkTimeout(lua_State* L, int idx) {
  lua_Number v = luaL_checknumber(L, idx);
  if (v < 0) luaL_error(L, "bad timeout value");
  return static_cast<uint64_t>(v);
}

int sockSetTimeout(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 2) {
    return luaL_error(L,
                      "ngx.socket settimeout: expecting 2 arguments (including the object) but "
                      "seen %d",
                      n);
  }
  TcpSocket* s = checkSock(L);
  uint64_t ms = checkTimeout(L, 2);
  const SocketConf& sc = currentSocketConf();
  s->connectTimeout = ms > 0 ? ms : static_cast<uint64_t>(sc.connectTimeout);
  s->sendTimeout = ms > 0 ? ms : static_cast<uint64_t>(sc.sendTimeout);
  s->readTimeout = ms > 0 ? ms : static_cast<uint64_t>(sc.readTimeout);
  return 0;
}

int sockSetTimeouts(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 4) {
    return luaL_error(L,
                      "ngx.socket settimeout: expecting 4 arguments (including the object) but "
                      "seen %d",
                      n);
  }
  TcpSocket* s = checkSock(L);
  uint64_t c = checkTimeout(L, 2), w = checkTimeout(L, 3), r = checkTimeout(L, 4);
  const SocketConf& sc = currentSocketConf();
  s->connectTimeout = c > 0 ? c : static_cast<uint64_t>(sc.connectTimeout);
  s->sendTimeout = w > 0 ? w : static_cast<uint64_t>(sc.sendTimeout);
  s->readTimeout = r > 0 ? r : static_cast<uint64_t>(sc.readTimeout);
  return 0;
}

// setoption / getoption: keepalive, reuseaddr, tcp-nodelay, sndbuf, rcvbuf.
bool optionOf(const char* name, int* level, int* opt) {
  struct O {
    const char* name;
    int level, opt;
  };
  static const O kOpts[] = {{"keepalive", SOL_SOCKET, SO_KEEPALIVE},
                            {"reuseaddr", SOL_SOCKET, SO_REUSEADDR},
                            {"tcp-nodelay", IPPROTO_TCP, TCP_NODELAY},
                            {"sndbuf", SOL_SOCKET, SO_SNDBUF},
                            {"rcvbuf", SOL_SOCKET, SO_RCVBUF}};
  for (const O& o : kOpts) {
    if (strcmp(o.name, name) == 0) {
      *level = o.level;
      *opt = o.opt;
      return true;
    }
  }
  return false;
}

int sockOption(lua_State* L, bool set) {
  int n = lua_gettop(L);
  if (n != (set ? 3 : 2)) {
    return luaL_error(L, "expecting %d arguments (including the object), but got %d", set ? 3 : 2,
                      n);
  }
  TcpSocket* s = checkSock(L);
  if (!s->created) return luaL_error(L, "socket is never created nor connected");
  const char* name = luaL_checkstring(L, 2);
  int level = 0, opt = 0;
  if (!optionOf(name, &level, &opt)) {
    lua_pushnil(L);
    lua_pushfstring(L, "unsupported option %s", name);
    return 2;
  }
  int fd = s->conn != nullptr ? s->conn->stream().fd() : -1;
  if (fd < 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    return 2;
  }
  if (s->conn->stream().isPipe() && level == IPPROTO_TCP) {
    lua_pushnil(L);
    lua_pushfstring(L, "unsupported option %s", name);
    return 2;
  }
  int v = 0;
  if (set) {
    v = lua_type(L, 3) == LUA_TBOOLEAN ? lua_toboolean(L, 3)
                                       : static_cast<int>(luaL_checkinteger(L, 3));
    if (setsockopt(fd, level, opt, &v, sizeof(v)) != 0) {
      lua_pushnil(L);
      lua_pushstring(L, strerror(errno));
      return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
  }
  socklen_t len = sizeof(v);
  if (getsockopt(fd, level, opt, &v, &len) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, strerror(errno));
    return 2;
  }
  lua_pushinteger(L, v);
  return 1;
}

int sockSetOption(lua_State* L) { return sockOption(L, true); }
int sockGetOption(lua_State* L) { return sockOption(L, false); }

int sockSslHandshake(lua_State* L) {
  TcpSocket* s = checkSock(L);
  if (!s->created) return luaL_error(L, "socket is never created nor connected");
  if (s->conn == nullptr) {
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    return 2;
  }
  return notYet(L, "tcpsock:sslhandshake (TLS)");
}

// require("lunet.socket").pool_stats(): { [key] = { idle, busy, waiting,
// size, backlog } } for every keepalive pool of this worker.
int poolStats(lua_State* L) {
  lua_newtable(L);
  net::KeepalivePool::get().forEach(
      [L](const std::string& key, const net::KeepalivePool::Stats& st) {
        lua_pushlstring(L, key.data(), key.size());
        lua_createtable(L, 0, 5);
        lua_pushinteger(L, static_cast<lua_Integer>(st.idle));
        lua_setfield(L, -2, "idle");
        lua_pushinteger(L, static_cast<lua_Integer>(st.busy));
        lua_setfield(L, -2, "busy");
        lua_pushinteger(L, static_cast<lua_Integer>(st.waiting));
        lua_setfield(L, -2, "waiting");
        lua_pushinteger(L, static_cast<lua_Integer>(st.size));
        lua_setfield(L, -2, "size");
        lua_pushinteger(L, static_cast<lua_Integer>(st.backlog));
        lua_setfield(L, -2, "backlog");
        lua_rawset(L, -3);
      });
  return 1;
}

int openLunetSocket(lua_State* L) {
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, poolStats);
  lua_setfield(L, -2, "pool_stats");
  return 1;
}

// Lua side of ngx.socket.connect: the connect yields, so it runs as a Lua
// function calling the methods.
const char kConnectLua[] =
    "local tcp = ...\n"
    "return function(...)\n"
    "  local sock = tcp()\n"
    "  local ok, err = sock:connect(...)\n"
    "  if not ok then return nil, err end\n"
    "  return sock\n"
    "end\n";

}  // namespace

void injectSocketTcpApi(lua_State* L) {
  // userdata metatable (__gc closes the connection)
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, sockGc);
  lua_setfield(L, -2, "__gc");
  lua_setfield(L, LUA_REGISTRYINDEX, kTcpUdataMeta);

  lua_createtable(L, 0, 16);
  const luaL_Reg methods[] = {
      {"connect", sockConnect},           {"send", sockSend},
      {"receive", sockReceive},           {"receiveany", sockReceiveAny},
      {"receiveuntil", sockReceiveUntil}, {"close", sockClose},
      {"setkeepalive", sockSetKeepalive}, {"getreusedtimes", sockGetReusedTimes},
      {"settimeout", sockSetTimeout},     {"settimeouts", sockSetTimeouts},
      {"setoption", sockSetOption},       {"getoption", sockGetOption},
      {"sslhandshake", sockSslHandshake}, {nullptr, nullptr}};
  for (const luaL_Reg* m = methods; m->name != nullptr; m++) {
    lua_pushcfunction(L, m->func);
    lua_setfield(L, -2, m->name);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  lua_setfield(L, LUA_REGISTRYINDEX, kTcpMethods);

  lua_getfield(L, -1, "socket");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "socket");
  }
  lua_pushcfunction(L, tcpNew);
  lua_setfield(L, -2, "tcp");
  lua_pushcfunction(L, tcpNew);  // lua-nginx-module: an alias of tcp
  lua_setfield(L, -2, "stream");
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, openLunetSocket);
  lua_setfield(L, -2, "lunet.socket");
  lua_pop(L, 2);
  if (luaL_loadbuffer(L, kConnectLua, sizeof(kConnectLua) - 1, "=ngx.socket.connect") == 0) {
    lua_pushcfunction(L, tcpNew);
    lua_call(L, 1, 1);
    lua_setfield(L, -2, "connect");
  } else {
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

}  // namespace lunet::lua
