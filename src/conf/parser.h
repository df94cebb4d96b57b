// nginx configuration text -> ConfNode tree.
#pragma once

#include <string>
#include <vector>

#include "conf/ast.h"

namespace lunet::conf {

struct ParseOptions {
  // Directory that relative `include` paths are resolved against (nginx: the
  // directory of the main config file, i.e. the "conf prefix").
  std::string confPrefix;
  // When false, `include` directives are kept as ordinary nodes instead of
  // being expanded (tools that must not touch the file system, the fuzzer).
  bool expandIncludes = true;
};

// Parses the file at `path` (already absolute). `include` directives are
// expanded in place (globs sorted; a glob matching nothing is not an error; a
// plain path that does not exist is). Throws ConfError with nginx's wording and
// the FILE:LINE of the offending token.
std::vector<ConfNode> parseFile(const std::string& path, const ParseOptions& opts);

// Parses config text held in memory; `name` is used as the file name in
// messages and chunk names. Used for `-g` directives ("command line") and by
// embedders that pass config as text.
std::vector<ConfNode> parseString(const std::string& text, const std::string& name,
                                  const ParseOptions& opts);

}  // namespace lunet::conf
