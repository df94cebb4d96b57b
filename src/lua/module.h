// ngx_http_lua_module's configuration: the lua_* and *_by_lua* directives,
// their config structs, and the module's lifecycle hooks (VM creation and
// init_by_lua in the master, init_worker/exit_worker in workers).
#pragma once

#include <lua.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conf/module.h"
#include "http/variables.h"
#include "lua/socket.h"
#include "lua/vm.h"
#include "shm/dict.h"
#include "shm/zone.h"

namespace lunet::lua {

const conf::Module& luaModule();
// balancer_by_lua* in upstream {} (phase_balancer.cc).
const conf::Module& luaBalancerModule();

// One piece of handler code: inline source or a file, compiled on first use.
struct LuaHandler {
  std::string source;     // inline code, or the file path (absolute)
  std::string chunkName;  // "=content_by_lua(nginx.conf:45)" (inline only)
  bool file = false;
  int ref = LUA_NOREF;  // compiled function (with lua_code_cache on)
  // set_by_lua: target variable and extra arguments (ngx.arg[1..n]).
  int varIndex = -1;
  std::vector<std::unique_ptr<http::ComplexValue>> args;
};
using LuaHandlerPtr = std::shared_ptr<LuaHandler>;

// One lua_shared_dict: its zone and this process's view of it.
struct SharedDictConf {
  std::string name;
  shm::ZonePtr zone;
  std::unique_ptr<shm::Dict> dict;
};

struct LuaMainConf : conf::ConfBase {
  std::optional<std::string> packagePath;
  std::optional<std::string> packageCpath;
  LuaHandlerPtr init, initWorker, exitWorker;
  int64_t maxPendingTimers = -1;
  int64_t maxRunningTimers = -1;
  int64_t timerOverflowQueue = -1;  // lua_timer_overflow: 0 drop, 1 queue
  // lua_socket_* at the http{} level: what timers' cosockets use.
  SocketConf socket;
  // resolver valid= (seconds, -1 unset) and resolver_timeout (ms).
  int64_t resolverValid = -1;
  int64_t resolverTimeout = -1;
  int64_t regexCacheMaxEntries = -1;  // lua_regex_cache_max_entries (1024)
  int64_t regexMatchLimit = -1;       // lua_regex_match_limit (0: PCRE2's)
  // Which phases any location uses (handlers are registered only if so).
  bool anyRewrite = false, anyAccess = false;
  bool anyHeaderFilter = false, anyBodyFilter = false, anyLog = false;
  std::vector<SharedDictConf> dicts;  // before vm: the VM points into them
  std::unique_ptr<Vm> vm;
};

struct LuaLocConf : conf::ConfBase {
  int64_t codeCache = -1;
  int64_t needRequestBody = -1;
  int64_t transformUnderscores = -1;
  int64_t checkClientAbort = -1;
  int64_t useDefaultType = -1;
  int64_t http10Buffering = -1;
  SocketConf socket;                // lua_socket_*
  std::vector<LuaHandlerPtr> sets;  // set_by_lua* (run as rewrite ops)
  LuaHandlerPtr rewrite, access, content, headerFilter, bodyFilter, log;
};

// lua_shared_dict NAME SIZE (api_shdict.cc).
void setLuaSharedDict(conf::Engine& e, const conf::ConfNode& n, conf::ConfBase* c,
                      const conf::Directive& d);
// Fills ngx.shared with the dicts of `mc` (api_shdict.cc).
void addSharedDicts(lua_State* L, const LuaMainConf& mc);

// Main conf of the lua module in the current cycle (null without http{}).
LuaMainConf* luaMainConf();

// The cycle whose init_by_lua is running (the master at start or at a HUP,
// a signaller, resty's single process); null at any other time.
// ngx.process.enable_privileged_agent() marks it.
conf::Cycle* initCycle();

// Pushes the compiled function of `h` onto L (compiling it, and caching it
// unless lua_code_cache is off). Returns false with *err on a load error.
// *status (if given) is the HTTP status lua-nginx-module answers the error
// with (404 / 503 for a file that cannot be opened or read, else 500).
bool pushHandler(lua_State* L, LuaHandler& h, bool codeCache, std::string* err,
                 int* status = nullptr);

}  // namespace lunet::lua
