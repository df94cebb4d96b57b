// liblunet's C API (include/lunet/lunet.h) over lunet::Server.
#include <cstring>
#include <new>
#include <string>

#include "lunet/lunet.h"
#include "lunet/server.h"

struct lunet_options_s {
  lunet::ServerOptions opts;
};

struct lunet_server_s {
  std::unique_ptr<lunet::Server> server;
};

namespace {

void copyError(const std::string& msg, char* err, size_t errlen) {
  if (err == nullptr || errlen == 0) return;
  size_t n = msg.size() < errlen - 1 ? msg.size() : errlen - 1;
  std::memcpy(err, msg.data(), n);
  err[n] = '\0';
}

template <class Load>
lunet_server_t* build(Load load, const lunet_options_t* o, char* err, size_t errlen) noexcept {
  if (o == nullptr) {
    copyError("no options", err, errlen);
    return nullptr;
  }
  try {
    std::string e;
    auto server = load(o->opts, &e);
    if (!server) {
      copyError(e, err, errlen);
      return nullptr;
    }
    auto* s = new lunet_server_s;
    s->server = std::move(server);
    return s;
  } catch (const std::exception& ex) {  // allocation failures only
    copyError(ex.what(), err, errlen);
    return nullptr;
  }
}

}  // namespace

extern "C" {

lunet_options_t* lunet_options_new(const char* prefix) {
  try {
    auto* o = new lunet_options_s;
    if (prefix != nullptr) o->opts.prefix = prefix;
    return o;
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

void lunet_options_free(lunet_options_t* o) { delete o; }

void lunet_options_set_name(lunet_options_t* o, const char* name) {
  if (o != nullptr && name != nullptr) o->opts.name = name;
}

void lunet_options_set_log(lunet_options_t* o, int level, lunet_log_fn fn, void* data) {
  if (o == nullptr) return;
  if (level < 1) level = 1;
  if (level > 8) level = 8;
  o->opts.logLevel = static_cast<lunet::LogLevel>(level);
  if (fn == nullptr) {
    o->opts.logSink = nullptr;
    return;
  }
  o->opts.logSink = [fn, data](lunet::LogLevel l, std::string_view line) {
    fn(data, static_cast<int>(l), line.data(), line.size());
  };
}

void lunet_options_add_lua_module(lunet_options_t* o, const char* name,
                                  int (*opener)(struct lua_State*)) {
  if (o != nullptr && name != nullptr && opener != nullptr)
    o->opts.luaModules.emplace_back(name, opener);
}

void lunet_options_add_lua_source(lunet_options_t* o, const char* name, const char* source) {
  if (o != nullptr && name != nullptr && source != nullptr)
    o->opts.luaPreloads.emplace_back(name, source);
}

lunet_server_t* lunet_server_from_string(const char* config, const lunet_options_t* o, char* err,
                                         size_t errlen) {
  std::string text = config != nullptr ? config : "";
  return build([&](const lunet::ServerOptions& so,
                   std::string* e) { return lunet::Server::fromString(text, so, e); },
               o, err, errlen);
}

lunet_server_t* lunet_server_from_file(const char* path, const lunet_options_t* o, char* err,
                                       size_t errlen) {
  std::string p = path != nullptr ? path : "";
  return build([&](const lunet::ServerOptions& so,
                   std::string* e) { return lunet::Server::fromFile(p, so, e); },
               o, err, errlen);
}

int lunet_server_start(lunet_server_t* s, uv_loop_t* loop, char* err, size_t errlen) {
  if (s == nullptr || loop == nullptr) {
    copyError("no server or loop", err, errlen);
    return -1;
  }
  std::string e = s->server->start(loop);
  if (e.empty()) return 0;
  copyError(e, err, errlen);
  return -1;
}

void lunet_server_stop(lunet_server_t* s, void (*done)(void* arg), void* arg) {
  if (s == nullptr) return;
  if (done == nullptr) {
    s->server->stop(nullptr);
    return;
  }
  s->server->stop([done, arg] { done(arg); });
}

int lunet_server_running(const lunet_server_t* s) {
  return s != nullptr && s->server->running() ? 1 : 0;
}

void lunet_server_free(lunet_server_t* s) { delete s; }

}  // extern "C"
