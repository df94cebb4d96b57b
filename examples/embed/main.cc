// A program with its own libuv loop, its own timer and its own TCP client,
// that embeds a Lunet server (liblunet) serving a Lua handler on the same
// loop. It asks the server for /hello with its client, prints the answer,
// stops the server gracefully and exits 0 when everything went as expected.
//
//   lunet_embed_example [PORT]      (default 18480)
#include <lunet/server.h>
#include <unistd.h>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <lua.hpp>
#include <memory>
#include <string>

namespace {

struct App {
  uv_loop_t* loop = nullptr;
  std::unique_ptr<lunet::Server> server;
  uv_timer_t tick;
  int ticks = 0;
  uv_tcp_t client;
  uv_connect_t connect;
  uv_write_t write;
  std::string request;
  std::string response;
  bool ok = false;
};

void stopAll(App* app) {
  uv_timer_stop(&app->tick);
  uv_close(reinterpret_cast<uv_handle_t*>(&app->tick), nullptr);
  app->server->stop(
      [app] { std::printf("server stopped; my timer ticked %d times meanwhile\n", app->ticks); });
}

void onRead(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* app = static_cast<App*>(s->data);
  if (n > 0) app->response.append(buf->base, static_cast<size_t>(n));
  delete[] buf->base;
  if (n >= 0) return;
  uv_close(reinterpret_cast<uv_handle_t*>(s), nullptr);
  auto body = app->response.find("\r\n\r\n");
  std::string text = body == std::string::npos ? "" : app->response.substr(body + 4);
  std::printf("GET /hello -> %s", text.c_str());
  app->ok = app->response.rfind("HTTP/1.1 200", 0) == 0 && text == "hello from Lua, 42\n";
  stopAll(app);
}

void onConnect(uv_connect_t* c, int status) {
  auto* app = static_cast<App*>(c->data);
  if (status != 0) {
    std::fprintf(stderr, "connect: %s\n", uv_strerror(status));
    uv_close(reinterpret_cast<uv_handle_t*>(&app->client), nullptr);
    stopAll(app);
    return;
  }
  uv_buf_t b = uv_buf_init(app->request.data(), static_cast<unsigned>(app->request.size()));
  uv_write(&app->write, reinterpret_cast<uv_stream_t*>(&app->client), &b, 1, nullptr);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&app->client),
      [](uv_handle_t*, size_t size, uv_buf_t* buf) { *buf = uv_buf_init(new char[size], size); },
      onRead);
}

// A Lua module written in C: require("answer") returns 42.
int openAnswer(lua_State* L) {
  lua_pushinteger(L, 42);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  int port = argc > 1 ? std::atoi(argv[1]) : 18480;
  char tmpl[] = "/tmp/lunet_embed_example_XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  std::string prefix = std::string(tmpl) + "/";
  std::system(("mkdir -p " + prefix + "logs " + prefix + "conf").c_str());

  App app;
  app.loop = uv_default_loop();
  lunet::ServerOptions opts;
  opts.prefix = prefix;
  opts.logLevel = lunet::LogLevel::kWarn;
  opts.logSink = [](lunet::LogLevel, std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
  opts.luaModules.push_back({"answer", openAnswer});
  std::string config =
      "events {}\nhttp {\n  server {\n    listen 127.0.0.1:" + std::to_string(port) +
      ";\n"
      "    location /hello {\n"
      "      content_by_lua_block {\n"
      "        ngx.say('hello from Lua, ', require('answer'))\n"
      "      }\n"
      "    }\n"
      "  }\n"
      "}\n";
  std::string err;
  app.server = lunet::Server::fromString(config, opts, &err);
  if (!app.server) {
    std::fprintf(stderr, "config: %s\n", err.c_str());
    return 1;
  }
  if (std::string e = app.server->start(app.loop); !e.empty()) {
    std::fprintf(stderr, "start: %s\n", e.c_str());
    return 1;
  }

  // The host's own work on the same loop: a timer and a TCP client.
  uv_timer_init(app.loop, &app.tick);
  app.tick.data = &app;
  uv_timer_start(
      &app.tick, [](uv_timer_t* t) { static_cast<App*>(t->data)->ticks++; }, 1, 1);
  uv_tcp_init(app.loop, &app.client);
  app.client.data = &app;
  app.connect.data = &app;
  app.request = "GET /hello HTTP/1.0\r\nHost: localhost\r\n\r\n";
  sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", port, &addr);
  uv_tcp_connect(&app.connect, &app.client, reinterpret_cast<const sockaddr*>(&addr), onConnect);

  uv_run(app.loop, UV_RUN_DEFAULT);
  app.server.reset();
  uv_run(app.loop, UV_RUN_DEFAULT);
  uv_loop_close(app.loop);
  std::system(("rm -rf " + prefix).c_str());
  std::printf("%s\n", app.ok ? "ok" : "FAILED");
  return app.ok ? 0 : 1;
}
