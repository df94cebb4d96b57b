// ngx.socket.udp: lua-nginx-module's datagram cosocket (setpeername, send,
// receive, settimeout, close) on a connected uv_udp_t, or a unix datagram
// socket. receive() yields through Scheduler::suspendFor; setpeername()
// yields only when a host name needs the resolver.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "event/loop.h"
#include "lua/api.h"
#include "lua/context.h"
#include "lua/scheduler.h"
#include "lua/socket.h"
#include "lua/vm.h"
#include "net/connect.h"
#include "net/resolver.h"

namespace lunet::lua {

namespace {

constexpr char kUdpMethods[] = "lunet.socket.udp";
constexpr char kUdpUdataMeta[] = "lunet.socket.udp.ud";
constexpr size_t kMaxDatagram = 65536;

struct UdpSocket final : OwnedObject {
  enum class Op : uint8_t { kNone, kResolve, kRead };
  std::unique_ptr<uv_udp_t> h;  // freed in the close callback
  bool open = false;
  Op op = Op::kNone;
  Wait wait;
  int pinRef = LUA_NOREF;  // the socket's table while an operation is pending
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
  net::Resolver::Lookup* lookup = nullptr;
  uint64_t readTimeout = 60000;
  bool logErrors = true;
  const core::Log* log = nullptr;
  size_t want = kMaxDatagram;
  std::unique_ptr<char[]> buf;
  std::string host;  // being resolved

  void closeHandle() noexcept {
    if (!open) return;
    open = false;
    uv_udp_t* u = h.release();
    uv_close(reinterpret_cast<uv_handle_t*>(u),
             [](uv_handle_t* x) { delete reinterpret_cast<uv_udp_t*>(x); });
  }
  void stopOp() noexcept {
    if (op == Op::kResolve && lookup != nullptr) {
      net::Resolver::cancel(lookup);
      lookup = nullptr;
    }
    if (op == Op::kRead && open) uv_udp_recv_stop(h.get());
    endOp();
  }
  void shutdown() noexcept {
    stopOp();
    closeHandle();
    unpin();
  }

 protected:
  void ownerEnded() noexcept override {
    shutdown();
    log = &core::processLog();  // the owner's log goes with it
  }
};

struct UdpBox {
  UdpSocket* sock;
};

void cancelWait(Wait* w) noexcept { static_cast<UdpSocket*>(w->data)->stopOp(); }

int udpGc(lua_State* L) {
  auto* box = static_cast<UdpBox*>(lua_touserdata(L, 1));
  if (box != nullptr && box->sock != nullptr) {
    UdpSocket* s = box->sock;
    box->sock = nullptr;
    s->pinRef = LUA_NOREF;  // collected while pinned: the VM is closing
    s->shutdown();
    s->detach();
    delete s;
  }
  return 0;
}

UdpSocket* checkUdp(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  checkPhase(L, kYieldable);
  lua_rawgeti(L, 1, 1);
  auto* box = static_cast<UdpBox*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  if (box == nullptr || box->sock == nullptr) luaL_error(L, "bad udp socket");
  UdpSocket* s = box->sock;
  if (!s->dead() && s->owner() != current().owner) luaL_error(L, "bad request");
  return s;
}

int udpNew(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 0) return luaL_error(L, "expecting zero arguments, but got %d", n);
  checkPhase(L, kYieldable);
  Owner* owner = current().owner;
  if (owner == nullptr) return luaL_error(L, "no request found");
  const SocketConf& sc = currentSocketConf();
  lua_createtable(L, 1, 0);
  auto* box = static_cast<UdpBox*>(lua_newuserdata(L, sizeof(UdpBox)));
  box->sock = nullptr;
  lua_getfield(L, LUA_REGISTRYINDEX, kUdpUdataMeta);
  lua_setmetatable(L, -2);
  auto* s = new UdpSocket;
  box->sock = s;
  s->wait.data = s;
  s->wait.cancel = cancelWait;
  s->readTimeout = static_cast<uint64_t>(sc.readTimeout);
  s->logErrors = sc.logErrors != 0;
  s->log = &owner->log();
  owner->adopt(s);
  lua_rawseti(L, -2, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, kUdpMethods);
  lua_setmetatable(L, -2);
  return 1;
}

// Opens and connects the handle to `addr`; returns 0 or a libuv error.
int openTo(UdpSocket* s, const sockaddr* addr) noexcept {
  s->closeHandle();
  s->h = std::make_unique<uv_udp_t>();
  int rc = uv_udp_init(event::loop(), s->h.get());
  if (rc != 0) {
    s->h.reset();
    return rc;
  }
  s->open = true;
  s->h->data = s;
  return uv_udp_connect(s->h.get(), addr);
}

int openUnix(UdpSocket* s, const std::string& path) noexcept {
  s->closeHandle();
  sockaddr_un sun{};
  if (path.size() >= sizeof(sun.sun_path)) return UV_ENAMETOOLONG;
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof(sun)) != 0) {
    int e = -errno;
    ::close(fd);
    return e;
  }
  s->h = std::make_unique<uv_udp_t>();
  int rc = uv_udp_init(event::loop(), s->h.get());
  if (rc != 0) {
    ::close(fd);
    s->h.reset();
    return rc;
  }
  s->open = true;
  rc = uv_udp_open(s->h.get(), fd);
  if (rc != 0) {
    ::close(fd);
    s->closeHandle();
    return rc;
  }
  s->open = true;
  s->h->data = s;
  return 0;
}

