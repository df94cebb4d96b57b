// liblunet: a Lunet server inside your own program, driven by your libuv loop.
//
//   lunet::ServerOptions opts;
//   opts.prefix = "/srv/app/";
//   std::string err;
//   auto server = lunet::Server::fromString(R"(
//       events {}
//       http { server { listen 127.0.0.1:8080;
//                       location / { content_by_lua_block { ngx.say("hi") } } } }
//   )", opts, &err);
//   if (!server) { fprintf(stderr, "%s\n", err.c_str()); return 1; }
//   if (auto e = server->start(uv_default_loop()); !e.empty()) { ... }
//   ...                                  // your own handles on the same loop
//   server->stop([] { puts("stopped"); });
//   uv_run(uv_default_loop(), UV_RUN_DEFAULT);
//
// The server runs as nginx's single process (`master_process off`;
// ngx.process.type() is "single") on the thread that runs your loop. It
// installs no signal handler, forks nothing, changes no process title and
// writes to stdout/stderr only when the config or a log sink says so. Your
// program should ignore SIGPIPE (as libuv programs usually do): a peer that
// closes early would otherwise end the process. See docs/embedding.md.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct lua_State;

namespace lunet {

// Error log levels, nginx's order (kEmerg most severe).
enum class LogLevel { kEmerg = 1, kAlert, kCrit, kError, kWarn, kNotice, kInfo, kDebug };

// Receives each error-log line (nginx's format, ending in '\n').
using LogSink = std::function<void(LogLevel level, std::string_view line)>;

// How a server is built. Everything is optional but the prefix.
struct ServerOptions {
  // The server's prefix: relative paths in the config (logs/, html/, Lua
  // files) start here. Must end in '/'.
  std::string prefix;
  // For fromString(): the file name messages give for the text
  // ("... in PREFIX/conf/NAME:LINE"); relative includes start in PREFIX/conf/.
  std::string name = "embedded.conf";
  // Log lines up to `logLevel` also go to `logSink` (besides the config's
  // error_log files). Set it to see the lines of a failed load too.
  LogSink logSink;
  LogLevel logLevel = LogLevel::kNotice;
  // Lua modules that `require` finds in every Lua VM of the server: C
  // openers (the function returns the module) and Lua sources.
  std::vector<std::pair<std::string, int (*)(lua_State*)>> luaModules;
  std::vector<std::pair<std::string, std::string>> luaPreloads;
};

class Server {
 public:
  // Loads a configuration (init_by_lua runs here). On failure returns null
  // and sets *error to nginx's message, e.g. `unknown directive "foo" in
  // /srv/app/conf/embedded.conf:3`. Never exits, never throws.
  static std::unique_ptr<Server> fromString(std::string_view config, const ServerOptions& options,
                                            std::string* error);
  static std::unique_ptr<Server> fromFile(const std::string& path, const ServerOptions& options,
                                          std::string* error);

  // Stops the server first if it still runs (its work is cut short).
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens the listening sockets and starts serving on `loop` (the caller's
  // thread). Returns "" or the error. One server runs per process at a time.
  std::string start(uv_loop_t* loop);

  // Begins a graceful stop: listeners close, requests in flight finish,
  // pending timers run with premature = true, exit_worker_by_lua runs; then
  // `done` is called from the loop. Safe to call more than once (later
  // calls only replace `done`).
  void stop(std::function<void()> done);

  // True from start() until the stop has completed.
  bool running() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunet
