#include "process/cycle.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lunet::process {

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
