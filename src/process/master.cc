// The master process: holds the config generation, the listening sockets
// and the shared memory; forks workers and supervises them. It runs no event
// loop — like nginx it sleeps in sigsuspend() and acts on signal flags, so
// nothing of libuv ever crosses fork().
#include <fcntl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/log.h"
#include "core/time.h"
#include "os/proctitle.h"
#include "process/process.h"
#include "process/worker_internal.h"

namespace lunet::process {

namespace {

volatile sig_atomic_t gSigChld, gSigTerm, gSigQuit, gSigHup, gSigUsr1, gSigAlrm;
volatile sig_atomic_t gLastSignal;
volatile pid_t gLastSender;

struct Child {
  pid_t pid = -1;
  int id = 0;
  uint64_t generation = 0;
  bool retiring = false;  // sent QUIT/TERM, do not respawn
  bool privileged = false;
};

struct Master {
  CyclePtr cycle;
  uint64_t generation = 1;
  std::vector<Child> children;
  bool terminating = false;
  bool quitting = false;
  int killDelayMs = 0;
  // When retiring children are sent QUIT again (0: none retiring). A QUIT
  // can be lost: a worker inside os.execute() (system(3)) ignores SIGQUIT
  // until the command ends, and that command is often the very `kill -HUP`
  // that made the master retire it. Repeating it is harmless: a worker that
  // is already shutting down takes a second QUIT as a no-op.
  uint64_t requitAtMs = 0;
};

constexpr uint64_t kRequitMs = 1000;

bool hasRetiring(const Master& m) {
  for (const auto& ch : m.children) {
    if (ch.retiring) return true;
  }
  return false;
}

void onSignal(int signo, siginfo_t* info, void*) {
  int saved = errno;
  gLastSignal = signo;
  gLastSender = info ? info->si_pid : 0;
  switch (signo) {
    case SIGCHLD:
      gSigChld = 1;
      break;
    case SIGTERM:
    case SIGINT:
      gSigTerm = 1;
      break;
    case SIGQUIT:
      gSigQuit = 1;
      break;
    case SIGHUP:
      gSigHup = 1;
      break;
    case SIGUSR1:
      gSigUsr1 = 1;
      break;
    case SIGALRM:
      gSigAlrm = 1;
      break;
  }
  errno = saved;
}

const int kSignals[] = {SIGCHLD, SIGTERM, SIGINT,  SIGQUIT, SIGHUP,
                        SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH};

void installHandlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = onSignal;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  for (int s : kSignals) ::sigaction(s, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

void restoreDefaultHandlers() {
  for (int s : kSignals) ::signal(s, SIG_DFL);
}

const char* sigName(int s) {
  switch (s) {
    case SIGHUP:
      return "SIGHUP";
    case SIGINT:
      return "SIGINT";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGTERM:
      return "SIGTERM";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGCHLD:
      return "SIGCHLD";
    case SIGALRM:
      return "SIGALRM";
    default:
      return "signal";
  }
}

bool spawn(Master& m, int id, bool privileged) {
  core::Log& log = core::processLog();
  pid_t pid = ::fork();
  if (pid < 0) {
    log.error(core::Level::kAlert, errno, "fork() failed while spawning \"worker process\"");
    return false;
  }
  if (pid == 0) {
    restoreDefaultHandlers();
    ::signal(SIGPIPE, SIG_IGN);
    setProcessType(privileged ? ProcessType::kPrivilegedAgent : ProcessType::kWorker);
    os::setProctitle(privileged ? "privileged agent process" : "worker process");
    Cycle& c = *m.cycle;
    if (!privileged) {
      // Keep only this worker's reuseport socket.
      for (auto& l : c.listening) {
        if (!l->reuseport) continue;
        for (size_t i = 0; i < l->fds.size(); i++) {
          if (static_cast<int>(i) != id) ::close(l->fds[i]);
        }
        l->fd = l->fds[static_cast<size_t>(id)];
        l->fds.clear();
      }
    } else {
      // The agent serves no requests: it holds no listening socket, and its
      // connections budget (enable_privileged_agent) is its
      // worker_connections.
      closeListeningSockets(c);
      c.core().workerConnections = c.core().privilegedAgentConnections;
    }
    int rc = runWorkerLoop(c, privileged ? -1 : id, false, privileged);
    // exit(), not _exit(): a worker that drained its loop exits like a
    // normal program, so sanitizer builds check it for leaks.
    std::exit(rc);
  }
  log.error(core::Level::kNotice, 0, "start %s %d",
            privileged ? "privileged agent process" : "worker process", static_cast<int>(pid));
  Child ch;
  ch.pid = pid;
  ch.id = id;
  ch.generation = m.generation;
  ch.privileged = privileged;
  m.children.push_back(ch);
  return true;
}

void startWorkers(Master& m) {
  int n = static_cast<int>(m.cycle->core().workerProcesses);
  for (int i = 0; i < n; i++) spawn(m, i, false);
  int64_t agent = m.cycle->core().privilegedAgentConnections;
  if (agent == 0) {
    core::processLog().error(core::Level::kAlert, 0,
                             "%lld worker_connection is not enough, privileged agent process "
                             "cannot be spawned",
                             static_cast<long long>(agent));
  } else if (agent > 0) {
    spawn(m, -1, true);
  }
}

void signalChildren(Master& m, int sig, bool onlyOld) {
  for (auto& ch : m.children) {
    if (onlyOld && ch.generation == m.generation) continue;
    // A worker already shutting down gracefully needs no second QUIT (a
    // burst of reloads would otherwise send one per HUP).
    if (sig == SIGQUIT && ch.retiring) continue;
    if (sig == SIGQUIT || sig == SIGTERM) ch.retiring = true;
    if (::kill(ch.pid, sig) != 0 && errno != ESRCH) {
      core::processLog().error(core::Level::kAlert, errno, "kill(%d, %d) failed",
                               static_cast<int>(ch.pid), sig);
    }
  }
}

void reap(Master& m) {
  core::Log& log = core::processLog();
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    size_t idx = m.children.size();
    for (size_t i = 0; i < m.children.size(); i++) {
      if (m.children[i].pid == pid) idx = i;
    }
    if (idx == m.children.size()) continue;
    Child ch = m.children[idx];
    m.children.erase(m.children.begin() + static_cast<long>(idx));
    const char* what = ch.privileged ? "privileged agent process" : "worker process";
    bool respawn = true;
    if (WIFSIGNALED(status)) {
      log.error(core::Level::kAlert, 0, "%s %d exited on signal %d%s", what, static_cast<int>(pid),
                WTERMSIG(status), WCOREDUMP(status) ? " (core dumped)" : "");
    } else {
      int code = WEXITSTATUS(status);
      log.error(code ? core::Level::kAlert : core::Level::kNotice, 0, "%s %d exited with code %d",
                what, static_cast<int>(pid), code);
      if (code == 2) {
        log.error(core::Level::kAlert, 0, "%s %d exited with fatal code 2 and cannot be respawned",
                  what, static_cast<int>(pid));
        respawn = false;
      }
    }
    // As nginx: a child of the current generation that the master did not
    // stop is replaced, whether it crashed or left by itself (a clean exit
    // after process.signal_graceful_exit() or a QUIT sent to it directly).
    if (respawn && !ch.retiring && ch.generation == m.generation && !m.terminating &&
        !m.quitting) {
      spawn(m, ch.id, ch.privileged);
    }
  }
}

void reload(Master& m) {
  core::Log& log = core::processLog();
  log.error(core::Level::kNotice, 0, "reconfiguring");
  CyclePtr next;
  try {
    next = loadCycle(m.cycle->options);
  } catch (const conf::ConfError& e) {
    // Errors while reading the new config go to the running one's error log
    // (nginx: the old cycle's log); the old workers keep serving.
    log.error(e.level(), 0, "%s", e.full().c_str());
    return;
  } catch (const std::exception& e) {
    log.error(core::Level::kEmerg, 0, "%s", e.what());
    return;
  }
  // From here on nginx logs to the new configuration's error_log (a bind()
  // failure at reload is reported where the new config says).
  core::setProcessLog(&next->errorLog);
  bool opened = openListeningSockets(*next, m.cycle.get());
  core::setProcessLog(&m.cycle->errorLog);
  if (!opened) {
    // Give inherited sockets back to the running generation.
    for (auto& nl : next->listening) {
      for (auto& ol : m.cycle->listening) {
        if (ol->fd < 0 && ol->fds.empty() && ol->text == nl->text) {
          ol->fd = nl->fd;
          ol->fds = nl->fds;
          nl->fd = -1;
          nl->fds.clear();
        }
      }
    }
    closeListeningSockets(*next);
    return;
  }
  CyclePtr old = std::move(m.cycle);
  m.cycle = std::move(next);
  setCurrentCycle(m.cycle.get());
  core::setProcessLog(&m.cycle->errorLog);
  m.generation++;
  // Sockets the new generation did not take over are closed before it is
  // forked, so its workers never hold them; old workers keep their own
  // copies until they exit.
  closeListeningSockets(*old);
  startWorkers(m);
  signalChildren(m, SIGQUIT, true);
}

}  // namespace

bool writePidFile(const Cycle& cycle) {
  std::string path = cycle.fullPath(*cycle.core().pid);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    core::processLog().error(core::Level::kEmerg, errno, "open() \"%s\" failed", path.c_str());
    return false;
  }
  std::string s = std::to_string(::getpid()) + "\n";
  ssize_t n = ::write(fd, s.data(), s.size());
  ::close(fd);
  return n == static_cast<ssize_t>(s.size());
}

