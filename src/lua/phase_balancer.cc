// balancer_by_lua_block / balancer_by_lua_file inside upstream {}: the
// code runs, without yielding, each time the upstream needs a peer (first
// try and every retry) and picks it with ngx.balancer (api_balancer.cc).
// A module of its own so that the upstream block's directives stay apart
// from the location-level ones of module.cc.
#include "conf/cycle.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"
#include "lua/request_ctx.h"
#include "lua/vm.h"
#include "upstream/upstream.h"

namespace lunet::lua {

namespace {

struct BalancerHandler {
  LuaHandler code;
};

// Handlers live as long as the cycle's upstream main conf: kept here.
struct BalancerMain : conf::ConfBase {
  std::vector<std::unique_ptr<BalancerHandler>> handlers;
};

const conf::Module& mod();

conf::ConfPtr createMain() { return std::make_unique<BalancerMain>(); }

int runBalancer(http::Request& r, const void* handler) noexcept {
  const auto* h = static_cast<const BalancerHandler*>(handler);
  const LuaLocConf* lc = r.loc<LuaLocConf>(luaModule());
  RequestCtx* ctx = RequestCtx::of(r);
  EntryThread* t = nullptr;
  RunStatus st = runSyncHandler(ctx, kBalancer, const_cast<LuaHandler&>(h->code),
                                lc == nullptr || lc->codeCache != 0, &t);
  Scheduler::get().release(t);
  return st == RunStatus::kError ? http::kError : http::kOk;
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void setBalancer(conf::Engine& e, const conf::ConfNode& n, conf::ConfBase* c,
                 const conf::Directive&) {
  upstream::UpstreamMain* um = upstream::upstreamMain(e);
  upstream::Upstream* u = um != nullptr ? um->current : nullptr;
  if (u == nullptr) conf::fail(n, "\"" + n.name + "\" directive is not allowed here");
  if (u->balancer != nullptr) conf::fail(n, "load balancing method redefined");
  auto h = std::make_unique<BalancerHandler>();
  const std::string& v = n.arg(0);
  if (endsWith(n.name, "_file")) {
    if (v.empty()) conf::fail(n, "invalid location config: no runnable Lua code");
    h->code.file = true;
    h->code.source = e.cycle().fullPath(v);
  } else {
    h->code.source = v;
    std::string file = n.file ? *n.file : std::string("nginx.conf");
    h->code.chunkName = inlineChunkName("balancer_by_lua", file, n.luaLine > 0 ? n.luaLine : n.line,
                                        e.cycle().confPrefix);
  }
  u->balancer = h.get();
  u->balancerRun = runBalancer;
  static_cast<BalancerMain*>(c)->handlers.push_back(std::move(h));
}

const conf::Directive kDirectives[] = {
    {"balancer_by_lua_block", conf::kHttpUpsCtx, conf::kTake1, setBalancer, conf::Slot::kMain},
    {"balancer_by_lua_file", conf::kHttpUpsCtx, conf::kTake1, setBalancer, conf::Slot::kMain},
};

const conf::Module kModule{
    .name = "http_lua_balancer",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .createMain = createMain,
};

const conf::Module& mod() { return kModule; }

}  // namespace

const conf::Module& luaBalancerModule() { return mod(); }

}  // namespace lunet::lua
