// The Lua VM of a process: one LuaJIT state, its package paths, the embedded
// lua/ modules, the ngx API table, the code cache and the scheduler.
//
// The master creates the VM at configuration load (init_by_lua runs there,
// before fork, so modules it loads are shared copy-on-write); each worker
// uses its forked copy. A reload builds a new VM with the new cycle.
#pragma once

#include <lua.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "lua/scheduler.h"

namespace lunet::lua {

class TimerStore;

struct VmOptions {
  std::string prefix;        // server prefix ($prefix in paths), ends in '/'
  std::string packagePath;   // lua_package_path ("" = default)
  std::string packageCpath;  // lua_package_cpath ("" = default)
};

class Vm {
 public:
  // Creates and initialises a VM; returns null with *err on failure.
  static std::unique_ptr<Vm> create(const VmOptions& opts, std::string* err);
  ~Vm();
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  lua_State* state() const { return L_; }
  const std::string& prefix() const { return prefix_; }
  Scheduler& scheduler() { return *scheduler_; }
  // The worker's timer store, created on first use (needs the loop).
  TimerStore& timers();

  // Compiles a chunk and pins it in the registry; returns the ref, or
  // LUA_NOREF with *err ("failed to load inlined Lua code: ..."; `bare`:
  // Lua's message only, as init_by_lua reports it).
  int compileString(std::string_view src, const std::string& chunkName, std::string* err,
                    bool bare = false);
  // A file that cannot be opened or read sets *status (if given) as
  // lua-nginx-module answers it: 404 when it does not exist, else 503; a
  // syntax error 500. `bare`: *err is Lua's message only, without the
  // "failed to load external Lua file" prefix.
  int compileFile(const std::string& path, std::string* err, int* status = nullptr,
                  bool bare = false);

  // Runs a pinned function to completion on the main state in the given
  // context (init, init_worker, exit_worker). Returns false with *err.
  bool runSync(int ref, uint32_t phase, std::string* err);

  // Turns on the warning for writes to globals from request handlers
  // (after init_by_lua, as OpenResty does).
  void enableGlobalWriteGuard();

  // For lua_code_cache off: forget modules loaded after VM setup so
  // `require` reloads them.
  void unloadUserModules();

 private:
  Vm() = default;
  friend void setCurrentVm(Vm* vm);
  bool init(const VmOptions& opts, std::string* err);

  lua_State* L_ = nullptr;
  std::string prefix_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<TimerStore> timers_;
  int builtinModulesRef_ = LUA_NOREF;  // names in package.loaded after setup
};

// The VM of this process (null until created).
Vm* currentVm();
void setCurrentVm(Vm* vm);

// "=content_by_lua(nginx.conf:45)" for inline code; "@/path/file.lua" for files.
// confFile is named relative to confPrefix (the conf directory, ending in
// '/'; empty: the base name is used); a long name is shortened to
// "...TAIL" so that the whole chunk name fits Lua's short_src.
std::string inlineChunkName(std::string_view directive, std::string_view confFile, int line,
                            std::string_view confPrefix = {});

// Expands ";;" (the default path) and "$prefix" in a package path.
std::string expandPackagePath(std::string_view path, std::string_view dflt,
                              std::string_view prefix);

}  // namespace lunet::lua
