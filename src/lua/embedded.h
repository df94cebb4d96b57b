// Lua modules compiled into the binary from lua/ (see cmake/embed_lua.cmake).
#pragma once

#include <cstddef>

namespace lunet::lua {

struct EmbeddedLua {
  const char* module;  // "ngx.process"
  const char* path;    // "lua/ngx/process.lua", used as the chunk name
  const char* source;
  size_t size;
};

// Terminated by an entry whose module is nullptr.
extern const EmbeddedLua kEmbeddedLua[];

}  // namespace lunet::lua
