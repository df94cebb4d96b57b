// exit_worker_by_lua*: runs in each worker (and the privileged agent) when it
// exits.
#include "core/log.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"

namespace lunet::lua {

void runExitWorker() {
  LuaMainConf* mc = luaMainConf();
  if (mc == nullptr || !mc->vm || !mc->exitWorker) return;
  std::string err;
  if (!pushHandler(mc->vm->state(), *mc->exitWorker, true, &err)) {
    core::processLog().error(core::Level::kError, 0, "exit_worker_by_lua error: %s", err.c_str());
    return;
  }
  int ref = luaL_ref(mc->vm->state(), LUA_REGISTRYINDEX);
  if (!mc->vm->runSync(ref, kExitWorker, &err)) {
    core::processLog().error(core::Level::kError, 0, "exit_worker_by_lua error: %s", err.c_str());
  }
  luaL_unref(mc->vm->state(), LUA_REGISTRYINDEX, ref);
}

}  // namespace lunet::lua
