// Internal interface between master.cc and worker.cc.
#pragma once

#include <functional>
#include <vector>

#include "process/process.h"

namespace lunet::process {

// Runs the event loop of a worker (or of the single process) until it exits.
// Returns the exit status for _exit().
int runWorkerLoop(Cycle& cycle, int id, bool single, bool privileged);
void setMasterPid(pid_t p);

}  // namespace lunet::process
