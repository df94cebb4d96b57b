// Master, worker and single-process cycles (see docs/design/process-model.md).
#pragma once

#include <functional>
#include <vector>

#include "process/cycle.h"

namespace lunet::process {

namespace detail {
extern int gWorkerId;
}  // namespace detail

// Worker slot number (0..N-1) of this process; -1 in master/agent/single.
// Inline: ngx.worker.id() through FFI is one call.
inline int workerId() { return detail::gWorkerId; }
// True once graceful shutdown has begun in this process (ngx.worker.exiting()).
bool exiting();
// PID of the master (or of this process in single mode).
pid_t masterPid();

// Runs the master process until it exits; returns the exit code.
int runMaster(CyclePtr cycle);
// Runs the whole server in this one process (master_process off).
int runSingle(CyclePtr cycle);

// Writes / removes the pid file of `cycle`.
bool writePidFile(const Cycle& cycle);
void deletePidFile(const Cycle& cycle);

// ngx.process.enable_privileged_agent(): from init_by_lua only, in the master.
void enablePrivilegedAgent(int connections);
bool privilegedAgentEnabled();

// USR1: reopens the error log and every module's files (Module::reopenFiles)
// of `cycle`; `owner` as there. Logs failures at [alert].
void reopenAll(Cycle& cycle, uid_t owner);

// Starts a graceful exit of this worker (as if it got SIGQUIT).
void requestGracefulExit();

}  // namespace lunet::process
