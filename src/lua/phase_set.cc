// set_by_lua*: runs in the (server) rewrite phase and stores the handler's
// result into its variable. Arguments after the code are ngx.arg[1..n].
#include "http/phases.h"
#include "http/variables.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

int handler(http::Request& r) {
  const LuaLocConf* lc = r.loc<LuaLocConf>(luaModule());
  if (lc == nullptr || lc->sets.empty()) return http::kDeclined;
  RequestCtx* ctx = RequestCtx::of(r);
  Scheduler& sched = Scheduler::get();
  for (const LuaHandlerPtr& h : lc->sets) {
    auto* args = r.arena.array<std::string_view>(h->args.size() + 1);
    for (size_t i = 0; i < h->args.size(); i++) args[i] = h->args[i]->eval(r);
    ctx->setArgs = args;
    ctx->nsetArgs = static_cast<int>(h->args.size());
    EntryThread* t = nullptr;
    RunStatus s = runSyncHandler(ctx, kSet, *h, lc->codeCache != 0, &t);
    ctx->setArgs = nullptr;
    ctx->nsetArgs = 0;
    if (s != RunStatus::kDone) {
      sched.release(t);
      if (s == RunStatus::kExited && ctx->exitCode == http::kOk) continue;
      return 500;
    }
    lua_State* co = t->state();
    size_t len = 0;
    const char* v = lua_gettop(co) > 0 ? lua_tolstring(co, 1, &len) : nullptr;
    std::string_view value = v != nullptr ? r.arena.dup({v, len}) : std::string_view();
    sched.release(t);
    http::setIndexed(r, h->varIndex, value);
  }
  return http::kDeclined;
}

}  // namespace

void registerSetPhase() {
  http::addPhaseHandler(http::Phase::kServerRewrite, handler);
  http::addPhaseHandler(http::Phase::kRewrite, handler);
}

}  // namespace lunet::lua
