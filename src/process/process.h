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

// liblunet (src/embed): the single process's work on a private loop
// (event::loop()) that the embedding program drives. No signal handler,
// environment change, title or exit. startEmbedded() returns false when a
// server already runs in this process. stopEmbedded() begins the graceful
// exit; once embeddedDrained() (checked after each run of the loop),
// finishEmbedded() runs the exit hooks (exit_worker_by_lua) and frees the
// loop.
bool startEmbedded(Cycle& cycle);
void stopEmbedded();
bool embeddedDrained();
void finishEmbedded();

// Writes / removes the pid file of `cycle`.
bool writePidFile(const Cycle& cycle);
void deletePidFile(const Cycle& cycle);

// USR1: reopens the error log and every module's files (Module::reopenFiles)
// of `cycle`; `owner` as there. Logs failures at [alert].
void reopenAll(Cycle& cycle, uid_t owner);

// Starts a graceful exit of this worker (as if it got SIGQUIT).
void requestGracefulExit();

// The `resty` command's signal rules for the single process it runs:
// SIGINT exits at once with 130 (from a plain signal handler, so it works
// while Lua code runs a busy loop; `interrupted` runs first, it must be
// async-signal-safe), SIGTERM exits with 143, SIGHUP is a graceful quit.
// Call before runSingle().
void setCommandLineMode(void (*interrupted)() noexcept);
bool commandLineMode();

// Flushes stdio and ends the process with `code` now (os.exit in resty).
[[noreturn]] void exitNow(int code);

}  // namespace lunet::process
