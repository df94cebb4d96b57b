// liblunet's Server driven on a private host loop: config errors as values,
// requests served while the host's own timer runs, a graceful stop that runs
// a pending Lua timer with premature = true, and start -> stop -> start again.
#include "lunet/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <lua.hpp>
#include <string>
#include <thread>

namespace {

int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A blocking HTTP/1.0 GET (run on another thread: the server runs on the
// test's loop thread). Returns the whole response, or "" on failure.
std::string httpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return "";
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return "";
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string body(const std::string& resp) {
  auto p = resp.find("\r\n\r\n");
  return p == std::string::npos ? "" : resp.substr(p + 4);
}

class EmbedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    char tmpl[] = "/tmp/lunet_embed_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    prefix_ = std::string(tmpl) + "/";
    ASSERT_EQ(::mkdir((prefix_ + "logs").c_str(), 0700), 0);
    ASSERT_EQ(::mkdir((prefix_ + "conf").c_str(), 0700), 0);
    ASSERT_EQ(uv_loop_init(&loop_), 0);
  }
  void TearDown() override {
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
    std::string cmd = "rm -rf " + prefix_;
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }

  std::string config(int port) const {
    return "events {}\n"
           "http {\n"
           "  init_worker_by_lua_block {\n"
           "    ngx.timer.at(3600, function(premature)\n"
           "      ngx.log(ngx.NOTICE, 'pending timer ran, premature: ', premature)\n"
           "    end)\n"
           "  }\n"
           "  server {\n"
           "    listen 127.0.0.1:" +
           std::to_string(port) +
           ";\n"
           "    location /lua {\n"
           "      content_by_lua_block {\n"
           "        ngx.sleep(0.01)\n"
           "        ngx.say(require('greeting').hello(), ' ', require('native').answer(), ' ',\n"
           "                require('ngx.process').type())\n"
           "      }\n"
           "    }\n"
           "  }\n"
           "}\n";
  }

  // Runs the loop while `path` is fetched on another thread.
  std::string fetch(int port, const std::string& path) {
    std::string resp;
    std::atomic<bool> got{false};
    uv_async_t wake;
    uv_async_init(&loop_, &wake,
                  [](uv_async_t* h) { uv_close(reinterpret_cast<uv_handle_t*>(h), nullptr); });
    std::thread t([&] {
      resp = httpGet(port, path);
      got = true;
      uv_async_send(&wake);
    });
    // The host's own timer ticks beside the server on the same loop.
    uv_timer_t tick;
    uv_timer_init(&loop_, &tick);
    tick.data = &ticks_;
    uv_timer_start(
        &tick, [](uv_timer_t* h) { ++*static_cast<int*>(h->data); }, 1, 1);
    while (!got) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    t.join();
    uv_run(&loop_, UV_RUN_NOWAIT);
    return resp;
  }

  lunet::ServerOptions options() {
    lunet::ServerOptions o;
    o.prefix = prefix_;
    o.logSink = [this](lunet::LogLevel, std::string_view line) { log_.append(line); };
    o.luaPreloads.push_back({"greeting", "return { hello = function() return 'hello' end }"});
    return o;
  }

  uv_loop_t loop_;
  std::string prefix_;
  std::string log_;
  int ticks_ = 0;
};

}  // namespace

TEST_F(EmbedTest, ConfigErrorsComeBackAsValues) {
  std::string err;
  auto s =
      lunet::Server::fromString("events {}\nhttp {\n  no_such_directive on;\n}\n", options(), &err);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(err, "unknown directive \"no_such_directive\" in " + prefix_ + "conf/embedded.conf:3");
  lunet::ServerOptions bad;
  bad.prefix = "relative";
  s = lunet::Server::fromString("events {}", bad, &err);
  EXPECT_EQ(s, nullptr);
  EXPECT_NE(err.find("prefix"), std::string::npos);
}

TEST_F(EmbedTest, ServesStopsGracefullyAndStartsAgain) {
  for (int round = 0; round < 2; round++) {
    SCOPED_TRACE(round);
    log_.clear();
    int port = freePort();
    std::string err;
    lunet::ServerOptions o = options();
    // A C opener: registered under "native", it runs a chunk that builds
    // the module table.
    o.luaModules = {{"native", [](lua_State* L) -> int {
                       luaL_loadstring(L, "return { answer = function() return 42 end }");
                       lua_call(L, 0, 1);
                       return 1;
                     }}};
    auto s = lunet::Server::fromString(config(port), o, &err);
    ASSERT_NE(s, nullptr) << err;
    ASSERT_EQ(s->start(&loop_), "");
    EXPECT_TRUE(s->running());
    // One server per process.
    auto other = lunet::Server::fromString(config(freePort()), o, &err);
    ASSERT_NE(other, nullptr) << err;
    EXPECT_EQ(other->start(&loop_), "another Lunet server runs in this process");

    ticks_ = 0;
    std::string resp = fetch(port, "/lua");
    EXPECT_EQ(resp.substr(0, 15), "HTTP/1.1 200 OK");
    EXPECT_EQ(body(resp), "hello 42 single\n");
    EXPECT_GT(ticks_, 0) << "the host's timer ran while the request was served";

    bool stopped = false;
    s->stop([&] { stopped = true; });
    while (!stopped) uv_run(&loop_, UV_RUN_ONCE);
    EXPECT_FALSE(s->running());
    EXPECT_NE(log_.find("pending timer ran, premature: true"), std::string::npos) << log_;
    // The port is free again.
    EXPECT_EQ(httpGet(port, "/lua"), "");
  }
}
