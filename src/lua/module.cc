#include "lua/module.h"

#include <cstring>

#include "conf/cycle.h"
#include "http/core_module.h"
#include "lua/api.h"
#include "lua/context.h"
#include "lua/phases.h"
#include "lua/timer.h"
#include "net/pool.h"
#include "net/resolver.h"

namespace lunet::lua {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

enum class Kind : uint8_t {
  kInit,
  kInitWorker,
  kExitWorker,
  kSet,
  kRewrite,
  kAccess,
  kContent,
  kHeaderFilter,
  kBodyFilter,
  kLog,
};

struct KindInfo {
  Kind kind;
};
constexpr KindInfo kInitInfo{Kind::kInit};
constexpr KindInfo kInitWorkerInfo{Kind::kInitWorker};
constexpr KindInfo kExitWorkerInfo{Kind::kExitWorker};
constexpr KindInfo kSetInfo{Kind::kSet};
constexpr KindInfo kRewriteInfo{Kind::kRewrite};
constexpr KindInfo kAccessInfo{Kind::kAccess};
constexpr KindInfo kContentInfo{Kind::kContent};
constexpr KindInfo kHeaderFilterInfo{Kind::kHeaderFilter};
constexpr KindInfo kBodyFilterInfo{Kind::kBodyFilter};
constexpr KindInfo kLogInfo{Kind::kLog};

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "content_by_lua_block" -> "content_by_lua"
std::string_view baseName(std::string_view name) {
  if (endsWith(name, "_block")) return name.substr(0, name.size() - 6);
  if (endsWith(name, "_file")) return name.substr(0, name.size() - 5);
  return name;
}

// Builds the handler for `node`; `codeArg` is the index of the code/path.
LuaHandlerPtr makeHandler(Engine& e, const ConfNode& n, size_t codeArg) {
  auto h = std::make_shared<LuaHandler>();
  const std::string& v = n.arg(codeArg);
  if (endsWith(n.name, "_file")) {
    if (v.empty()) fail(n, "invalid location config: no runnable Lua code");
    h->file = true;
    h->source = e.cycle().fullPath(v);
    return h;
  }
  bool block = endsWith(n.name, "_block");
  if (!block && v.empty()) fail(n, "invalid location config: no runnable Lua code");
  h->source = v;
  std::string file = n.file ? *n.file : std::string("nginx.conf");
  h->chunkName = inlineChunkName(baseName(n.name), file,
                                 block && n.luaLine > 0 ? n.luaLine : n.line, e.cycle().confPrefix);
  return h;
}

void duplicate(const ConfNode& n) { fail(n, "\"" + n.name + "\" directive is duplicate"); }

void setByLua(Engine& e, const ConfNode& n, ConfBase* c, const Directive& d) {
  Kind kind = static_cast<const KindInfo*>(d.data)->kind;
  auto* main = e.level()->mainConf<LuaMainConf>(luaModule());
  if (kind == Kind::kInit || kind == Kind::kInitWorker || kind == Kind::kExitWorker) {
    auto* mc = static_cast<LuaMainConf*>(c);
    LuaHandlerPtr& slot = kind == Kind::kInit         ? mc->init
                          : kind == Kind::kInitWorker ? mc->initWorker
                                                      : mc->exitWorker;
    if (slot) duplicate(n);
    slot = makeHandler(e, n, n.args.size() - 1);
    return;
  }
  auto* lc = static_cast<LuaLocConf*>(c);
  if (kind == Kind::kSet) {
    const std::string& var = n.arg(0);
    if (var.size() < 2 || var[0] != '$') fail(n, "invalid variable name \"" + var + "\"");
    bool block = endsWith(n.name, "_block");
    if (block && n.args.size() != 2) {
      fail(n, "invalid number of arguments in \"" + n.name + "\" directive");
    }
    LuaHandlerPtr h = makeHandler(e, n, block ? n.args.size() - 1 : 1);
    h->varIndex = http::variableIndex(std::string_view(var).substr(1), true);
    if (!block) {
      for (size_t i = 2; i < n.args.size(); i++) {
        auto cv = std::make_unique<http::ComplexValue>();
        cv->compile(n, n.arg(i));
        h->args.push_back(std::move(cv));
      }
    }
    addSetOp(e, h.get());
    lc->sets.push_back(std::move(h));  // owns it; the rewrite op points to it
    return;
  }
  LuaHandlerPtr* slot = nullptr;
  switch (kind) {
    case Kind::kRewrite:
      slot = &lc->rewrite;
      main->anyRewrite = true;
      break;
    case Kind::kAccess:
      slot = &lc->access;
      main->anyAccess = true;
      break;
    case Kind::kContent:
      slot = &lc->content;
      break;
    case Kind::kHeaderFilter:
      slot = &lc->headerFilter;
      main->anyHeaderFilter = true;
      break;
    case Kind::kBodyFilter:
      slot = &lc->bodyFilter;
      main->anyBodyFilter = true;
      break;
    case Kind::kLog:
      slot = &lc->log;
      main->anyLog = true;
      break;
    default:
      return;
  }
  if (*slot) duplicate(n);
  *slot = makeHandler(e, n, n.args.size() - 1);
  if (kind == Kind::kContent) {
    auto* clcf = e.level()->locConf<http::HttpCoreLoc>(http::httpCoreModule());
    if (clcf != nullptr) clcf->handler = contentHandler;
  }
}

void setTimerOverflow(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* mc = static_cast<LuaMainConf*>(c);
  if (mc->timerOverflowQueue != -1) duplicate(n);
  const std::string& v = n.arg(0);
  if (v == "drop") {
    mc->timerOverflowQueue = 0;
  } else if (v == "queue") {
    mc->timerOverflowQueue = 1;
  } else {
    fail(n, "invalid value \"" + v + "\" in \"" + n.name +
                "\" directive, it must be \"drop\" or \"queue\"");
  }
}

void setTimerLimit(Engine& e, const ConfNode& n, ConfBase* c, const Directive& d) {
  int64_t v = conf::parseNumber(n, 0);
  if (v < 1) fail(n, "invalid value \"" + n.arg(0) + "\" in \"" + n.name + "\" directive");
  (void)e;
  auto* mc = static_cast<LuaMainConf*>(c);
  int64_t& slot = d.name == "lua_max_pending_timers" ? mc->maxPendingTimers : mc->maxRunningTimers;
  if (slot != -1) duplicate(n);
  slot = v;
}

// lua_socket_*: times, sizes, numbers and the log flag, into the location's
// SocketConf; at the http{} level also into the main conf (for timers).
struct SocketField {
  int64_t SocketConf::*field;
  enum Kind : uint8_t { kMsec, kSize, kNumber, kFlag } kind;
};
constexpr SocketField kConnectTimeoutField{&SocketConf::connectTimeout, SocketField::kMsec};
constexpr SocketField kSendTimeoutField{&SocketConf::sendTimeout, SocketField::kMsec};
constexpr SocketField kReadTimeoutField{&SocketConf::readTimeout, SocketField::kMsec};
constexpr SocketField kBufferSizeField{&SocketConf::bufferSize, SocketField::kSize};
constexpr SocketField kPoolSizeField{&SocketConf::poolSize, SocketField::kNumber};
constexpr SocketField kKeepaliveTimeoutField{&SocketConf::keepaliveTimeout, SocketField::kMsec};
constexpr SocketField kLogErrorsField{&SocketConf::logErrors, SocketField::kFlag};

void setSocket(Engine& e, const ConfNode& n, ConfBase* c, const Directive& d) {
  const auto* f = static_cast<const SocketField*>(d.data);
  int64_t& slot = static_cast<LuaLocConf*>(c)->socket.*(f->field);
  if (slot != -1) duplicate(n);
  switch (f->kind) {
    case SocketField::kMsec:
      slot = conf::parseMsec(n, 0);
      break;
    case SocketField::kSize:
      slot = conf::parseSize(n, 0);
      break;
    case SocketField::kNumber:
      slot = conf::parseNumber(n, 0);
      if (slot < 1) fail(n, "invalid value \"" + n.arg(0) + "\" in \"" + n.name + "\" directive");
      break;
    case SocketField::kFlag:
      slot = conf::parseFlag(n) ? 1 : 0;
      break;
  }
  if (e.ctx() == conf::kHttpMainCtx) {
    e.level()->mainConf<LuaMainConf>(luaModule())->socket.*(f->field) = slot;
  }
}

// resolver ADDRESS ... [valid=TIME] [ipv6=on|off] [status_zone=NAME];
// resolver_timeout TIME. Lunet looks names up with the system's resolver
// (getaddrinfo on the thread pool): the addresses are checked, not queried.
void setResolver(Engine& e, const ConfNode& n, ConfBase*, const Directive&) {
  auto* mc = e.level()->mainConf<LuaMainConf>(luaModule());
  if (n.name == "resolver_timeout") {
    mc->resolverTimeout = conf::parseMsec(n, 0);
    return;
  }
  for (size_t i = 0; i < n.args.size(); i++) {
    const std::string& a = n.arg(i);
    if (a.rfind("valid=", 0) == 0) {
      ConfNode v = n;
      v.args.assign(1, conf::ConfArg{a.substr(6), false});
      mc->resolverValid = conf::parseMsec(v, 0) / 1000;
    } else if (a.rfind("ipv6=", 0) == 0 || a.rfind("ipv4=", 0) == 0) {
      if (a.substr(5) != "on" && a.substr(5) != "off") {
        fail(n, "invalid parameter: " + a);
      }
    } else if (a.rfind("status_zone=", 0) == 0) {
      continue;
    } else if (a.empty()) {
      fail(n, "invalid parameter: " + a);
    }
  }
  core::processLog().error(core::Level::kNotice, 0,
                           "\"resolver\": Lunet resolves host names with the system "
                           "resolver (getaddrinfo, /etc/resolv.conf), not with the name "
                           "servers listed");
}

// lua_regex_cache_max_entries N, lua_regex_match_limit N (both >= 0).
void setRegexLimit(Engine&, const ConfNode& n, ConfBase* c, const Directive& d) {
  int64_t v = conf::parseNumber(n, 0);
  if (v < 0) fail(n, "invalid value \"" + n.arg(0) + "\" in \"" + n.name + "\" directive");
  auto* mc = static_cast<LuaMainConf*>(c);
  int64_t& slot =
      d.name == "lua_regex_cache_max_entries" ? mc->regexCacheMaxEntries : mc->regexMatchLimit;
  if (slot != -1) duplicate(n);
  slot = v;
}

void setPath(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* mc = static_cast<LuaMainConf*>(c);
  std::optional<std::string>& slot =
      n.name == "lua_package_path" ? mc->packagePath : mc->packageCpath;
  if (slot) duplicate(n);
  slot = n.arg(0);
}

constexpr uint32_t kHttpMain = conf::kHttpMainCtx;
constexpr uint32_t kAnyLevel =
    conf::kHttpMainCtx | conf::kHttpSrvCtx | conf::kHttpLocCtx | conf::kHttpLifCtx;
constexpr uint32_t kLocLevel = conf::kHttpLocCtx | conf::kHttpLifCtx;
constexpr uint32_t kMainSrvLoc = conf::kHttpMainCtx | conf::kHttpSrvCtx | conf::kHttpLocCtx;
constexpr uint32_t kSetLevel =
    conf::kHttpSrvCtx | conf::kHttpSifCtx | conf::kHttpLocCtx | conf::kHttpLifCtx;
constexpr auto kMain = conf::Slot::kMain;
constexpr auto kLoc = conf::Slot::kLoc;

#define LUNET_LUA_PHASE(base, ctx, args, slot, info)              \
  {base "_by_lua", ctx, args, setByLua, slot, &info},             \
      {base "_by_lua_block", ctx, args, setByLua, slot, &info}, { \
    base "_by_lua_file", ctx, args, setByLua, slot, &info         \
  }

const Directive kDirectives[] = {
    {"lua_package_path", kHttpMain, conf::kTake1, setPath, kMain},
    {"lua_package_cpath", kHttpMain, conf::kTake1, setPath, kMain},
    {"lua_code_cache", kAnyLevel, conf::kFlag, conf::setFlag<&LuaLocConf::codeCache>, kLoc},
    {"lua_need_request_body", kAnyLevel, conf::kFlag, conf::setFlag<&LuaLocConf::needRequestBody>,
     kLoc},
    {"lua_transform_underscores_in_response_headers", kAnyLevel, conf::kFlag,
     conf::setFlag<&LuaLocConf::transformUnderscores>, kLoc},
    {"lua_check_client_abort", kAnyLevel, conf::kFlag, conf::setFlag<&LuaLocConf::checkClientAbort>,
     kLoc},
    {"lua_http10_buffering", kAnyLevel, conf::kFlag, conf::setFlag<&LuaLocConf::http10Buffering>,
     kLoc},
    {"lua_use_default_type", kAnyLevel, conf::kFlag, conf::setFlag<&LuaLocConf::useDefaultType>,
     kLoc},
    {"lua_shared_dict", kHttpMain, conf::kTake2, setLuaSharedDict, kMain},
    {"lua_max_pending_timers", kHttpMain, conf::kTake1, setTimerLimit, kMain},
    {"lua_max_running_timers", kHttpMain, conf::kTake1, setTimerLimit, kMain},
    {"lua_timer_overflow", kHttpMain, conf::kTake1, setTimerOverflow, kMain},
    {"lua_socket_connect_timeout", kMainSrvLoc, conf::kTake1, setSocket, kLoc,
     &kConnectTimeoutField},
    {"lua_socket_send_timeout", kMainSrvLoc, conf::kTake1, setSocket, kLoc, &kSendTimeoutField},
    {"lua_socket_read_timeout", kMainSrvLoc, conf::kTake1, setSocket, kLoc, &kReadTimeoutField},
    {"lua_socket_buffer_size", kMainSrvLoc, conf::kTake1, setSocket, kLoc, &kBufferSizeField},
    {"lua_socket_pool_size", kMainSrvLoc, conf::kTake1, setSocket, kLoc, &kPoolSizeField},
    {"lua_socket_keepalive_timeout", kMainSrvLoc, conf::kTake1, setSocket, kLoc,
     &kKeepaliveTimeoutField},
    {"lua_socket_log_errors", kMainSrvLoc, conf::kFlag, setSocket, kLoc, &kLogErrorsField},
    {"resolver", kMainSrvLoc, conf::k1More, setResolver, conf::Slot::kNone},
    {"resolver_timeout", kMainSrvLoc, conf::kTake1, setResolver, conf::Slot::kNone},
    {"lua_regex_cache_max_entries", kHttpMain, conf::kTake1, setRegexLimit, kMain},
    {"lua_regex_match_limit", kHttpMain, conf::kTake1, setRegexLimit, kMain},
    // Deprecated / no effect in Lunet: resty.core is always loaded, libuv
    // restarts system calls itself, LuaJIT's allocator is left alone.
    {"lua_load_resty_core", kHttpMain, conf::kFlag, conf::setIgnored, conf::Slot::kNone},
    {"lua_sa_restart", kHttpMain, conf::kFlag, conf::setIgnored, conf::Slot::kNone},
    {"lua_malloc_trim", kHttpMain, conf::kTake1, conf::setIgnored, conf::Slot::kNone},
    LUNET_LUA_PHASE("init", kHttpMain, conf::kTake1, kMain, kInitInfo),
    LUNET_LUA_PHASE("init_worker", kHttpMain, conf::kTake1, kMain, kInitWorkerInfo),
    LUNET_LUA_PHASE("exit_worker", kHttpMain, conf::kTake1, kMain, kExitWorkerInfo),
    LUNET_LUA_PHASE("set", kSetLevel, conf::k2More, kLoc, kSetInfo),
    LUNET_LUA_PHASE("rewrite", kAnyLevel, conf::kTake1, kLoc, kRewriteInfo),
    LUNET_LUA_PHASE("access", kAnyLevel, conf::kTake1, kLoc, kAccessInfo),
    LUNET_LUA_PHASE("content", kLocLevel, conf::kTake1, kLoc, kContentInfo),
    LUNET_LUA_PHASE("header_filter", kAnyLevel, conf::kTake1, kLoc, kHeaderFilterInfo),
    LUNET_LUA_PHASE("body_filter", kAnyLevel, conf::kTake1, kLoc, kBodyFilterInfo),
    LUNET_LUA_PHASE("log", kAnyLevel, conf::kTake1, kLoc, kLogInfo),
};

#undef LUNET_LUA_PHASE

conf::ConfPtr createMain() { return std::make_unique<LuaMainConf>(); }
conf::ConfPtr createLoc() { return std::make_unique<LuaLocConf>(); }

void mergeLoc(Engine&, ConfBase* parent, ConfBase* child) {
  auto* p = static_cast<LuaLocConf*>(parent);
  auto* c = static_cast<LuaLocConf*>(child);
  conf::mergeValue(c->codeCache, p->codeCache, int64_t{1});
  conf::mergeValue(c->needRequestBody, p->needRequestBody, int64_t{0});
  conf::mergeValue(c->transformUnderscores, p->transformUnderscores, int64_t{1});
  conf::mergeValue(c->checkClientAbort, p->checkClientAbort, int64_t{0});
  conf::mergeValue(c->useDefaultType, p->useDefaultType, int64_t{1});
  conf::mergeValue(c->http10Buffering, p->http10Buffering, int64_t{1});
  c->socket.merge(p->socket);
  if (!c->rewrite) c->rewrite = p->rewrite;
  if (!c->access) c->access = p->access;
  if (!c->headerFilter) c->headerFilter = p->headerFilter;
  if (!c->bodyFilter) c->bodyFilter = p->bodyFilter;
  if (!c->log) c->log = p->log;
}

void initMain(Engine&, ConfBase* c) {
  auto* mc = static_cast<LuaMainConf*>(c);
  if (mc->maxPendingTimers == -1) mc->maxPendingTimers = 1024;
  if (mc->maxRunningTimers == -1) mc->maxRunningTimers = 256;
  if (mc->timerOverflowQueue == -1) mc->timerOverflowQueue = 0;
  mc->socket.fillDefaults();
}

// liblunet's registerLuaModule / preloadLua: package.preload entries.
void addEmbedderModules(lua_State* L, const conf::Options& o) {
  if (o.luaOpeners.empty() && o.luaSources.empty()) return;
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  for (const auto& [name, fn] : o.luaOpeners) {
    lua_pushcfunction(L, fn);
    lua_setfield(L, -2, name.c_str());
  }
  for (const auto& [name, src] : o.luaSources) {
    std::string chunk = "=" + name;
    if (luaL_loadbuffer(L, src.data(), src.size(), chunk.c_str()) != 0) {
      std::string err = lua_tostring(L, -1);
      lua_pop(L, 3);
      throw conf::ConfError("failed to load preloaded Lua module \"" + name + "\": " + err);
    }
    lua_setfield(L, -2, name.c_str());
  }
  lua_pop(L, 2);
}

// See initCycle(): set only while init_by_lua runs.
conf::Cycle* gInitCycle = nullptr;

void postConfiguration(Engine& e) {
  auto* mc = e.cycle().conf<LuaMainConf>(luaModule());
  if (mc == nullptr) return;
  VmOptions opts;
  opts.prefix = e.cycle().options.prefix;
  opts.packagePath = mc->packagePath.value_or("");
  opts.packageCpath = mc->packageCpath.value_or("");
  std::string err;
  mc->vm = Vm::create(opts, &err);
  if (!mc->vm) throw conf::ConfError(err);
  Vm& vm = *mc->vm;
  setCurrentVm(&vm);
  addSharedDicts(vm.state(), *mc);
  addEmbedderModules(vm.state(), e.cycle().options);

  if (mc->anyRewrite) registerRewritePhase();
  if (mc->anyAccess) registerAccessPhase();
  if (mc->anyHeaderFilter) registerHeaderFilter();
  if (mc->anyBodyFilter) registerBodyFilter();
  if (mc->anyLog) registerLogPhase();

  if (mc->init) {
    // init_by_lua runs here, in the master before fork: what it loads is
    // shared copy-on-write by every worker.
    LuaHandler& h = *mc->init;
    int ref = h.file ? vm.compileFile(h.source, &err, nullptr, true)
                     : vm.compileString(h.source, h.chunkName, &err, true);
    if (ref == LUA_NOREF) {
      // [error], not [emerg], as lua-nginx-module reports it.
      throw conf::ConfError(core::Level::kError,
                            (h.file ? "init_by_lua_file error: " : "init_by_lua error: ") + err);
    }
    gInitCycle = &e.cycle();
    bool ok = vm.runSync(ref, kInit, &err);
    gInitCycle = nullptr;
    luaL_unref(vm.state(), LUA_REGISTRYINDEX, ref);
    if (!ok) {
      throw conf::ConfError(core::Level::kError,
                            (h.file ? "init_by_lua_file error: " : "init_by_lua error: ") + err);
    }
  }
  vm.enableGlobalWriteGuard();
}

void initProcess(conf::Cycle& c) {
  auto* mc = c.conf<LuaMainConf>(luaModule());
  if (mc == nullptr || !mc->vm) return;
  setCurrentVm(mc->vm.get());
  TimerStore::Limits limits;
  limits.maxPending = mc->maxPendingTimers;
  limits.maxRunning = mc->maxRunningTimers;
  limits.queueOverflow = mc->timerOverflowQueue == 1;
  mc->vm->timers().setLimits(limits);
  net::KeepalivePool::get().start();
  if (mc->resolverValid >= 0)
    net::Resolver::get().setValidSeconds(static_cast<uint32_t>(mc->resolverValid));
  if (mc->resolverTimeout > 0)
    net::Resolver::get().setTimeoutMs(static_cast<uint64_t>(mc->resolverTimeout));
  runInitWorker();
}

// Graceful exit (QUIT, HUP's retired workers, signal_graceful_exit):
// pending timers run now with premature = true.
void shutdownProcess(conf::Cycle& c) {
  auto* mc = c.conf<LuaMainConf>(luaModule());
  if (mc == nullptr || !mc->vm) return;
  mc->vm->timers().shutdown();
  net::KeepalivePool::get().shutdown();
}

void exitProcess(conf::Cycle& c) {
  auto* mc = c.conf<LuaMainConf>(luaModule());
  if (mc == nullptr || !mc->vm) return;
  runExitWorker();
  // The VM owns libuv handles (entry-thread timers, ...): close it while the
  // worker's loop still exists, so their close callbacks free them.
  mc->vm.reset();
  closeAllPipes();
}

const conf::Module kLuaModule{
    .name = "ngx_http_lua_module",
    .type = conf::ModuleType::kHttp,
    .directives = kDirectives,
    .createMain = createMain,
    .createLoc = createLoc,
    .initMain = initMain,
    .mergeLoc = mergeLoc,
    .postConfiguration = postConfiguration,
    .initProcess = initProcess,
    .shutdownProcess = shutdownProcess,
    .exitProcess = exitProcess,
};

}  // namespace

const conf::Module& luaModule() { return kLuaModule; }

conf::Cycle* initCycle() { return gInitCycle; }

LuaMainConf* luaMainConf() {
  conf::Cycle* c = conf::currentCycle();
  if (c == nullptr || c->confs.size() <= kLuaModule.index) return nullptr;
  return c->conf<LuaMainConf>(kLuaModule);
}

bool pushHandler(lua_State* L, LuaHandler& h, bool codeCache, std::string* err, int* status) {
  if (h.ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, h.ref);
    return true;
  }
  Vm* vm = currentVm();
  if (vm == nullptr) {
    *err = "no Lua VM";
    return false;
  }
  if (status != nullptr) *status = 500;
  int ref = h.file ? vm->compileFile(h.source, err, status)
                   : vm->compileString(h.source, h.chunkName, err);
  if (ref == LUA_NOREF) return false;
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  if (codeCache) {
    h.ref = ref;
  } else {
    luaL_unref(vm->state(), LUA_REGISTRYINDEX, ref);
  }
  return true;
}

}  // namespace lunet::lua
