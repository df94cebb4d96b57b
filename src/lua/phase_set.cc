// set_by_lua*: an op of the rewrite module's script (as in nginx), so it
// runs in config order among set/rewrite/return/if; stores the handler's
// result into its variable. Arguments after the code are ngx.arg[1..n].
#include "http/modules/modules.h"
#include "http/variables.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

int runSetOp(http::Request& r, const void* data);

// One set_by_lua* op of the rewrite module's script.
int runSet(http::Request& r, const void* data) {
  holdHandlerRequest(r);
  int rc = runSetOp(r, data);
  if (!unholdHandlerRequest(r)) return http::kDone;  // closed under the handler
  return rc;
}

int runSetOp(http::Request& r, const void* data) {
  auto* h = static_cast<LuaHandler*>(const_cast<void*>(data));
  const LuaLocConf* lc = r.loc<LuaLocConf>(luaModule());
  RequestCtx* ctx = RequestCtx::of(r);
  Scheduler& sched = Scheduler::get();
  auto* args = r.arena.array<std::string_view>(h->args.size() + 1);
  for (size_t i = 0; i < h->args.size(); i++) args[i] = h->args[i]->eval(r);
  ctx->setArgs = args;
  ctx->nsetArgs = static_cast<int>(h->args.size());
  EntryThread* t = nullptr;
  RunStatus s = runSyncHandler(ctx, kSet, *h, lc == nullptr || lc->codeCache != 0, &t);
  ctx->setArgs = nullptr;
  ctx->nsetArgs = 0;
  if (s != RunStatus::kDone) {
    sched.release(t);
    if (s == RunStatus::kExited && ctx->exitCode == http::kOk) return http::kDeclined;
    return 500;
  }
  lua_State* co = t->state();
  size_t len = 0;
  const char* v = lua_gettop(co) > 0 ? lua_tolstring(co, 1, &len) : nullptr;
  std::string_view value = v != nullptr ? r.arena.dup({v, len}) : std::string_view();
  sched.release(t);
  http::setIndexed(r, h->varIndex, value);
  return http::kDeclined;
}

}  // namespace

void addSetOp(conf::Engine& e, LuaHandler* h) { http::addRewriteCallOp(e, runSet, h); }

}  // namespace lunet::lua
