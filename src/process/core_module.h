// The core and events modules: main-context directives (worker_processes,
// daemon, master_process, pid, user, env, error_log, ...) and events {}.
#pragma once

#include "conf/module.h"

namespace lunet::process {

const conf::Module& coreModule();
const conf::Module& eventsModule();

}  // namespace lunet::process
