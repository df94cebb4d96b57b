// What the `resty` command hands to the Lua side of the server it starts
// (src/resty/): the code to run, its arguments and options. The runner,
// lua/lunet/resty.lua, reads them through require "lunet.resty.c", which
// exists only in a process started as `resty`.
#pragma once

#include <string>
#include <vector>

namespace lunet::lua {

struct RestyParams {
  std::string code;  // -e CODE (several -e joined with "; ")
  bool hasCode = false;
  std::string file;               // FILE, "" without
  std::vector<std::string> args;  // arg[1..n]
  std::vector<std::string> pre;   // arg[-k..-1]: resty's own options
  std::string program;            // arg[-k-1]: how resty was called
  std::vector<std::string> libs;  // -l LIB, required first
  std::string jit;                // -j v|dump|off, "" without
  // os.exit(code) of the script, and "the script returned" (a graceful
  // quit): process-level actions the caller (src/cli/resty.cc) provides.
  void (*exitNow)(int code) = nullptr;  // does not return
  void (*done)() = nullptr;
};

// Makes `p` available to lunet.resty.c; call before the VM is created.
void setRestyParams(RestyParams p);

}  // namespace lunet::lua
