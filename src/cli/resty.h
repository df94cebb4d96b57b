// The `resty` command (resty-cli's options): runs Lua code in a one-process
// Lunet server with no listeners. See docs/resty.md.
#pragma once

namespace lunet::resty {

// Entry point when the binary runs as `resty` (argv[0]'s base name).
int main(int argc, char** argv);

}  // namespace lunet::resty