void onResolved(void* data, int code, const net::SockAddr* addr) noexcept {
  auto* s = static_cast<UdpSocket*>(data);
  s->lookup = nullptr;
  s->endOp();
  Scheduler& sch = Scheduler::get();
  lua_State* co = sch.waiter(&s->wait);
  if (co == nullptr) {
    s->unpin();
    return;
  }
  if (code != net::kResolveOk) {
    lua_pushnil(co);
    lua_pushfstring(co, "%s could not be resolved (%d: %s)", s->host.c_str(), code,
                    net::resolveErrorText(code));
    s->unpin();
    sch.resume(&s->wait, 2);
    return;
  }
  int rc = openTo(s, addr->get());
  if (rc != 0) {
    lua_pushnil(co);
    lua_pushstring(co, net::errorText(rc).c_str());
    s->unpin();
    sch.resume(&s->wait, 2);
    return;
  }
  lua_pushinteger(co, 1);
  s->unpin();
  sch.resume(&s->wait, 1);
}

int onResolveTimeout(Wait* w, lua_State* co) noexcept {
  lua_pushnil(co);
  lua_pushliteral(co, "timeout");
  static_cast<UdpSocket*>(w->data)->unpin();
  return 2;
}

int udpSetPeerName(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 2 && n != 3) {
    return luaL_error(L,
                      "ngx.socket.udp setpeername: expecting 2 or 3 arguments (including the "
                      "object), but seen %d",
                      n);
  }
  UdpSocket* s = checkUdp(L);
  if (s->dead()) return luaL_error(L, "bad request");
  size_t hlen = 0;
  const char* host = luaL_checklstring(L, 2, &hlen);
  if (s->op != UdpSocket::Op::kNone) {
    lua_pushnil(L);
    lua_pushliteral(L, "socket busy");
    return 2;
  }
  int rc;
  if (hlen >= 5 && memcmp(host, "unix:", 5) == 0) {
    rc = openUnix(s, std::string(host + 5, hlen - 5));
  } else {
    lua_Integer port = n == 3 ? lua_tointeger(L, 3) : 0;
    if (n < 3 || (port == 0 && !lua_isnumber(L, 3))) {
      lua_pushnil(L);
      lua_pushliteral(L, "missing the port number");
      return 2;
    }
    if (port < 0 || port > 65535) {
      lua_pushnil(L);
      lua_pushfstring(L, "bad port number: %d", static_cast<int>(port));
      return 2;
    }
    net::SockAddr a;
    std::string_view h(host, hlen);
    auto p = static_cast<uint16_t>(port);
    if (!net::parseNumeric(h, p, &a) && !net::Resolver::get().cached(h, p, &a)) {
      Scheduler* sch = Scheduler::tryGet();
      if (sch == nullptr || !sch->managed(L)) {
        return luaL_error(L, "attempt to yield across C-call boundary");
      }
      s->closeHandle();
      s->host.assign(host, hlen);
      s->lookup = net::Resolver::get().resolve(h, p, onResolved, s);
      s->op = UdpSocket::Op::kResolve;
      s->pin(L);
      return sch->suspendFor(L, &s->wait, 30000, onResolveTimeout);
    }
    rc = openTo(s, a.get());
  }
  if (rc != 0) {
    s->closeHandle();
    lua_pushnil(L);
    lua_pushstring(L, net::errorText(rc).c_str());
    return 2;
  }
  lua_pushinteger(L, 1);
  return 1;
}

