// The FFI exports behind require "ngx.process" (lua/ngx/process.lua).
// A minimal first piece (type, get_master_pid, signal_graceful_exit) that the
// `resty` command needs; the privileged agent (enable_privileged_agent)
// belongs to the agent work of issue 15.
#include <unistd.h>

#include "conf/cycle.h"
#include "process/process.h"

// 0 single, 1 master, 2 signaller, 3 worker, 4 helper, 5 privileged agent
// (lua/ngx/process.lua maps them to names).
extern "C" int lunet_ffi_process_type() noexcept {
  return static_cast<int>(lunet::conf::processType());
}

extern "C" int lunet_ffi_master_pid() noexcept {
  return static_cast<int>(lunet::process::masterPid());
}

extern "C" void lunet_ffi_signal_graceful_exit() noexcept { lunet::process::requestGracefulExit(); }
