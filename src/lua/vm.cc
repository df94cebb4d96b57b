#include "lua/vm.h"

#include <cerrno>
#include <cstring>

#include "lua/api.h"
#include "lua/context.h"
#include "lua/embedded.h"
#include "lua/timer.h"

namespace lunet::lua {

namespace {

Vm* gVm = nullptr;

// Debian installs C modules for Lua 5.1 (cjson.so) here; keep them reachable
// whatever the library's compiled-in default is.
constexpr const char* kDebianCpath = "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so";

// package.loaders entry: modules from lua/ compiled into the binary.
int embeddedSearcher(lua_State* L) {
  size_t len = 0;
  const char* name = luaL_checklstring(L, 1, &len);
  for (const EmbeddedLua* e = kEmbeddedLua; e->module != nullptr; e++) {
    if (std::strcmp(e->module, name) != 0) continue;
    lua_pushstring(L, "@");
    lua_pushstring(L, e->path);
    lua_concat(L, 2);
    const char* chunk = lua_tostring(L, -1);
    if (luaL_loadbuffer(L, e->source, e->size, chunk) != 0) {
      return luaL_error(L, "error loading embedded module '%s':\n\t%s", name, lua_tostring(L, -1));
    }
    return 1;
  }
  lua_pushfstring(L, "\n\tno embedded module '%s'", name);
  return 1;
}

// Warns about globals written from request handlers (OpenResty's wording).
// The ngx.log call sits on line 12, as in OpenResty, so the log line reads
// "[lua] _G write guard:12: __newindex(): writing a global ...".
const char kWriteGuard[] =
    "local getmetatable, setmetatable, rawset, tostring =\n"
    "      getmetatable, setmetatable, rawset, tostring\n"
    "local traceback, ngx = debug.traceback, ngx\n"
    "local mt = getmetatable(_G) or {}\n"
    "if mt.__newindex then return end\n"
    "mt.__newindex = function(tb, key, value)\n"
    "  rawset(tb, key, value)\n"
    "  local phase = ngx.get_phase()\n"
    "  if phase == 'init' or phase == 'init_worker' or phase == 'exit_worker' then\n"
    "    return\n"
    "  end\n"
    "  ngx.log(ngx.WARN, \"writing a global Lua variable ('\", tostring(key),\n"
    "          \"') which may lead to race conditions between concurrent requests, so prefer \"\n"
    "          .. \"the use of 'local' variables\", traceback('', 2))\n"
    "end\n"
    "setmetatable(_G, mt)\n";

int traceback(lua_State* L) {
  const char* msg = lua_tostring(L, 1);
  luaL_traceback(L, L, msg != nullptr ? msg : "unknown reason", 1);
  return 1;
}

}  // namespace

Vm* currentVm() { return gVm; }
void setCurrentVm(Vm* vm) {
  gVm = vm;
  if (vm != nullptr && vm->scheduler_) vm->scheduler_->makeCurrent();
}

std::string inlineChunkName(std::string_view directive, std::string_view confFile, int line,
                            std::string_view confPrefix) {
  // As lua-nginx-module: the file relative to the conf prefix, and a name
  // too long for Lua's short_src (LUA_IDSIZE - 1 visible bytes) keeps its
  // end after "...", so the line number survives.
  std::string_view name = confFile;
  if (!confPrefix.empty() && name.size() > confPrefix.size() &&
      name.substr(0, confPrefix.size()) == confPrefix) {
    name.remove_prefix(confPrefix.size());
  } else if (confPrefix.empty()) {
    auto slash = name.rfind('/');
    if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  }
  std::string num = std::to_string(line);
  constexpr size_t kVisible = LUA_IDSIZE - 1;
  size_t fixed = directive.size() + num.size() + 3;  // "(", ":", ")"
  std::string s = "=";
  s.append(directive);
  s += '(';
  if (fixed + name.size() > kVisible && fixed + 3 < kVisible) {
    s += "...";
    s.append(name.substr(name.size() - (kVisible - fixed - 3)));
  } else {
    s.append(name);
  }
  s += ':';
  s += num;
  s += ')';
  return s;
}

std::string expandPackagePath(std::string_view path, std::string_view dflt,
                              std::string_view prefix) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    if (path.substr(i, 2) == ";;") {
      out += ';';
      out.append(dflt);
      out += ';';
      i += 2;
    } else if (path.substr(i, 9) == "${prefix}") {
      out.append(prefix);
      i += 9;
    } else if (path.substr(i, 7) == "$prefix") {
      out.append(prefix);
      i += 7;
    } else {
      out += path[i++];
    }
  }
  return out;
}

std::unique_ptr<Vm> Vm::create(const VmOptions& opts, std::string* err) {
  std::unique_ptr<Vm> vm(new Vm());
  if (!vm->init(opts, err)) return nullptr;
  return vm;
}

