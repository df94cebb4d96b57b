#include "lua/socket.h"

#include "lua/context.h"
#include "lua/module.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

void mergeOne(int64_t& v, int64_t parent, int64_t dflt) {
  if (v == -1) v = parent != -1 ? parent : dflt;
}

}  // namespace

void SocketConf::merge(const SocketConf& p) noexcept {
  mergeOne(connectTimeout, p.connectTimeout, 60000);
  mergeOne(sendTimeout, p.sendTimeout, 60000);
  mergeOne(readTimeout, p.readTimeout, 60000);
  mergeOne(bufferSize, p.bufferSize, 4096);
  mergeOne(poolSize, p.poolSize, 30);
  mergeOne(keepaliveTimeout, p.keepaliveTimeout, 60000);
  mergeOne(logErrors, p.logErrors, 1);
}

void SocketConf::fillDefaults() noexcept { merge(SocketConf{}); }

const SocketConf& currentSocketConf() noexcept {
  RequestCtx* req = current().req;
  if (req != nullptr) {
    if (const LuaLocConf* lc = req->r->loc<LuaLocConf>(luaModule()); lc != nullptr) {
      return lc->socket;
    }
  }
  if (LuaMainConf* mc = luaMainConf(); mc != nullptr) return mc->socket;
  static const SocketConf kDefaults = [] {
    SocketConf c;
    c.fillDefaults();
    return c;
  }();
  return kDefaults;
}

const core::Log& currentLog() noexcept {
  if (RequestCtx* req = current().req; req != nullptr) return req->log();
  if (Owner* o = current().owner; o != nullptr) return o->log();
  return core::processLog();
}

}  // namespace lunet::lua
