// The worker process: one libuv loop hosting every module's work.
#include <grp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/time.h"
#include "event/loop.h"
#include "net/pool.h"
#include "os/proctitle.h"
#include "process/process.h"
#include "process/worker_internal.h"

extern char** environ;

namespace lunet::process {

namespace detail {
int gWorkerId = -1;
}  // namespace detail

namespace {

using detail::gWorkerId;
bool gExiting = false;
pid_t gMasterPid = 0;

struct WorkerState {
  Cycle* cycle = nullptr;
  event::UvHandle<uv_signal_t> sigQuit, sigTerm, sigInt, sigUsr1, sigHup;
  event::UvHandle<uv_prepare_t> prepare;
  event::UvHandle<uv_check_t> check;
  event::UvHandle<uv_timer_t> shutdownTimer;
  // liblunet: keeps the private loop alive until stopEmbedded()
  event::UvHandle<uv_async_t> hold;
  bool single = false;
  bool embedded = false;  // liblunet: no signals, no exit, no titles
};

WorkerState* gState = nullptr;

// resty: see setCommandLineMode().
bool gCliMode = false;
void (*gCliInterrupted)() noexcept = nullptr;

void onCliInterrupt(int) {
  if (gCliInterrupted != nullptr) gCliInterrupted();
  ::_exit(130);
}

void closeControlHandles() {
  if (gState->embedded) {
    gState->prepare.reset();
    gState->check.reset();
    gState->hold.reset();
    return;
  }
  gState->sigQuit.reset();
  gState->sigTerm.reset();
  gState->sigInt.reset();
  gState->sigUsr1.reset();
  gState->sigHup.reset();
  gState->prepare.reset();
  gState->check.reset();
  // Closing the last handle of a signal restores its default action; the
  // master may still send QUIT (it repeats it until a retiring worker is
  // gone) or USR1 while this process finishes exiting.
  ::signal(SIGQUIT, SIG_IGN);
  ::signal(SIGUSR1, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
}

[[noreturn]] void fastExit(int code) {
  core::Log& log = core::processLog();
  log.error(core::Level::kNotice, 0, "exiting");
  for (const conf::Module* m : conf::allModules()) {
    if (m->exitProcess) m->exitProcess(*gState->cycle);
  }
  if (gState->single) deletePidFile(*gState->cycle);
  ::_exit(code);
}

void beginGracefulExit() {
  if (gExiting) return;
  gExiting = true;
  core::processLog().error(core::Level::kNotice, 0, "gracefully shutting down");
  if (gState->embedded) {
    // The host's process: no title, no fast exit at a deadline (a request
    // or timer still running keeps the stop pending; see docs/embedding.md).
    for (const conf::Module* m : conf::allModules()) {
      if (m->shutdownProcess) m->shutdownProcess(*gState->cycle);
    }
    gState->prepare.reset();
    gState->check.reset();
    gState->hold.reset();
    return;
  }
  os::setProctitle(processType() == ProcessType::kPrivilegedAgent
                       ? "privileged agent process is shutting down"
                       : "worker process is shutting down");
  for (const conf::Module* m : conf::allModules()) {
    if (m->shutdownProcess) m->shutdownProcess(*gState->cycle);
  }
  int64_t t = gState->cycle->core().shutdownTimeout;
  if (t > 0) {
    LUNET_UV_CHECK(uv_timer_init(event::loop(), gState->shutdownTimer.get()));
    gState->shutdownTimer.markInitialized();
    LUNET_UV_CHECK(uv_timer_start(
        gState->shutdownTimer.get(),
        [](uv_timer_t*) {
          core::processLog().error(core::Level::kNotice, 0, "worker shutdown timeout");
          fastExit(0);
        },
        static_cast<uint64_t>(t), 0));
    // Only outstanding work keeps the loop alive, not this timer.
    uv_unref(gState->shutdownTimer.handle());
  }
  // Keep SIGTERM/SIGINT so a fast stop still works during the drain; the
  // rest go. An unref'd signal handle does not keep the loop alive.
  // QUIT, USR1 and HUP keep their handlers, unref'd: a second QUIT is a
  // no-op and USR1 still reopens logs, where the default action of either
  // would kill the worker and the connections it is draining.
  uv_unref(gState->sigQuit.handle());
  uv_unref(gState->sigUsr1.handle());
  uv_unref(gState->sigHup.handle());
  gState->prepare.reset();
  gState->check.reset();
  uv_unref(gState->sigTerm.handle());
  uv_unref(gState->sigInt.handle());
}

void onSignal(uv_signal_t* h, int signum) {
  (void)h;
  core::updateTime();
  core::Log& log = core::processLog();
  switch (signum) {
    case SIGQUIT:
      beginGracefulExit();
      break;
    case SIGTERM:
    case SIGINT:
      fastExit(gCliMode ? (signum == SIGINT ? 130 : 143) : 0);
    case SIGUSR1:
      log.error(core::Level::kNotice, 0, "reopening logs");
      reopenAll(*gState->cycle, static_cast<uid_t>(-1));
      break;
    case SIGHUP:
      if (gCliMode) {
        beginGracefulExit();
      } else if (gState->single) {
        log.error(core::Level::kWarn, 0,
                  "reload is not supported with \"master_process off\", ignoring SIGHUP");
      }
      break;
  }
}

void startSignal(event::UvHandle<uv_signal_t>& h, int signum) {
  LUNET_UV_CHECK(uv_signal_init(event::loop(), h.get()));
  h.markInitialized();
  LUNET_UV_CHECK(uv_signal_start(h.get(), onSignal, signum));
}

void setEnvironment(const Cycle& cycle) {
  // Like nginx: workers see only TZ and the variables named by `env`.
  static std::vector<std::string> storage;
  static std::vector<char*> env;
  storage.clear();
  env.clear();
  auto keep = [&](const std::string& name, const std::optional<std::string>& value) {
    if (value) {
      storage.push_back(name + "=" + *value);
      return;
    }
    const char* v = ::getenv(name.c_str());
    if (v != nullptr) storage.push_back(name + "=" + v);
  };
  keep("TZ", std::nullopt);
  for (const auto& [name, value] : cycle.core().env) keep(name, value);
  // Sanitizer runtimes read these at exit; keep them for our own CI runs.
  for (const char* s : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) keep(s, std::nullopt);
  for (auto& s : storage) env.push_back(s.data());
  env.push_back(nullptr);
  environ = env.data();
}

bool dropPrivileges(const Cycle& cycle) {
  const CoreConf& cc = cycle.core();
  if (::geteuid() != 0 || cc.uid == static_cast<uid_t>(-1)) return true;
  core::Log& log = core::processLog();
  if (::setgid(cc.gid) != 0) {
    log.error(core::Level::kEmerg, errno, "setgid(%d) failed", static_cast<int>(cc.gid));
    return false;
  }
  if (cc.user && ::initgroups(cc.user->c_str(), cc.gid) != 0) {
    log.error(core::Level::kEmerg, errno, "initgroups(%s, %d) failed", cc.user->c_str(),
              static_cast<int>(cc.gid));
  }
  if (::setuid(cc.uid) != 0) {
    log.error(core::Level::kEmerg, errno, "setuid(%d) failed", static_cast<int>(cc.uid));
    return false;
  }
  return true;
}

// Refresh the time cache around each poll so handlers see current time.
void startTimeHandles(WorkerState& state, uv_loop_t* loop) {
  LUNET_UV_CHECK(uv_prepare_init(loop, state.prepare.get()));
  state.prepare.markInitialized();
  LUNET_UV_CHECK(uv_prepare_start(state.prepare.get(), [](uv_prepare_t*) { core::updateTime(); }));
  uv_unref(state.prepare.handle());
  LUNET_UV_CHECK(uv_check_init(loop, state.check.get()));
  state.check.markInitialized();
  LUNET_UV_CHECK(uv_check_start(state.check.get(), [](uv_check_t*) { core::updateTime(); }));
  uv_unref(state.check.handle());
}

std::unique_ptr<WorkerState> gEmbedded;

}  // namespace

void reopenAll(Cycle& cycle, uid_t owner) {
  int err = cycle.errorLog.reopen(owner);
  if (err != 0)
    core::processLog().error(core::Level::kAlert, err, "reopening the error log failed");
  for (const conf::Module* m : conf::allModules()) {
    if (m->reopenFiles) m->reopenFiles(cycle, owner);
  }
}

bool exiting() { return gExiting; }
pid_t masterPid() { return gMasterPid; }
void setMasterPid(pid_t p) { gMasterPid = p; }

void requestGracefulExit() {
  if (gState != nullptr) beginGracefulExit();
}

void setCommandLineMode(void (*interrupted)() noexcept) {
  gCliMode = true;
  gCliInterrupted = interrupted;
}
bool commandLineMode() { return gCliMode; }

void exitNow(int code) {
  std::fflush(nullptr);
  ::_exit(code);
}

int runWorkerLoop(Cycle& cycle, int id, bool single, bool privileged) {
  gWorkerId = id;
  WorkerState state;
  state.cycle = &cycle;
  state.single = single;
  gState = &state;
  setCurrentCycle(&cycle);
  core::Log& log = core::processLog();

  // nginx applies `env` in single-process mode too; the rest below is for
  // forked workers only.
  setEnvironment(cycle);
  if (!single) {
    const CoreConf& cc = cycle.core();
    if (cc.rlimitNofile > 0) {
      struct rlimit rl;
      rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(cc.rlimitNofile);
      if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        log.error(core::Level::kAlert, errno, "setrlimit(RLIMIT_NOFILE, %ld) failed",
                  static_cast<long>(cc.rlimitNofile));
      }
    }
    if (!privileged && !dropPrivileges(cycle)) return 2;
    for (const auto& dir : cc.workingDirectory) {
      if (::chdir(dir.c_str()) != 0) {
        log.error(core::Level::kAlert, errno, "chdir(\"%s\") failed", dir.c_str());
      }
    }
  }

