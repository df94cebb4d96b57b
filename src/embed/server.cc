// liblunet's Server (include/lunet/server.h).
//
// The server's handles live on a private libuv loop (event::loop(), as in
// a worker), and the host's loop drives it: a uv_poll_t on the private
// loop's backend fd runs it (UV_RUN_NOWAIT) when anything is ready, and a
// uv_timer_t on the host's loop wakes it for its next timer. So the whole
// server runs on the host's thread, from the host's loop, while every
// subsystem keeps the one loop it already knows.
#include "lunet/server.h"

#include <csignal>
#include <exception>
#include <fstream>
#include <sstream>

#include "conf/cycle.h"
#include "core/log.h"
#include "core/time.h"
#include "event/loop.h"
#include "lua/vm.h"
#include "process/cycle.h"
#include "process/process.h"

namespace lunet {

namespace {
// The process log while no server code runs: no sinks, so nothing of
// Lunet's reaches the host's stderr (it outlives every Server).
core::ErrorLog& quiet() {
  static core::ErrorLog* q = new core::ErrorLog();
  return *q;
}
}  // namespace

struct Server::Impl {
  conf::CyclePtr cycle;
  LogSink sink;
  uv_loop_t* host = nullptr;
  uv_poll_t* poll = nullptr;
  uv_timer_t* timer = nullptr;
  bool started = false;
  bool stopping = false;
  bool finished = false;
  std::function<void()> done;

  static void onLine(void* data, core::Level l, std::string_view line) {
    auto* self = static_cast<Impl*>(data);
    if (self->sink) self->sink(static_cast<LogLevel>(static_cast<int>(l)), line);
  }

