#include "core/log.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/time.h"

namespace lunet::core {

const char* gProgramName = "lunet";

namespace {

constexpr std::string_view kLevelNames[] = {"",     "emerg",  "alert", "crit", "error",
                                            "warn", "notice", "info",  "debug"};

ErrorLog& stderrLog() {
  static ErrorLog* log = [] {
    auto* l = new ErrorLog();
    l->add("stderr", Level::kNotice);
    return l;
  }();
  return *log;
}

Log gProcessLog(nullptr);
bool gProcessLogSet = false;
bool gStartupEcho = false;

}  // namespace

std::string_view levelName(Level l) { return kLevelNames[static_cast<int>(l)]; }

bool parseLevel(std::string_view name, Level* out) {
  for (int i = 1; i <= static_cast<int>(Level::kDebug); i++) {
    if (kLevelNames[i] == name) {
      *out = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

ErrorLog::~ErrorLog() {
  for (auto& s : sinks_) {
    if (s.ownsFd && s.fd >= 0) ::close(s.fd);
  }
}

int ErrorLog::add(const std::string& path, Level level) {
  LogSink s;
  s.path = path;
  s.level = level;
  if (path == "stderr") {
    s.fd = STDERR_FILENO;
  } else {
    s.fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (s.fd < 0) return errno;
    s.ownsFd = true;
  }
  if (level > max_) max_ = level;
  sinks_.push_back(std::move(s));
  return 0;
}

void ErrorLog::addCallback(Level level, LogCallback fn, void* data) {
  LogSink s;
  s.path = "callback";
  s.level = level;
  s.fn = fn;
  s.fnData = data;
  if (level > max_) max_ = level;
  sinks_.push_back(std::move(s));
}

int ErrorLog::reopen(uid_t owner) {
  int first = 0;
  for (auto& s : sinks_) {
    if (!s.ownsFd) continue;
    int fd = ::open(s.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (first == 0) first = errno;
      continue;
    }
    if (owner != static_cast<uid_t>(-1) && ::geteuid() == 0 && ::fchown(fd, owner, -1) != 0) {
      if (first == 0) first = errno;
    }
    // dup2 keeps the fd number stable for anything holding it.
    ::dup2(fd, s.fd);
    ::close(fd);
    ::fcntl(s.fd, F_SETFD, FD_CLOEXEC);
  }
  return first;
}

bool ErrorLog::writesStderr(Level l) const {
  for (const auto& s : sinks_) {
    if (l <= s.level && s.fd == STDERR_FILENO) return true;
  }
  return false;
}

void ErrorLog::writeLine(Level l, std::string_view line) const {
  for (const auto& s : sinks_) {
    if (l > s.level) continue;
    if (s.fn != nullptr) {
      s.fn(s.fnData, l, line);
      continue;
    }
    // One write(2) per line so concurrent processes do not interleave.
    ssize_t n = ::write(s.fd, line.data(), line.size());
    (void)n;
  }
}

void Log::error(Level l, int err, const char* fmt, ...) const {
  va_list ap;
  va_start(ap, fmt);
  verror(l, err, fmt, ap);
  va_end(ap);
}

void Log::message(Level l, std::string_view msg) const {
  const ErrorLog* sinks = sinks_ ? sinks_ : &stderrLog();
  if (l > sinks->maxLevel()) return;
  char buf[128];
  std::string_view ts = cachedErrorLogTime();
  int pid = static_cast<int>(::getpid());
  int n =
      std::snprintf(buf, sizeof(buf), "%.*s [%.*s] %d#%d: ", static_cast<int>(ts.size()), ts.data(),
                    static_cast<int>(levelName(l).size()), levelName(l).data(), pid, pid);
  std::string line(buf, static_cast<size_t>(n));
  if (connection != 0) {
    line += '*';
    line += std::to_string(connection);
    line += ' ';
  }
  line.append(msg);
  // As nginx: debug lines carry no request context.
  if (handler != nullptr && l != Level::kDebug) {
    if (action != nullptr) {
      line += " while ";
      line += action;
    }
    handler(handlerData, line);
  }
  line += '\n';
  sinks->writeLine(l, line);
}

namespace {

// While starting, a line at warn or above is also written to stderr as
// "PROG: [LEVEL] MSG" (`msg`: the line after "TIME [LEVEL] PID#TID: ").
void echoStartup(Level l, const ErrorLog& sinks, std::string_view msg) {
  if (!gStartupEcho || l == Level::kStderr || l > Level::kWarn || sinks.writesStderr(l)) return;
  std::string echo = gProgramName;
  echo += ": [";
  echo += levelName(l);
  echo += "] ";
  echo += msg;
  ssize_t w = ::write(STDERR_FILENO, echo.data(), echo.size());
  (void)w;
}

}  // namespace

void Log::verror(Level l, int err, const char* fmt, va_list ap) const {
  const ErrorLog* sinks = sinks_ ? sinks_ : &stderrLog();
  if (l > sinks->maxLevel()) return;
  char buf[4096];
  std::string_view ts = cachedErrorLogTime();
  int pid = static_cast<int>(::getpid());
  int n =
      std::snprintf(buf, sizeof(buf), "%.*s [%.*s] %d#%d: ", static_cast<int>(ts.size()), ts.data(),
                    static_cast<int>(levelName(l).size()), levelName(l).data(), pid, pid);
  if (err == 0 && (handler == nullptr || l == Level::kDebug)) {
    // Fast path, no heap (debug lines run inside request handlers): the
    // whole line in `buf` when it fits.
    size_t len = static_cast<size_t>(n);
    if (connection != 0) {
      len += static_cast<size_t>(std::snprintf(buf + len, sizeof(buf) - len, "*%llu ",
                                               static_cast<unsigned long long>(connection)));
    }
    va_list ap2;
    va_copy(ap2, ap);
    int m = std::vsnprintf(buf + len, sizeof(buf) - len, fmt, ap2);
    va_end(ap2);
    if (m >= 0 && len + static_cast<size_t>(m) + 1 < sizeof(buf)) {
      len += static_cast<size_t>(m);
      buf[len++] = '\n';
      sinks->writeLine(l, {buf, len});
      echoStartup(l, *sinks, {buf + n, len - static_cast<size_t>(n)});
      return;
    }
  }
  std::string line(buf, static_cast<size_t>(n));
  if (connection != 0) {
    line += '*';
    line += std::to_string(connection);
    line += ' ';
  }
  va_list ap2;
  va_copy(ap2, ap);
  int m = std::vsnprintf(buf, sizeof(buf), fmt, ap2);
  va_end(ap2);
  if (m >= static_cast<int>(sizeof(buf))) {
    std::string big(static_cast<size_t>(m) + 1, '\0');
    std::vsnprintf(big.data(), big.size(), fmt, ap);
    big.resize(static_cast<size_t>(m));
    line += big;
  } else if (m > 0) {
    line.append(buf, static_cast<size_t>(m));
  }
  if (err != 0) {
    line += " (";
    line += std::to_string(err);
    line += ": ";
    line += std::strerror(err);
    line += ')';
  }
  // As nginx: debug lines carry no request context.
  if (handler != nullptr && l != Level::kDebug) {
    if (action != nullptr) {
      line += " while ";
      line += action;
    }
    handler(handlerData, line);
  }
  line += '\n';
  sinks->writeLine(l, line);
  echoStartup(l, *sinks, std::string_view(line).substr(static_cast<size_t>(n)));
}

Log& processLog() {
  if (!gProcessLogSet) gProcessLog.setSinks(&stderrLog());
  return gProcessLog;
}

void setProcessLog(const ErrorLog* sinks) {
  gProcessLog.setSinks(sinks ? sinks : &stderrLog());
  gProcessLogSet = true;
}

void setStartupEcho(bool on) { gStartupEcho = on; }

void stderrMessage(Level l, const char* fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  std::string line = gProgramName;
  line += ": ";
  if (l != Level::kStderr) {
    line += '[';
    line += levelName(l);
    line += "] ";
  }
  line += buf;
  line += '\n';
  ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  (void)n;
}

}  // namespace lunet::core