  uv_loop_t* loop = event::createLoop();
  core::updateTime();
  startSignal(state.sigQuit, SIGQUIT);
  startSignal(state.sigTerm, SIGTERM);
  if (gCliMode) {
    struct sigaction sa {};
    sa.sa_handler = onCliInterrupt;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
  } else {
    startSignal(state.sigInt, SIGINT);
  }
  startSignal(state.sigUsr1, SIGUSR1);
  startSignal(state.sigHup, SIGHUP);
  startTimeHandles(state, loop);

  // Signals were blocked by the master around fork; libuv's handlers are in
  // place now, so let them through.
  sigset_t set;
  sigemptyset(&set);
  ::sigprocmask(SIG_SETMASK, &set, nullptr);

  for (const conf::Module* m : conf::allModules()) {
    if (m->initProcess) m->initProcess(cycle);
  }

  uv_run(loop, UV_RUN_DEFAULT);

  // Leaving: a QUIT, HUP or USR1 from now on (the master repeats QUIT to a
  // retiring child) waits blocked. Closing the watchers below gives the
  // signals their default action back, and SIGQUIT's would kill the process
  // with a core dump before it exits.
  sigset_t leaving;
  sigemptyset(&leaving);
  for (int s : {SIGQUIT, SIGHUP, SIGUSR1}) sigaddset(&leaving, s);
  ::sigprocmask(SIG_BLOCK, &leaving, nullptr);

