// The error log: nginx's line format, levels, unbuffered writes.
//
//   2026/11/22 11:27:41 [error] 3455#3455: *3 MESSAGE, client: 127.0.0.1, ...
//
// A Log is a cheap value (sinks + connection number + context handler) that
// connections and requests copy and specialise; the sinks (open files) belong
// to the config generation (process::Cycle) and are reopened on USR1.
#pragma once

#include <sys/types.h>

#include <cstdarg>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lunet::core {

enum class Level : uint8_t {
  kStderr = 0,
  kEmerg,
  kAlert,
  kCrit,
  kError,
  kWarn,
  kNotice,
  kInfo,
  kDebug,
};

std::string_view levelName(Level l);
// "debug" -> kDebug; returns false for an unknown name.
bool parseLevel(std::string_view name, Level* out);

// One destination: a file (or stderr) and the most verbose level it takes.
// A sink may also be a function (an embedding program's log callback).
using LogCallback = void (*)(void* data, Level level, std::string_view line);
struct LogSink {
  std::string path;  // absolute, or "stderr"
  Level level = Level::kError;
  int fd = -1;
  bool ownsFd = false;
  LogCallback fn = nullptr;  // set: lines go to fn(fnData, ...), not to fd
  void* fnData = nullptr;
};

// A set of sinks (one `error_log` directive may appear several times).
class ErrorLog {
 public:
  ErrorLog() = default;
  ~ErrorLog();
  ErrorLog(const ErrorLog&) = delete;
  ErrorLog& operator=(const ErrorLog&) = delete;

  // Opens (append, create) path; "stderr" means fd 2. Returns 0 or errno.
  int add(const std::string& path, Level level);
  // Adds a function sink taking lines up to `level` (each ends in '\n').
  void addCallback(Level level, LogCallback fn, void* data);
  // Reopens every file sink (USR1). A file created by a root process is
  // chowned to `owner` (when not -1). Returns 0 or the first errno.
  int reopen(uid_t owner = static_cast<uid_t>(-1));
  Level maxLevel() const { return max_; }
  bool empty() const { return sinks_.empty(); }
  // True when a sink taking level `l` is stderr itself (fd 2).
  bool writesStderr(Level l) const;
  const std::vector<LogSink>& sinks() const { return sinks_; }
  // Writes a fully formatted line (must end in '\n') to sinks taking `l`.
  void writeLine(Level l, std::string_view line) const;

 private:
  std::vector<LogSink> sinks_;
  Level max_ = Level::kStderr;
};

// Appends request/connection context (", client: ..., server: ...").
using LogHandler = void (*)(const void* data, std::string& out);

class Log {
 public:
  Log() = default;
  explicit Log(const ErrorLog* sinks) : sinks_(sinks) {}

  bool enabled(Level l) const { return sinks_ != nullptr && l <= sinks_->maxLevel(); }
  // err: errno to append as " (ERR: strerror)", or 0.
  void error(Level l, int err, const char* fmt, ...) const __attribute__((format(printf, 4, 5)));
  void verror(Level l, int err, const char* fmt, va_list ap) const;
  // As error() with a message taken as is (it may hold NUL bytes).
  void message(Level l, std::string_view msg) const;

  const ErrorLog* sinks() const { return sinks_; }
  void setSinks(const ErrorLog* s) { sinks_ = s; }
  uint64_t connection = 0;  // printed as "*N " when non-zero
  LogHandler handler = nullptr;
  const void* handlerData = nullptr;
  // What the owner is doing, as nginx's log->action: lines with a handler
  // (not debug ones) get " while ACTION" before the handler's context, e.g.
  // "... while logging request, client: ...".
  const char* action = nullptr;

 private:
  const ErrorLog* sinks_ = nullptr;
};

// The process-wide log: the cycle's main error_log, or stderr before a config
// is loaded. Used by code that has no connection/request at hand.
Log& processLog();
// Installs `sinks` as the process-wide log (nullptr: back to stderr).
void setProcessLog(const ErrorLog* sinks);

#define LUNET_LOG(log, level, err, ...)                                 \
  do {                                                                  \
    if ((log).enabled(level)) (log).error((level), (err), __VA_ARGS__); \
  } while (0)

#ifdef LUNET_DEBUG
#define LUNET_DEBUG_LOG(log, ...) LUNET_LOG(log, ::lunet::core::Level::kDebug, 0, __VA_ARGS__)
#else
#define LUNET_DEBUG_LOG(log, ...) \
  do {                            \
  } while (0)
#endif

// While the server starts (until it has written its pid file and, as a
// daemon, detached), every line at warn or above is also written to stderr as
// "lunet: [emerg] MSG" — nginx's ngx_use_stderr — unless the log itself goes
// to stderr. Only src/main.cc turns it on and off.
void setStartupEcho(bool on);

// Writes "lunet: [emerg] MSG" style messages to stderr (command-line errors,
// before any log is open), as nginx does ("nginx: [emerg] ...").
void stderrMessage(Level l, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Program name used in stderr messages and process titles ("lunet"/"nginx").
extern const char* gProgramName;

}  // namespace lunet::core
