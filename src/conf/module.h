// Modules and their directive tables — the single source of truth for what
// the configuration language accepts.
//
// As in nginx, a module declares its directives in one table (name, allowed
// contexts, argument count, setter) and creates its config structs per level.
// HTTP modules get a main, server and location struct each; server/location
// structs are merged from the enclosing level with "unset" sentinels. The
// engine (engine.cc) walks the ConfNode tree, finds each directive in the
// tables, checks context and arity, and calls the setter with the module's
// config struct for the current level.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conf/ast.h"

namespace lunet::conf {

struct Cycle;

// Contexts a directive may appear in (bit set).
enum Ctx : uint32_t {
  kMainCtx = 1u << 0,      // top level of nginx.conf
  kEventsCtx = 1u << 1,    // events { }
  kHttpMainCtx = 1u << 2,  // http { }
  kHttpSrvCtx = 1u << 3,   // server { }
  kHttpLocCtx = 1u << 4,   // location { }
  kHttpSifCtx = 1u << 5,   // if { } inside server
  kHttpLifCtx = 1u << 6,   // if { } inside location
  kHttpUpsCtx = 1u << 7,   // upstream { }
  kHttpLmtCtx = 1u << 8,   // limit_except { }
  kStreamMainCtx = 1u << 9,
  kStreamSrvCtx = 1u << 10,
  kAnyHttpCtx = kHttpMainCtx | kHttpSrvCtx | kHttpLocCtx,
};

// Accepted argument counts (bit set), as nginx's NGX_CONF_TAKE*.
enum Args : uint32_t {
  kNoArgs = 1u << 0,
  kTake1 = 1u << 1,
  kTake2 = 1u << 2,
  kTake3 = 1u << 3,
  kTake4 = 1u << 4,
  kTake5 = 1u << 5,
  kTake6 = 1u << 6,
  kTake7 = 1u << 7,
  kTake12 = kTake1 | kTake2,
  kTake13 = kTake1 | kTake3,
  kTake23 = kTake2 | kTake3,
  kTake123 = kTake1 | kTake2 | kTake3,
  kTake1234 = kTake1 | kTake2 | kTake3 | kTake4,
  kFlag = 1u << 8,    // exactly one arg, "on" or "off"
  k1More = 1u << 9,   // one or more
  k2More = 1u << 10,  // two or more
  kAnyArgs = 1u << 11,
  kBlock = 1u << 12,  // must be followed by { }
};

// Which of a module's config structs a directive writes to.
enum class Slot : uint8_t { kNone, kMain, kSrv, kLoc };

// Base of every module config struct; lets the engine own them generically.
struct ConfBase {
  virtual ~ConfBase() = default;
};
using ConfPtr = std::unique_ptr<ConfBase>;

class Engine;
struct Directive;

// A setter stores one directive into `conf` (the module's struct for the
// directive's slot at the current level, or nullptr for Slot::kNone). It
// throws ConfError (use conf::fail(node, msg)) on bad values.
using Setter = void (*)(Engine& e, const ConfNode& node, ConfBase* conf, const Directive& d);

struct Directive {
  std::string_view name;
  uint32_t contexts;  // Ctx bits
  uint32_t args;      // Args bits
  Setter set;
  Slot slot = Slot::kLoc;
  const void* data = nullptr;  // setter-specific (enum table, bounds, ...)
};

enum class ModuleType : uint8_t { kCore, kEvent, kHttp };

// One module = one file: its directive table, config constructors and
// lifecycle hooks. Any hook may be null.
struct Module {
  std::string_view name;
  ModuleType type;
  std::span<const Directive> directives;
  // The standard nginx modules this module implements, space-separated, as
  // configure names them ("http_rewrite_module", "http", "pcre-jit"). `-V`'s
  // configure arguments are generated from these (conf/configure_args.h): a
  // module that lands adds its name here and the line flips by itself.
  std::string_view nginxModules = {};

  // Config structs. For kCore/kEvent modules only createMain is used (one
  // instance per cycle); kHttp modules get one of each per level.
  ConfPtr (*createMain)() = nullptr;
  ConfPtr (*createSrv)() = nullptr;
  ConfPtr (*createLoc)() = nullptr;
  // Called after the whole block of the level was read.
  void (*initMain)(Engine& e, ConfBase* main) = nullptr;
  void (*mergeSrv)(Engine& e, ConfBase* parent, ConfBase* child) = nullptr;
  void (*mergeLoc)(Engine& e, ConfBase* parent, ConfBase* child) = nullptr;
  // After the whole configuration is read and merged (register phase
  // handlers, compile things). Runs in the master.
  void (*postConfiguration)(Engine& e) = nullptr;

  // Process lifecycle (see docs/design/process-model.md).
  void (*initProcess)(Cycle& c) = nullptr;  // in each worker after fork
  // Graceful shutdown began (QUIT, or reload retired this worker): stop
  // accepting, close idle connections, let in-flight work finish, fire
  // pending timers as premature. The worker exits when its loop is empty.
  void (*shutdownProcess)(Cycle& c) = nullptr;
  void (*exitProcess)(Cycle& c) = nullptr;  // worker about to exit
  // USR1: reopen the module's log files. The master runs it first with the
  // workers' uid as `owner` (files it creates are chowned to it, so workers
  // can reopen them after dropping privileges); workers run it with -1.
  void (*reopenFiles)(Cycle& c, uid_t owner) = nullptr;