  log.error(core::Level::kNotice, 0, "exiting");
  for (const conf::Module* m : conf::allModules()) {
    if (m->exitProcess) m->exitProcess(cycle);
  }
  closeControlHandles();
  state.shutdownTimer.reset();
  event::destroyLoop();
  gState = nullptr;
  return 0;
}

}  // namespace lunet::process

namespace lunet::process {

// ---- liblunet: the single process's work on a private loop ----

bool startEmbedded(Cycle& cycle) {
  if (gState != nullptr || event::loop() != nullptr) return false;
  gEmbedded = std::make_unique<WorkerState>();
  gState = gEmbedded.get();
  gState->cycle = &cycle;
  gState->single = true;
  gState->embedded = true;
  gWorkerId = 0;
  gExiting = false;
  setProcessType(ProcessType::kSingle);
  setMasterPid(::getpid());
  setCurrentCycle(&cycle);
  uv_loop_t* loop = event::createLoop();
  core::updateTime();
  startTimeHandles(*gState, loop);
  LUNET_UV_CHECK(uv_async_init(loop, gState->hold.get(), [](uv_async_t*) {}));
  gState->hold.markInitialized();
  for (const conf::Module* m : conf::allModules()) {
    if (m->initProcess) m->initProcess(cycle);
  }
  return true;
}

void stopEmbedded() {
  if (gState != nullptr && gState->embedded) beginGracefulExit();
}

bool embeddedDrained() {
  return gState != nullptr && gState->embedded && gExiting && !uv_loop_alive(event::loop());
}

void finishEmbedded() {
  if (gState == nullptr || !gState->embedded) return;
  core::processLog().error(core::Level::kNotice, 0, "exiting");
  for (const conf::Module* m : conf::allModules()) {
    if (m->exitProcess) m->exitProcess(*gState->cycle);
  }
  closeControlHandles();
  gState->shutdownTimer.reset();
  event::destroyLoop();
  gState = nullptr;
  gEmbedded.reset();
  gExiting = false;
  gWorkerId = -1;
  setCurrentCycle(nullptr);
  // Process-wide services a graceful exit shut down, ready for a next run.
  net::KeepalivePool::get().start();
}

}  // namespace lunet::process
