#include "conf/ast.h"

namespace lunet::conf {

namespace {

// nginx's name for directives given with -g; it has no line numbers.
constexpr const char* kCommandLine = "command line";

std::string location(const std::string& file, int line) {
  if (file == kCommandLine || line <= 0) return file;
  return file + ":" + std::to_string(line);
}

}  // namespace

std::string ConfNode::where() const { return location(file ? *file : std::string(), line); }

std::string ConfError::full() const {
  if (file_.empty()) return what();
  return std::string(what()) + " in " + location(file_, line_);
}

void fail(const ConfNode& node, const std::string& msg) {
  throw ConfError(msg, node.file ? *node.file : std::string(), node.line);
}

}  // namespace lunet::conf
