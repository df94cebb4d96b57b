// The parsed form of an nginx-style configuration file: a tree of directives.
//
// The lexer/parser (lexer.cc, parser.cc) turns text into this tree, expanding
// `include` in place; the directive engine (engine.cc) then walks the tree and
// hands each node to the setter named in its module's directive table.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/log.h"

namespace lunet::conf {

// One argument of a directive, after quote and escape processing.
struct ConfArg {
  std::string value;
  // True when the argument was written in single or double quotes. `if`
  // conditions and a few setters care ("" is an empty argument, not none).
  bool quoted = false;
};

// One directive: `name arg1 arg2 ...;` or `name args... { children }`.
//
// `*_by_lua_block { ... }` directives are lexed by a Lua-aware scanner: the
// node has block == false, its ordinary arguments (if any, e.g. `$res` in
// `set_by_lua_block $res { ... }`) followed by one LAST argument holding the
// raw Lua source between the braces (without them, no escape processing), and
// luaLine set to the line of the opening `{` (where that source starts), so
// Lua chunk names can point at `nginx.conf:LINE`.
struct ConfNode {
  std::string name;
  std::vector<ConfArg> args;
  std::vector<ConfNode> children;
  bool block = false;
  std::shared_ptr<const std::string> file;  // path as opened (absolute)
  int line = 0;                             // line of the directive name
  int luaLine = 0;                          // *_by_lua_block: first line of code

  const std::string& arg(size_t i) const { return args.at(i).value; }
  // "FILE:LINE" for messages ("command line" for -g directives, as nginx).
  std::string where() const;
};

// A configuration error. The message is nginx's wording without the
// "in FILE:LINE" suffix; file/line are filled by whoever knows them.
class ConfError : public std::runtime_error {
 public:
  ConfError(std::string msg, std::string file = {}, int line = 0)
      : std::runtime_error(std::move(msg)), file_(std::move(file)), line_(line) {}
  // An error logged at `level` rather than [emerg] (init_by_lua errors are
  // [error] in lua-nginx-module).
  ConfError(core::Level level, std::string msg)
      : std::runtime_error(std::move(msg)), line_(0), level_(level) {}
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  core::Level level() const { return level_; }
  // "MSG in FILE:LINE" (or just MSG when the location is unknown), as nginx
  // prints it after "[emerg] ".
  std::string full() const;

 private:
  std::string file_;
  int line_;
  core::Level level_ = core::Level::kEmerg;
};

// Throws ConfError located at `node`.
[[noreturn]] void fail(const ConfNode& node, const std::string& msg);

}  // namespace lunet::conf
