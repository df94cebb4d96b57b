#include "process/core_module.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cstring>

#include "process/cycle.h"

namespace lunet::process {

namespace {

using conf::ConfBase;
using conf::ConfNode;
using conf::Directive;
using conf::Engine;
using conf::fail;

CoreConf* core(ConfBase* c) { return static_cast<CoreConf*>(c); }

void setWorkerProcesses(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* cc = core(c);
  if (cc->workerProcesses != -1) fail(n, "\"worker_processes\" directive is duplicate");
  if (n.arg(0) == "auto") {
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    cc->workerProcesses = cpus > 0 ? cpus : 1;
    return;
  }
  int64_t v = 0;
  if (!conf::tryParseNumber(n.arg(0), &v)) fail(n, "\"worker_processes\" directive invalid value");
  if (v < 1) fail(n, "invalid value \"" + n.arg(0) + "\" in \"worker_processes\" directive");
  cc->workerProcesses = v;
}

void setErrorLog(Engine& e, const ConfNode& n, ConfBase*, const Directive&) {
  core::Level level = core::Level::kError;
  if (n.args.size() >= 2) {
    if (!core::parseLevel(n.arg(1), &level)) {
      fail(n, "invalid log level \"" + n.arg(1) + "\"");
    }
  }
  if (n.args.size() > 2) fail(n, "invalid number of arguments in \"error_log\" directive");
  std::string path = n.arg(0);
  if (path == "off") fail(n, "\"error_log off\" is not supported, use \"error_log /dev/null\"");
  if (path != "stderr") path = e.cycle().fullPath(path);
  int err = e.cycle().errorLog.add(path, level);
  if (err != 0) {
    fail(n, "open() \"" + path + "\" failed (" + std::to_string(err) + ": " + std::strerror(err) +
                ")");
  }
}

void setUser(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* cc = core(c);
  if (cc->user) fail(n, "\"user\" directive is duplicate");
  cc->user = n.arg(0);
  std::string group = n.args.size() > 1 ? n.arg(1) : n.arg(0);
  if (::geteuid() != 0) {
    core::processLog().error(core::Level::kWarn, 0,
                             "the \"user\" directive makes sense only if the master process "
                             "runs with super-user privileges, ignored in %s",
                             n.where().c_str());
    return;
  }
  struct passwd* pw = ::getpwnam(n.arg(0).c_str());
  if (pw == nullptr) fail(n, "getpwnam(\"" + n.arg(0) + "\") failed");
  cc->uid = pw->pw_uid;
  struct group* gr = ::getgrnam(group.c_str());
  if (gr == nullptr) {
    if (n.args.size() > 1) fail(n, "getgrnam(\"" + group + "\") failed");
    cc->gid = pw->pw_gid;
  } else {
    cc->gid = gr->gr_gid;
  }
}

void setEnv(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* cc = core(c);
  const std::string& v = n.arg(0);
  auto eq = v.find('=');
  if (eq == std::string::npos) {
    cc->env.emplace_back(v, std::nullopt);
  } else {
    cc->env.emplace_back(v.substr(0, eq), v.substr(eq + 1));
  }
}

void setEvents(Engine& e, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* cc = core(c);
  if (cc->eventsSeen) fail(n, "\"events\" directive is duplicate");
  cc->eventsSeen = true;
  e.processBlock(n.children, conf::kEventsCtx, e.level());
}

void setWorkerConnections(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  auto* cc = core(c);
  if (cc->workerConnections != -1) fail(n, "\"worker_connections\" directive is duplicate");
  cc->workerConnections = conf::parseNumber(n, 0);
}

void setUse(Engine&, const ConfNode& n, ConfBase*, const Directive&) {
  // libuv picks the kernel interface; only the one it uses is accepted.
  if (n.arg(0) != "epoll") {
    fail(n, "invalid event type \"" + n.arg(0) + "\", Lunet uses \"epoll\" through libuv");
  }
}

void setAcceptMutex(Engine&, const ConfNode& n, ConfBase*, const Directive&) {
  // Workers accept from a shared socket or from reuseport sockets; there is no
  // accept mutex to turn on or off. Validate the value like nginx does.
  conf::parseFlag(n);
}

void setWorkingDirectory(Engine&, const ConfNode& n, ConfBase* c, const Directive&) {
  core(c)->workingDirectory.push_back(n.arg(0));
}

void setPcreJit(Engine&, const ConfNode& n, ConfBase*, const Directive&) {
  // PCRE2 JIT is always used when available.
  conf::parseFlag(n);
}

constexpr uint32_t kMain = conf::kMainCtx;
constexpr uint32_t kEv = conf::kEventsCtx;

const Directive kCoreDirectives[] = {
    {"worker_processes", kMain, conf::kTake1, setWorkerProcesses, conf::Slot::kMain},
    {"daemon", kMain, conf::kFlag, conf::setFlag<&CoreConf::daemon>, conf::Slot::kMain},
    {"master_process", kMain, conf::kFlag, conf::setFlag<&CoreConf::masterProcess>,
     conf::Slot::kMain},
    {"pid", kMain, conf::kTake1, conf::setString<&CoreConf::pid>, conf::Slot::kMain},
    {"user", kMain, conf::kTake12, setUser, conf::Slot::kMain},
    {"worker_rlimit_nofile", kMain, conf::kTake1, conf::setNumber<&CoreConf::rlimitNofile>,
     conf::Slot::kMain},
    {"worker_shutdown_timeout", kMain, conf::kTake1, conf::setMsec<&CoreConf::shutdownTimeout>,
     conf::Slot::kMain},
    {"env", kMain, conf::kTake1, setEnv, conf::Slot::kMain},
    {"error_log", kMain, conf::k1More, setErrorLog, conf::Slot::kNone},
    {"working_directory", kMain, conf::kTake1, setWorkingDirectory, conf::Slot::kMain},
    {"pcre_jit", kMain, conf::kFlag, setPcreJit, conf::Slot::kNone},
    {"events", kMain, conf::kBlock | conf::kNoArgs, setEvents, conf::Slot::kMain},
    {"worker_connections", kEv, conf::kTake1, setWorkerConnections, conf::Slot::kMain},
    {"use", kEv, conf::kTake1, setUse, conf::Slot::kNone},
    {"accept_mutex", kEv, conf::kFlag, setAcceptMutex, conf::Slot::kNone},
    // multi_accept / accept_mutex_delay tune accept batching that libuv does
    // by itself (it drains the accept queue on every readiness event).
    {"multi_accept", kEv, conf::kFlag, setAcceptMutex, conf::Slot::kNone},
    {"accept_mutex_delay", kEv, conf::kTake1, conf::setIgnored, conf::Slot::kNone},
};

conf::ConfPtr createCore() { return std::make_unique<CoreConf>(); }

void initCore(Engine& e, ConfBase* c) {
  auto* cc = core(c);
  e.cycle().coreConf = cc;
  if (cc->workerProcesses == -1) cc->workerProcesses = 1;
  if (cc->daemon == -1) cc->daemon = 1;
  if (cc->masterProcess == -1) cc->masterProcess = 1;
  if (e.cycle().options.embedded) cc->masterProcess = cc->daemon = 0;
  if (!cc->pid) cc->pid = "logs/nginx.pid";
  if (cc->shutdownTimeout == -1) cc->shutdownTimeout = 0;  // 0: wait forever
  if (cc->workerConnections == -1) cc->workerConnections = 512;
  if (::geteuid() == 0 && !cc->user) {
    // nginx drops to "nobody" when started as root with no `user`.
    struct passwd* pw = ::getpwnam("nobody");
    if (pw != nullptr) {
      cc->uid = pw->pw_uid;
      struct group* gr = ::getgrnam("nogroup");
      cc->gid = gr ? gr->gr_gid : pw->pw_gid;
    }
  }
}

const conf::Module kCoreModule{
    .name = "core",
    .type = conf::ModuleType::kCore,
    .directives = kCoreDirectives,
    .createMain = createCore,
    .initMain = initCore,
};

// The events module shares CoreConf (its directives write there), so it has
// no config struct of its own.
const conf::Module kEventsModule{
    .name = "events",
    .type = conf::ModuleType::kEvent,
    .directives = {},
};

}  // namespace

const conf::Module& coreModule() { return kCoreModule; }
const conf::Module& eventsModule() { return kEventsModule; }

}  // namespace lunet::process
