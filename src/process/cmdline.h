// nginx's command line: [-?hvVtTq] [-s signal] [-p prefix] [-e error_log]
// [-c conf] [-g directives]. Parsing is separate from acting so it can be
// unit-tested.
#pragma once

#include <string>
#include <vector>

#include "process/cycle.h"

namespace lunet::process {

struct CommandLine {
  Options options;
  bool showVersion = false;    // -v
  bool showConfigure = false;  // -V
  bool help = false;           // -h / -?
  bool dump = false;           // -T
  std::string signal;          // -s: stop|quit|reopen|reload
  std::string error;           // set when parsing failed: nginx's message
};

// Parses argv (argv[0] excluded: pass argc-1, argv+1). `cwd` ends in '/';
// `defaultPrefix` is the compiled-in prefix. Relative -p/-c/-e are resolved
// like nginx: -p against cwd, -c and -e against the prefix.
CommandLine parseCommandLine(const std::vector<std::string>& args, const std::string& cwd,
                             const std::string& defaultPrefix);

}  // namespace lunet::process