int udpSend(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 2) return luaL_error(L, "expecting 2 arguments (including the object), but got %d", n);
  UdpSocket* s = checkUdp(L);
  size_t len = 0;
  const char* p;
  int t = lua_type(L, 2);
  if (t == LUA_TTABLE) {
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "concat");
    lua_pushvalue(L, 2);
    lua_call(L, 1, 1);
    p = lua_tolstring(L, -1, &len);
  } else if (t == LUA_TSTRING || t == LUA_TNUMBER) {
    p = lua_tolstring(L, 2, &len);
  } else if (t == LUA_TNIL || t == LUA_TBOOLEAN) {
    p = t == LUA_TNIL ? "nil" : lua_toboolean(L, 2) ? "true" : "false";
    len = strlen(p);
  } else {
    return luaL_argerror(L, 2, lua_pushfstring(L, "bad data type %s found", luaL_typename(L, 2)));
  }
  if (!s->open) {
    if (s->logErrors) {
      s->log->error(core::Level::kError, 0, "attempt to send data on a closed socket: u:%p, c:%p",
                    static_cast<void*>(s), static_cast<void*>(s->h.get()));
    }
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    return 2;
  }
  uv_buf_t b = uv_buf_init(const_cast<char*>(p), static_cast<unsigned>(len));
  int rc = uv_udp_try_send(s->h.get(), &b, 1, nullptr);
  if (rc < 0) {
    if (s->logErrors) s->log->error(core::Level::kError, -rc, "send() failed");
    lua_pushnil(L);
    lua_pushstring(L, net::errorText(rc).c_str());
    return 2;
  }
  lua_pushinteger(L, 1);
  return 1;
}

void onUdpAlloc(uv_handle_t* h, size_t, uv_buf_t* out) {
  auto* s = static_cast<UdpSocket*>(h->data);
  if (!s->buf) s->buf = std::make_unique<char[]>(kMaxDatagram);
  *out = uv_buf_init(s->buf.get(), kMaxDatagram);
}

void onUdpRecv(uv_udp_t* h, ssize_t nread, const uv_buf_t*, const sockaddr* addr, unsigned) {
  auto* s = static_cast<UdpSocket*>(h->data);
  if (nread == 0 && addr == nullptr) return;  // nothing more for now
  uv_udp_recv_stop(h);
  s->endOp();
  Scheduler& sch = Scheduler::get();
  lua_State* co = sch.waiter(&s->wait);
  if (co == nullptr) {
    s->unpin();
    return;
  }
  if (nread < 0) {
    if (s->logErrors) {
      s->log->error(core::Level::kError, static_cast<int>(-nread), "recv() failed");
    }
    lua_pushnil(co);
    lua_pushstring(co, net::errorText(static_cast<int>(nread)).c_str());
    s->unpin();
    sch.resume(&s->wait, 2);
    return;
  }
  size_t len = static_cast<size_t>(nread);
  lua_pushlstring(co, s->buf.get(), len < s->want ? len : s->want);
  s->unpin();
  sch.resume(&s->wait, 1);
}

