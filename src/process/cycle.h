// The process layer's part of a configuration generation (conf/cycle.h):
// opening and closing its listening sockets.
#pragma once

#include "conf/cycle.h"

namespace lunet::process {

// The cycle types live in src/conf; the process layer names them as its own.
using conf::CoreConf;
using conf::currentCycle;
using conf::Cycle;
using conf::CyclePtr;
using conf::Listening;
using conf::loadCycle;
using conf::Options;
using conf::processType;
using conf::ProcessType;
using conf::processTypeName;
using conf::setCurrentCycle;
using conf::setProcessType;

// Opens the listening sockets of `cycle`, taking over fds of `old` for
// identical addresses. Returns false after logging [emerg].
bool openListeningSockets(Cycle& cycle, Cycle* old);
void closeListeningSockets(Cycle& cycle);

}  // namespace lunet::process
