// init_worker_by_lua*: runs in each worker (and the privileged agent) after
// fork, on the worker's copy of the VM.
#include "core/log.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"

namespace lunet::lua {

void runInitWorker() {
  LuaMainConf* mc = luaMainConf();
  if (mc == nullptr || !mc->vm || !mc->initWorker) return;
  std::string err;
  if (!pushHandler(mc->vm->state(), *mc->initWorker, true, &err)) {
    core::processLog().error(core::Level::kError, 0, "init_worker_by_lua error: %s", err.c_str());
    return;
  }
  int ref = luaL_ref(mc->vm->state(), LUA_REGISTRYINDEX);
  if (!mc->vm->runSync(ref, kInitWorker, &err)) {
    core::processLog().error(core::Level::kError, 0, "init_worker_by_lua error: %s", err.c_str());
  }
  luaL_unref(mc->vm->state(), LUA_REGISTRYINDEX, ref);
}

}  // namespace lunet::lua
