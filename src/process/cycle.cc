#include "process/cycle.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "conf/parser.h"
#include "process/core_module.h"

namespace lunet::process {

namespace {
ProcessType gType = ProcessType::kSingle;
Cycle* gCurrent = nullptr;
}  // namespace

ProcessType processType() { return gType; }
void setProcessType(ProcessType t) { gType = t; }

const char* processTypeName(ProcessType t) {
  switch (t) {
    case ProcessType::kSingle:
      return "single";
    case ProcessType::kMaster:
      return "master";
    case ProcessType::kSignaller:
      return "signaller";
    case ProcessType::kWorker:
      return "worker";
    case ProcessType::kHelper:
      return "helper";
    case ProcessType::kPrivilegedAgent:
      return "privileged agent";
  }
  return "unknown";
}

Cycle* currentCycle() { return gCurrent; }
void setCurrentCycle(Cycle* c) { gCurrent = c; }

CoreConf& Cycle::core() const { return *conf<CoreConf>(coreModule()); }

std::string Cycle::fullPath(const std::string& path) const {
  if (!path.empty() && path[0] == '/') return path;
  return options.prefix + path;
}

std::string Cycle::fullConfPath(const std::string& path) const {
  if (!path.empty() && path[0] == '/') return path;
  return confPrefix + path;
}

CyclePtr loadCycle(const Options& opts) {
  auto cycle = std::make_unique<Cycle>();
  cycle->options = opts;
  const std::string& cf = opts.confFile;
  auto slash = cf.rfind('/');
  cycle->confPrefix = slash == std::string::npos ? opts.prefix : cf.substr(0, slash + 1);

  conf::ParseOptions po;
  po.confPrefix = cycle->confPrefix;
  cycle->tree = conf::parseFile(cf, po);
  if (!opts.directives.empty()) {
    auto extra = conf::parseString(opts.directives, "command line", po);
    for (auto& n : extra) cycle->tree.push_back(std::move(n));
  }

  auto modules = conf::allModules();
  cycle->confs.resize(modules.size());
  conf::ConfLevel top;
  top.main.resize(modules.size(), nullptr);
  for (const conf::Module* m : modules) {
    if (m->type != conf::ModuleType::kHttp && m->createMain) {
      cycle->confs[m->index] = m->createMain();
      top.main[m->index] = cycle->confs[m->index].get();
    }
  }

  conf::Engine engine(*cycle);
  // In the master during a reload the running cycle is still current: its
  // zones are the ones this generation may take over.
  Cycle* previous = currentCycle();
  cycle->zones.inheritFrom(previous != nullptr ? &previous->zones : nullptr);
  setCurrentCycle(cycle.get());
  try {
    engine.processBlock(cycle->tree, conf::kMainCtx, &top);
    for (const conf::Module* m : modules) {
      if (m->type != conf::ModuleType::kHttp && m->initMain && cycle->confs[m->index]) {
        m->initMain(engine, cycle->confs[m->index].get());
      }
    }
    for (const conf::Module* m : modules) {
      if (m->type != conf::ModuleType::kHttp && m->postConfiguration) m->postConfiguration(engine);
    }
  } catch (...) {
    setCurrentCycle(previous);
    throw;
  }
  setCurrentCycle(previous);
  cycle->zones.dropPrevious();

  if (cycle->errorLog.empty()) {
    std::string path = opts.errorLog.empty() ? cycle->fullPath("logs/error.log") : opts.errorLog;
    if (path != "stderr") path = cycle->fullPath(path);
    int err = cycle->errorLog.add(path, core::Level::kError);
    if (err != 0) {
      throw std::runtime_error("open() \"" + path + "\" failed (" + std::to_string(err) + ": " +
                               std::strerror(err) + ")");
    }
  }
  return cycle;
}

namespace {

bool sameAddr(const Listening& a, const Listening& b) {
  return a.addrLen == b.addrLen && std::memcmp(&a.addr, &b.addr, a.addrLen) == 0 &&
         a.reuseport == b.reuseport;
}

int openOne(const Listening& l) {
  int fd = ::socket(l.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (l.reuseport) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (l.addr.ss_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&l.addr), l.addrLen) != 0) {
    int e = errno;
    ::close(fd);
    return -e;
  }
  if (::listen(fd, l.backlog) != 0) {
    int e = errno;
    ::close(fd);
    return -e;
  }
  return fd;
}

}  // namespace

bool openListeningSockets(Cycle& cycle, Cycle* old) {
  int nworkers = static_cast<int>(cycle.core().workerProcesses);
  if (cycle.core().masterProcess == 0) nworkers = 1;
  for (auto& lp : cycle.listening) {
    Listening& l = *lp;
    if (old != nullptr) {
      for (auto& op : old->listening) {
        Listening& o = *op;
        if ((o.fd >= 0 || !o.fds.empty()) && sameAddr(o, l) &&
            (!l.reuseport || static_cast<int>(o.fds.size()) == nworkers)) {
          l.fd = o.fd;
          l.fds = o.fds;
          o.fd = -1;
          o.fds.clear();
          break;
        }
      }
      if (l.fd >= 0 || !l.fds.empty()) continue;
    }
    int count = l.reuseport ? nworkers : 1;
    for (int i = 0; i < count; i++) {
      int fd = -1;
      core::Log& log = core::processLog();
      // nginx tries bind() five times, 500 ms apart, while the address is in
      // use; any other error fails at once.
      constexpr int kTries = 5;
      for (int attempt = 0; attempt < kTries; attempt++) {
        fd = openOne(l);
        if (fd >= 0) break;
        log.error(core::Level::kEmerg, -fd, "bind() to %s failed", l.text.c_str());
        if (fd != -EADDRINUSE) return false;
        if (attempt + 1 < kTries) {
          LUNET_LOG(log, core::Level::kNotice, 0, "try again to bind() after 500ms");
          ::usleep(500 * 1000);
        }
      }
      if (fd < 0) {
        log.error(core::Level::kEmerg, 0, "still could not bind()");
        return false;
      }
      if (l.reuseport) {
        l.fds.push_back(fd);
      } else {
        l.fd = fd;
      }
    }
  }
  return true;
}

void closeListeningSockets(Cycle& cycle) {
  for (auto& l : cycle.listening) {
    if (l->fd >= 0) ::close(l->fd);
    l->fd = -1;
    for (int fd : l->fds) ::close(fd);
    l->fds.clear();
  }
}

}  // namespace lunet::process