  // Assigned by the registry: position in allModules().
  mutable size_t index = 0;
};

// All compiled-in modules, in registration order (modules.cc).
std::span<const Module* const> allModules();

// The config structs of one level (main, a server, a location, an if block),
// indexed by Module::index. Entries of modules without such a slot are null.
struct ConfLevel {
  std::vector<ConfBase*> main;  // shared: points at the cycle's main structs
  std::vector<ConfPtr> srv;     // owned by this level (or null)
  std::vector<ConfPtr> loc;     // owned by this level (or null)

  template <class T>
  T* mainConf(const Module& m) const {
    return static_cast<T*>(main[m.index]);
  }
  template <class T>
  T* srvConf(const Module& m) const {
    return static_cast<T*>(srv[m.index].get());
  }
  template <class T>
  T* locConf(const Module& m) const {
    return static_cast<T*>(loc[m.index].get());
  }
};

// Walks a ConfNode tree, dispatching directives to their setters.
class Engine {
 public:
  explicit Engine(Cycle& cycle);

  Cycle& cycle() { return cycle_; }

  // Processes `nodes` as the body of a block of context `ctx` with the
  // config structs `level`. Block setters (events, http, server, location,
  // if, ...) call this recursively for their children.
  void processBlock(const std::vector<ConfNode>& nodes, uint32_t ctx, ConfLevel* level);

  // Current context and level (valid inside a setter).
  uint32_t ctx() const { return ctx_; }
  ConfLevel* level() const { return level_; }

  // Creates srv and/or loc structs of every HTTP module for a new level;
  // `main` is shared with the http{} level.
  std::unique_ptr<ConfLevel> newHttpLevel(const ConfLevel& parent, bool withSrv);

 private:
  const Directive* find(std::string_view name, const Module** owner) const;

  Cycle& cycle_;
  uint32_t ctx_ = kMainCtx;
  ConfLevel* level_ = nullptr;
};

// ---- Generic setters -------------------------------------------------------
// Used as `&setFlag<&MyLocConf::field>` in directive tables; the config
// struct type is deduced from the member pointer.

template <class T, class C>
C* classOf(T C::*);

bool parseFlag(const ConfNode& node);                     // "on"/"off" or fail
int64_t parseNumber(const ConfNode& n, size_t arg);       // plain integer >= 0
bool tryParseNumber(const std::string& v, int64_t* out);  // same, without throwing
int64_t parseSize(const ConfNode& n, size_t arg);         // 10, 10k, 10m, 1g
int64_t parseMsec(const ConfNode& n, size_t arg);         // 10, 10s, 500ms, 1h30m → ms

template <auto Member>
void setFlag(Engine&, const ConfNode& node, ConfBase* conf, const Directive&) {
  using C = std::remove_pointer_t<decltype(classOf(Member))>;
  auto& field = static_cast<C*>(conf)->*Member;
  if (field != -1) fail(node, "\"" + node.name + "\" directive is duplicate");
  field = parseFlag(node) ? 1 : 0;
}

template <auto Member>
void setNumber(Engine&, const ConfNode& node, ConfBase* conf, const Directive&) {
  using C = std::remove_pointer_t<decltype(classOf(Member))>;
  auto& field = static_cast<C*>(conf)->*Member;
  if (field != -1) fail(node, "\"" + node.name + "\" directive is duplicate");
  // nginx's ngx_conf_set_num_slot wording (parseNumber's is ngx_atoi callers').
  if (!tryParseNumber(node.arg(0), &field)) {
    fail(node, "\"" + node.name + "\" directive invalid number");
  }
}

template <auto Member>
void setSize(Engine&, const ConfNode& node, ConfBase* conf, const Directive&) {
  using C = std::remove_pointer_t<decltype(classOf(Member))>;
  auto& field = static_cast<C*>(conf)->*Member;
  if (field != -1) fail(node, "\"" + node.name + "\" directive is duplicate");
  field = parseSize(node, 0);
}

template <auto Member>
void setMsec(Engine&, const ConfNode& node, ConfBase* conf, const Directive&) {
  using C = std::remove_pointer_t<decltype(classOf(Member))>;
  auto& field = static_cast<C*>(conf)->*Member;
  if (field != -1) fail(node, "\"" + node.name + "\" directive is duplicate");
  field = parseMsec(node, 0);
}

template <auto Member>
void setString(Engine&, const ConfNode& node, ConfBase* conf, const Directive&) {
  using C = std::remove_pointer_t<decltype(classOf(Member))>;
  auto& field = static_cast<C*>(conf)->*Member;
  if (field.has_value()) fail(node, "\"" + node.name + "\" directive is duplicate");
  field = node.arg(0);
}

// Accepts and ignores a directive whose effect Lunet provides by design
// (e.g. `accept_mutex`, `*_temp_path`). Only for directives where ignoring
// the value cannot change behaviour users rely on.
void setIgnored(Engine&, const ConfNode&, ConfBase*, const Directive&);

// merge helpers: child keeps its value unless unset (-1 / nullopt).
template <class T>
void mergeValue(T& child, const T& parent, const T& dflt) {
  if (child == T(-1)) child = (parent == T(-1)) ? dflt : parent;
}
template <class T>
void mergeOpt(T& child, const T& parent, const typename T::value_type& dflt) {
  if (!child) child = parent ? parent : T(dflt);
}

}  // namespace lunet::conf
