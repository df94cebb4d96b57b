// libFuzzer entry for the configuration lexer and parser (built with
// -DLUNET_FUZZ=ON and clang). Any input must either parse or throw ConfError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "conf/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  lunet::conf::ParseOptions opts;
  // `include /dev/stdin;` and friends would make runs block or depend on the
  // machine; the include path is covered by unit tests.
  opts.expandIncludes = false;
  try {
    std::vector<lunet::conf::ConfNode> nodes = lunet::conf::parseString(text, "fuzz.conf", opts);
    for (const auto& n : nodes) (void)n.where();
  } catch (const lunet::conf::ConfError& e) {
    (void)e.full();
  }
  // The -g wording path.
  try {
    lunet::conf::parseString(text, "command line", opts);
  } catch (const lunet::conf::ConfError& e) {
    (void)e.full();
  }
  return 0;
}
