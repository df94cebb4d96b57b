// A configuration generation: everything built from one reading of
// nginx.conf. The master builds a new Cycle on start and on every HUP; workers
// are forked with one and never see another. The process layer (src/process)
// opens its listening sockets and runs it; everything below it only reads it.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/ast.h"
#include "conf/module.h"
#include "core/log.h"
#include "shm/zone.h"

struct lua_State;

namespace lunet::conf {

// How this process was started; see ngx.process.type().
enum class ProcessType { kSingle, kMaster, kSignaller, kWorker, kHelper, kPrivilegedAgent };

ProcessType processType();
void setProcessType(ProcessType t);
const char* processTypeName(ProcessType t);

// A listening socket requested by a module (the HTTP `listen` directive).
// The master opens it (or inherits it from the previous cycle) before fork.
struct Listening {
  std::string text;  // "127.0.0.1:8080" as written, for messages
  sockaddr_storage addr{};
  socklen_t addrLen = 0;
  int backlog = 511;
  bool reuseport = false;
  int fd = -1;  // one fd; with reuseport, one per worker in fds
  std::vector<int> fds;
  void* owner = nullptr;  // module data (the HTTP address → servers table)
};

// Main-context settings of the core and events modules.
struct CoreConf : ConfBase {
  int64_t workerProcesses = -1;  // -1 unset; `auto` resolved to nproc
  int64_t daemon = -1;
  int64_t masterProcess = -1;
  std::optional<std::string> pid;
  std::optional<std::string> user;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  int64_t rlimitNofile = -1;
  int64_t shutdownTimeout = -1;  // ms
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  std::vector<std::string> workingDirectory;
  // ngx.process.enable_privileged_agent(connections) from init_by_lua: the
  // agent's connection budget; -1: this generation has no agent.
  int64_t privilegedAgentConnections = -1;
  // events {}
  int64_t workerConnections = -1;
  bool eventsSeen = false;
};

struct Options {
  std::string prefix;      // ends in '/'
  std::string confFile;    // absolute
  std::string errorLog;    // -e, empty: default
  std::string directives;  // -g
  bool testOnly = false;   // -t / -T
  bool quiet = false;      // -q
  // Config text held in memory (liblunet's Server::fromString): parsed
  // instead of reading confFile, which still names it in messages and is
  // where relative includes start.
  std::optional<std::string> confText;
  // liblunet: Lua modules the embedding program provides, as
  // package.preload entries of every VM of the generation: C openers
  // (lua_CFunction) and Lua sources.
  std::vector<std::pair<std::string, int (*)(lua_State*)>> luaOpeners;
  std::vector<std::pair<std::string, std::string>> luaSources;
  // liblunet: always one process, never a daemon (master_process and
  // daemon read as off whatever the config says).
  bool embedded = false;
};

struct Cycle {
  Options options;
  std::string confPrefix;  // directory of confFile, ends in '/'
  std::vector<ConfNode> tree;

  // Main config struct of every module, indexed by Module::index (null when
  // the module has none or its block is absent).
  std::vector<ConfPtr> confs;
  template <class T>
  T* conf(const Module& m) const {
    return static_cast<T*>(confs[m.index].get());
  }
  // The core module's settings; set by that module when its block is read.
  CoreConf& core() const { return *coreConf; }
  CoreConf* coreConf = nullptr;

  core::ErrorLog errorLog;  // main-level error_log
  std::vector<std::unique_ptr<Listening>> listening;
  // Shared-memory zones (lua_shared_dict, the http counters, ...). A reload
  // takes over the previous cycle's zones of the same name and size.
  shm::ZoneTable zones;

  // Resolves a path against the prefix (absolute paths unchanged).
  std::string fullPath(const std::string& path) const;
  std::string fullConfPath(const std::string& path) const;  // against confPrefix
};

using CyclePtr = std::unique_ptr<Cycle>;

// Reads and applies the configuration. Throws ConfError (message in
// nginx's words) or std::runtime_error. Opens log files, but no sockets
// (src/process opens those: openListeningSockets).
CyclePtr loadCycle(const Options& opts);

// The cycle in force in this process.
Cycle* currentCycle();
void setCurrentCycle(Cycle* c);

}  // namespace lunet::conf