bool Vm::init(const VmOptions& opts, std::string* err) {
  prefix_ = opts.prefix;
  L_ = luaL_newstate();
  if (L_ == nullptr) {
    *err = "failed to create the Lua VM";
    return false;
  }
  lua_State* L = L_;
  luaL_openlibs(L);

  // package.path / cpath
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  std::string dfltPath = lua_tostring(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, -1, "cpath");
  std::string dfltCpath = lua_tostring(L, -1);
  lua_pop(L, 1);
  if (dfltCpath.find(kDebianCpath) == std::string::npos) {
    dfltCpath += ';';
    dfltCpath += kDebianCpath;
  }
  std::string path = opts.packagePath.empty()
                         ? dfltPath
                         : expandPackagePath(opts.packagePath, dfltPath, opts.prefix);
  std::string cpath = opts.packageCpath.empty()
                          ? dfltCpath
                          : expandPackagePath(opts.packageCpath, dfltCpath, opts.prefix);
  lua_pushlstring(L, path.data(), path.size());
  lua_setfield(L, -2, "path");
  lua_pushlstring(L, cpath.data(), cpath.size());
  lua_setfield(L, -2, "cpath");

  // Embedded modules come right after package.preload, before the file
  // system, so lua/ngx/*.lua win over any same-named file on disk.
  lua_getfield(L, -1, "loaders");
  int n = static_cast<int>(lua_objlen(L, -1));
  for (int i = n; i >= 2; i--) {
    lua_rawgeti(L, -1, i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushcfunction(L, embeddedSearcher);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 2);

  scheduler_ = std::make_unique<Scheduler>(L);
  setCurrentVm(this);

  lua_createtable(L, 0, 128);
  injectConstantsApi(L);
  injectStringApi(L);
  injectLogApi(L);
  injectSleepApi(L);
  injectTimerApi(L);
  injectOnAbortApi(L);
  injectRequestApi(L);
  injectOutputApi(L);
  injectHeadersApi(L);
  injectCtxApi(L);
  injectShdictApi(L);
  injectPipeApi(L);
  injectRestyApi(L);
  injectSocketTcpApi(L);
  injectSocketUdpApi(L);
  injectSubrequestApi(L);
  injectNotYetApi(L);
  lua_pushvalue(L, -1);
  lua_setglobal(L, "ngx");
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "ngx");
  lua_pop(L, 3);

  // Lua-side parts of the API (FFI wrappers), as lua-resty-core does.
  lua_getglobal(L, "require");
  lua_pushstring(L, "resty.core");
  if (lua_pcall(L, 1, 0, 0) != 0) {
    *err = std::string("failed to load resty.core: ") + lua_tostring(L, -1);
    lua_pop(L, 1);
    return false;
  }

  // Snapshot of the modules loaded so far (kept across lua_code_cache off).
  lua_newtable(L);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 1);
    lua_rawset(L, -6);
  }
  lua_pop(L, 2);
  builtinModulesRef_ = luaL_ref(L, LUA_REGISTRYINDEX);
  return true;
}

Vm::~Vm() {
  if (gVm == this) gVm = nullptr;
  timers_.reset();  // ends running timers' threads: before the scheduler
  scheduler_.reset();
  if (L_ != nullptr) lua_close(L_);
}

TimerStore& Vm::timers() {
  if (!timers_) timers_ = std::make_unique<TimerStore>(L_);
  return *timers_;
}

int Vm::compileString(std::string_view src, const std::string& chunkName, std::string* err,
                      bool bare) {
  if (luaL_loadbuffer(L_, src.data(), src.size(), chunkName.c_str()) != 0) {
    *err = std::string(bare ? "" : "failed to load inlined Lua code: ") + lua_tostring(L_, -1);
    lua_pop(L_, 1);
    return LUA_NOREF;
  }
  return luaL_ref(L_, LUA_REGISTRYINDEX);
}

int Vm::compileFile(const std::string& path, std::string* err, int* status, bool bare) {
  errno = 0;
  int rc = luaL_loadfile(L_, path.c_str());
  if (rc != 0) {
    int e = errno;
    if (status != nullptr) *status = rc != LUA_ERRFILE ? 500 : e == ENOENT ? 404 : 503;
    const char* m = lua_tostring(L_, -1);
    if (m == nullptr) m = "unknown error";
    *err = bare ? std::string(m) : "failed to load external Lua file \"" + path + "\": " + m;
    lua_pop(L_, 1);
    return LUA_NOREF;
  }
  return luaL_ref(L_, LUA_REGISTRYINDEX);
}

bool Vm::runSync(int ref, uint32_t phase, std::string* err) {
  ScopedRunCtx ctx(phase, nullptr);
  resetAuxCtx(L_);
  lua_pushcfunction(L_, traceback);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, ref);
  if (lua_pcall(L_, 0, 0, -2) != 0) {
    const char* m = lua_tostring(L_, -1);
    *err = m != nullptr ? m : "unknown reason";
    lua_pop(L_, 2);
    return false;
  }
  lua_pop(L_, 1);
  return true;
}

void Vm::enableGlobalWriteGuard() {
  if (luaL_loadbuffer(L_, kWriteGuard, sizeof(kWriteGuard) - 1, "=_G write guard") != 0 ||
      lua_pcall(L_, 0, 0, 0) != 0) {
    lua_pop(L_, 1);
  }
}

void Vm::unloadUserModules() {
  lua_State* L = L_;
  lua_rawgeti(L, LUA_REGISTRYINDEX, builtinModulesRef_);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawget(L, -5);
    bool builtin = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (!builtin) {
      lua_pushvalue(L, -1);
      lua_pushnil(L);
      lua_rawset(L, -4);
    }
  }
  lua_pop(L, 3);
}

}  // namespace lunet::lua