void deletePidFile(const Cycle& cycle) {
  std::string path = cycle.fullPath(*cycle.core().pid);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    core::processLog().error(core::Level::kAlert, errno, "unlink() \"%s\" failed", path.c_str());
  }
}

int runMaster(CyclePtr cycle) {
  setProcessType(ProcessType::kMaster);
  setMasterPid(::getpid());
  Master m;
  m.cycle = std::move(cycle);
  setCurrentCycle(m.cycle.get());
  core::Log& log = core::processLog();

  sigset_t block;
  sigemptyset(&block);
  for (int s : kSignals) sigaddset(&block, s);
  if (::sigprocmask(SIG_BLOCK, &block, nullptr) != 0) {
    log.error(core::Level::kAlert, errno, "sigprocmask() failed");
  }
  installHandlers();

  std::string title = std::string("master process ") + os::originalCommandLine();
  os::setProctitle(title.c_str());

  startWorkers(m);

  sigset_t empty;
  sigemptyset(&empty);
  for (;;) {
    if (m.killDelayMs > 0) {
      struct itimerval itv;
      std::memset(&itv, 0, sizeof(itv));
      itv.it_value.tv_sec = m.killDelayMs / 1000;
      itv.it_value.tv_usec = (m.killDelayMs % 1000) * 1000;
      ::setitimer(ITIMER_REAL, &itv, nullptr);
    } else if (hasRetiring(m)) {
      uint64_t now = core::nowMsec();
      if (m.requitAtMs == 0) m.requitAtMs = now + kRequitMs;
      uint64_t left = m.requitAtMs > now ? m.requitAtMs - now : 1;
      struct itimerval itv;
      std::memset(&itv, 0, sizeof(itv));
      itv.it_value.tv_sec = static_cast<time_t>(left / 1000);
      itv.it_value.tv_usec = static_cast<suseconds_t>((left % 1000) * 1000);
      ::setitimer(ITIMER_REAL, &itv, nullptr);
    } else {
      m.requitAtMs = 0;
    }
    ::sigsuspend(&empty);
    core::updateTime();
    if (!m.terminating && m.requitAtMs != 0 && core::nowMsec() >= m.requitAtMs) {
      m.requitAtMs = 0;
      for (const auto& ch : m.children) {
        if (ch.retiring) ::kill(ch.pid, SIGQUIT);
      }
    }

    if (gSigChld) {
      gSigChld = 0;
      reap(m);
    }
    if ((m.terminating || m.quitting) && m.children.empty()) {
      log.error(core::Level::kNotice, 0, "exit");
      deletePidFile(*m.cycle);
      closeListeningSockets(*m.cycle);
      return 0;
    }
    if (gSigTerm) {
      gSigTerm = 0;
      log.error(core::Level::kNotice, 0, "signal %d (%s) received from %d, exiting",
                static_cast<int>(gLastSignal), sigName(gLastSignal), static_cast<int>(gLastSender));
      if (!m.terminating) {
        m.terminating = true;
        m.killDelayMs = 50;
        signalChildren(m, SIGTERM, false);
        closeListeningSockets(*m.cycle);
      }
    }
    if (gSigAlrm) {
      gSigAlrm = 0;
      if (m.terminating) {
        // Escalate like nginx: TERM first, KILL after about a second.
        m.killDelayMs *= 2;
        int sig = m.killDelayMs > 1000 ? SIGKILL : SIGTERM;
        for (auto& ch : m.children) {
          if (sig == SIGKILL) {
            log.error(core::Level::kNotice, 0, "sending signal %d to worker process %d", sig,
                      static_cast<int>(ch.pid));
          }
          ::kill(ch.pid, sig);
        }
      }
    }
    if (gSigQuit) {
      gSigQuit = 0;
      log.error(core::Level::kNotice, 0, "signal %d (SIGQUIT) received from %d, shutting down",
                SIGQUIT, static_cast<int>(gLastSender));
      if (!m.quitting && !m.terminating) {
        m.quitting = true;
        signalChildren(m, SIGQUIT, false);
        closeListeningSockets(*m.cycle);
      }
    }
    if (gSigHup) {
      gSigHup = 0;
      log.error(core::Level::kNotice, 0, "signal %d (SIGHUP) received from %d, reconfiguring",
                SIGHUP, static_cast<int>(gLastSender));
      if (!m.quitting && !m.terminating) reload(m);
    }
    if (gSigUsr1) {
      gSigUsr1 = 0;
      log.error(core::Level::kNotice, 0, "signal %d (SIGUSR1) received from %d, reopening logs",
                SIGUSR1, static_cast<int>(gLastSender));
      reopenAll(*m.cycle, m.cycle->core().uid);
      signalChildren(m, SIGUSR1, false);
    }
    if ((m.terminating || m.quitting) && m.children.empty()) {
      log.error(core::Level::kNotice, 0, "exit");
      deletePidFile(*m.cycle);
      closeListeningSockets(*m.cycle);
      return 0;
    }
  }
}

int runSingle(CyclePtr cycle) {
  setProcessType(ProcessType::kSingle);
  setMasterPid(::getpid());
  ::signal(SIGPIPE, SIG_IGN);
  Cycle& c = *cycle;
  int rc = runWorkerLoop(c, 0, true, true);
  deletePidFile(c);
  closeListeningSockets(c);
  return rc;
}

}  // namespace lunet::process