int onUdpTimeout(Wait* w, lua_State* co) noexcept {
  auto* s = static_cast<UdpSocket*>(w->data);
  if (s->logErrors) s->log->error(core::Level::kError, 0, "lua udp socket read timed out");
  lua_pushnil(co);
  lua_pushliteral(co, "timeout");
  s->unpin();
  return 2;
}

int udpReceive(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 1 && n != 2) {
    return luaL_error(L, "expecting 1 or 2 arguments (including the object), but got %d", n);
  }
  UdpSocket* s = checkUdp(L);
  size_t want = kMaxDatagram;
  if (n == 2) {
    lua_Integer v = luaL_checkinteger(L, 2);
    if (v <= 0) return luaL_argerror(L, 2, "bad size argument");
    want = static_cast<size_t>(v) < kMaxDatagram ? static_cast<size_t>(v) : kMaxDatagram;
  }
  if (!s->open) {
    if (s->logErrors) {
      s->log->error(core::Level::kError, 0,
                    "attempt to receive data on a closed socket: u:%p, c:%p", static_cast<void*>(s),
                    static_cast<void*>(s->h.get()));
    }
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    return 2;
  }
  if (s->op != UdpSocket::Op::kNone) {
    lua_pushnil(L);
    lua_pushliteral(L, "socket busy");
    return 2;
  }
  Scheduler* sch = Scheduler::tryGet();
  if (sch == nullptr || !sch->managed(L)) {
    return luaL_error(L, "attempt to yield across C-call boundary");
  }
  s->want = want;
  int rc = uv_udp_recv_start(s->h.get(), onUdpAlloc, onUdpRecv);
  if (rc != 0) {
    lua_pushnil(L);
    lua_pushstring(L, net::errorText(rc).c_str());
    return 2;
  }
  s->op = UdpSocket::Op::kRead;
  s->pin(L);
  return sch->suspendFor(L, &s->wait, s->readTimeout, onUdpTimeout);
}

int udpSetTimeout(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 2) {
    return luaL_error(L,
                      "ngx.socket settimeout: expecting 2 arguments (including the object) but "
                      "seen %d",
                      n);
  }
  UdpSocket* s = checkUdp(L);
  lua_Number v = luaL_checknumber(L, 2);
  if (v < 0) return luaL_error(L, "bad timeout value");
  s->readTimeout =
      v > 0 ? static_cast<uint64_t>(v) : static_cast<uint64_t>(currentSocketConf().readTimeout);
  return 0;
}

int udpClose(lua_State* L) {
  int n = lua_gettop(L);
  if (n != 1) return luaL_error(L, "expecting 1 argument (including the object) but seen %d", n);
  UdpSocket* s = checkUdp(L);
  if (!s->open) {
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    return 2;
  }
  s->shutdown();
  lua_pushinteger(L, 1);
  return 1;
}

}  // namespace

void injectSocketUdpApi(lua_State* L) {
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, udpGc);
  lua_setfield(L, -2, "__gc");
  lua_setfield(L, LUA_REGISTRYINDEX, kUdpUdataMeta);

  lua_createtable(L, 0, 6);
  const luaL_Reg methods[] = {
      {"setpeername", udpSetPeerName}, {"send", udpSend},   {"receive", udpReceive},
      {"settimeout", udpSetTimeout},   {"close", udpClose}, {nullptr, nullptr}};
  for (const luaL_Reg* m = methods; m->name != nullptr; m++) {
    lua_pushcfunction(L, m->func);
    lua_setfield(L, -2, m->name);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  lua_setfield(L, LUA_REGISTRYINDEX, kUdpMethods);

  lua_getfield(L, -1, "socket");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "socket");
  }
  lua_pushcfunction(L, udpNew);
  lua_setfield(L, -2, "udp");
  lua_pop(L, 1);
}

}  // namespace lunet::lua
