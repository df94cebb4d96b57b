// Shared by the cosocket API files (api_socket_tcp.cc, api_socket_udp.cc):
// the lua_socket_* settings that apply to the running code.
#pragma once

#include <cstdint>

#include "core/log.h"

namespace lunet::lua {

// lua_socket_* values, with -1 for "not set" in config structs.
struct SocketConf {
  int64_t connectTimeout = -1;  // ms
  int64_t sendTimeout = -1;
  int64_t readTimeout = -1;
  int64_t bufferSize = -1;  // bytes
  int64_t poolSize = -1;
  int64_t keepaliveTimeout = -1;  // ms
  int64_t logErrors = -1;         // 0 / 1

  // Fills unset fields from `parent` (or the defaults: 60 s, 4 KiB, 30,
  // 60 s, on).
  void merge(const SocketConf& parent) noexcept;
  void fillDefaults() noexcept;
};

// The settings of the running request's location, or the http{} level for
// timers (and other owners without a location).
const SocketConf& currentSocketConf() noexcept;
// Where the running code logs.
const core::Log& currentLog() noexcept;

}  // namespace lunet::lua
