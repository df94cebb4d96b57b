// The FFI exports behind require "ngx.process" (lua/ngx/process.lua).
#include <unistd.h>

#include "conf/cycle.h"
#include "lua/context.h"
#include "lua/module.h"
#include "process/process.h"

namespace {

using lunet::conf::ProcessType;

// The cycle that describes this process: the one whose init_by_lua runs, else
// the one in force.
lunet::conf::Cycle* ownCycle() {
  lunet::conf::Cycle* c = lunet::lua::initCycle();
  return c != nullptr ? c : lunet::conf::currentCycle();
}

ProcessType typeNow() {
  ProcessType t = lunet::conf::processType();
  // Before the master loop starts (init_by_lua at start-up) the process is
  // still "single"; as lua-nginx-module, a config with master_process on
  // makes it the master.
  if (t == ProcessType::kSingle) {
    lunet::conf::Cycle* c = ownCycle();
    if (c != nullptr && c->coreConf != nullptr && c->core().masterProcess != 0)
      t = ProcessType::kMaster;
  }
  return t;
}

}  // namespace

// 0 single, 1 master, 2 signaller, 3 worker, 4 helper, 5 privileged agent
// (lua/ngx/process.lua maps them to names).
extern "C" int lunet_ffi_process_type() noexcept { return static_cast<int>(typeNow()); }

// The master's pid; this process's own in single mode and in the master
// itself (also while init_by_lua runs at start-up); 0 (nil) in a signaller.
extern "C" int lunet_ffi_master_pid() noexcept {
  ProcessType t = typeNow();
  if (t == ProcessType::kSignaller) return 0;
  pid_t p = lunet::process::masterPid();
  if (p <= 0 || t == ProcessType::kSingle || t == ProcessType::kMaster) p = ::getpid();
  return static_cast<int>(p);
}

// A graceful exit of this worker, agent or single process (as QUIT). The
// master (init_by_lua) has no loop to leave: a no-op there.
extern "C" void lunet_ffi_signal_graceful_exit() noexcept { lunet::process::requestGracefulExit(); }

// From init_by_lua only (process.lua checks the phase first, as
// lua-resty-core; this is the same check on the C side). Marks the cycle
// being configured: its master forks the agent with `connections` as its
// worker_connections (0: the master logs an alert and forks none).
extern "C" int lunet_ffi_enable_privileged_agent(unsigned int connections, char** err) noexcept {
  lunet::conf::Cycle* c = lunet::lua::initCycle();
  if (c == nullptr || c->coreConf == nullptr || lunet::lua::current().phase != lunet::lua::kInit) {
    *err = const_cast<char*>("API disabled in the current context");
    return lunet::lua::kFfiError;
  }
  c->core().privilegedAgentConnections = connections;
  return lunet::lua::kFfiOk;
}