  void pump();
  void arm();
  void finish();
  void closeHostHandles();
};

namespace {

std::unique_ptr<Server::Impl> load(conf::Options opts, const ServerOptions& so,
                                   std::string* error) {
  auto impl = std::make_unique<Server::Impl>();
  impl->sink = so.logSink;
  core::updateTime();
  if (so.prefix.empty() || so.prefix.back() != '/') {
    if (error) *error = "the prefix must be a directory ending in '/'";
    return nullptr;
  }
  opts.prefix = so.prefix;
  opts.luaOpeners = so.luaModules;
  opts.luaSources = so.luaPreloads;
  opts.embedded = true;
  // While the config loads, lines go to the sink only (never to stderr).
  core::ErrorLog startup;
  if (so.logSink) {
    startup.addCallback(static_cast<core::Level>(static_cast<int>(so.logLevel)),
                        &Server::Impl::onLine, impl.get());
  }
  core::setProcessLog(&startup);
  // A server may be running (a second one is loading to replace it): its
  // cycle and VM stay current, and the new one inherits none of its zones.
  conf::Cycle* runningCycle = conf::currentCycle();
  lua::Vm* runningVm = lua::currentVm();
  conf::setCurrentCycle(nullptr);
  auto restore = [&] {
    conf::setCurrentCycle(runningCycle);
    lua::setCurrentVm(runningVm);
    core::setProcessLog(&quiet());
  };
  try {
    impl->cycle = conf::loadCycle(opts);
  } catch (const conf::ConfError& e) {
    if (error) *error = e.full();
    restore();
    return nullptr;
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    restore();
    return nullptr;
  }
  restore();
  if (so.logSink) {
    impl->cycle->errorLog.addCallback(static_cast<core::Level>(static_cast<int>(so.logLevel)),
                                      &Server::Impl::onLine, impl.get());
  }
  return impl;
}

}  // namespace

std::unique_ptr<Server> Server::fromString(std::string_view config, const ServerOptions& options,
                                           std::string* error) {
  conf::Options opts;
  opts.confFile = options.prefix + "conf/" + options.name;
  opts.confText = std::string(config);
  auto impl = load(std::move(opts), options, error);
  if (!impl) return nullptr;
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::unique_ptr<Server> Server::fromFile(const std::string& path, const ServerOptions& options,
                                         std::string* error) {
  conf::Options opts;
  opts.confFile = !path.empty() && path[0] == '/' ? path : options.prefix + path;
  auto impl = load(std::move(opts), options, error);
  if (!impl) return nullptr;
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (impl_->started && !impl_->finished) {
    // Cut short: drive the private loop until the graceful stop completes.
    process::stopEmbedded();
    impl_->stopping = true;
    impl_->done = nullptr;
    core::setProcessLog(&impl_->cycle->errorLog);
    while (!process::embeddedDrained()) uv_run(event::loop(), UV_RUN_ONCE);
    impl_->closeHostHandles();
    process::finishEmbedded();
    impl_->finished = true;
    core::setProcessLog(&quiet());
  }
  if (impl_->cycle) {
    process::closeListeningSockets(*impl_->cycle);
  }
}

std::string Server::start(uv_loop_t* loop) {
  Impl& s = *impl_;
  if (s.started) return "the server was already started";
  if (event::loop() != nullptr) return "another Lunet server runs in this process";
  core::setProcessLog(&s.cycle->errorLog);
  if (!process::openListeningSockets(*s.cycle, nullptr)) {
    core::setProcessLog(&quiet());
    return "could not open the listening sockets (see the error log)";
  }
  if (!process::startEmbedded(*s.cycle)) {
    process::closeListeningSockets(*s.cycle);
    core::setProcessLog(&quiet());
    return "another Lunet server runs in this process";
  }
  s.host = loop;
  s.poll = new uv_poll_t;
  s.poll->data = &s;
  s.timer = new uv_timer_t;
  s.timer->data = &s;
  int rc = uv_poll_init(loop, s.poll, uv_backend_fd(event::loop()));
  if (rc == 0) rc = uv_timer_init(loop, s.timer);
  if (rc != 0) return std::string("uv_poll_init/uv_timer_init: ") + uv_strerror(rc);
  uv_poll_start(s.poll, UV_READABLE,
                [](uv_poll_t* p, int, int) { static_cast<Impl*>(p->data)->pump(); });
  s.started = true;
  // init_worker_by_lua ran in startEmbedded; give what it queued a turn.
  s.pump();
  core::setProcessLog(&quiet());
  return {};
}

void Server::stop(std::function<void()> done) {
  Impl& s = *impl_;
  s.done = std::move(done);
  if (!s.started || s.finished) {
    if (s.done) {
      auto d = std::move(s.done);
      d();
    }
    return;
  }
  if (!s.stopping) {
    s.stopping = true;
    core::setProcessLog(&s.cycle->errorLog);
    process::stopEmbedded();
    core::setProcessLog(&quiet());
  }
  // Let the drain start on the next turn of the host's loop.
  uv_timer_start(
      s.timer, [](uv_timer_t* t) { static_cast<Impl*>(t->data)->pump(); }, 0, 0);
}

bool Server::running() const { return impl_->started && !impl_->finished; }

void Server::Impl::pump() {
  if (finished) return;
  core::setProcessLog(&cycle->errorLog);
  uv_run(event::loop(), UV_RUN_NOWAIT);
  if (stopping && process::embeddedDrained()) {
    closeHostHandles();  // before the private loop's fd goes
    process::finishEmbedded();
    core::setProcessLog(&quiet());
    finish();
    return;
  }
  arm();
  core::setProcessLog(&quiet());
}

// Wake the private loop for its next timer (or at once when it has work
// queued that does not wait on the fd: pending callbacks, closing handles).
void Server::Impl::arm() {
  int t = uv_backend_timeout(event::loop());
  if (t < 0) {
    uv_timer_stop(timer);
  } else {
    uv_timer_start(
        timer, [](uv_timer_t* h) { static_cast<Impl*>(h->data)->pump(); }, static_cast<uint64_t>(t),
        0);
  }
}

void Server::Impl::closeHostHandles() {
  if (poll != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(poll),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll = nullptr;
  }
  if (timer != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(timer),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer = nullptr;
  }
}

void Server::Impl::finish() {
  finished = true;
  process::closeListeningSockets(*cycle);
  if (done) {
    auto d = std::move(done);
    d();
  }
}

}  // namespace lunet
