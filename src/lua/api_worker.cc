// ngx.worker.* (lua/resty/core/worker.lua); ngx.get_phase is context.cc.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "lua/api.h"
#include "lua/context.h"
#include "process/process.h"

namespace lunet::lua {

// ---- FFI (lua/resty/core/worker.lua) ----

extern "C" int lunet_ffi_worker_id() noexcept { return process::workerId(); }
extern "C" int lunet_ffi_worker_pid() noexcept { return static_cast<int>(::getpid()); }
extern "C" int lunet_ffi_worker_exiting() noexcept { return process::exiting() ? 1 : 0; }

extern "C" int lunet_ffi_worker_count() noexcept {
  conf::Cycle* c = conf::currentCycle();
  if (c != nullptr && c->core().masterProcess != 0)
    return static_cast<int>(c->core().workerProcesses);
  return 1;
}

// The master's children as the kernel lists them (the workers, plus the
// privileged agent when there is one); this process alone without a master.
// Returns 0, or -1 when the list cannot be read.
extern "C" int lunet_ffi_worker_pids(int* pids, size_t* len) noexcept {
  size_t cap = *len;
  *len = 0;
  pid_t master = process::masterPid();
  if (master == ::getpid() || process::workerId() < 0) {
    if (cap > 0) pids[(*len)++] = static_cast<int>(::getpid());
    return 0;
  }
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/task/%d/children", static_cast<int>(master),
                static_cast<int>(master));
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return -1;
  long pid = 0;
  while (*len < cap && std::fscanf(f, "%ld", &pid) == 1) pids[(*len)++] = static_cast<int>(pid);
  std::fclose(f);
  return 0;
}

}  // namespace lunet::lua
