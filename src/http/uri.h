// Request-target parsing and URI normalisation, exactly as nginx does it:
// %XX decoding (a decoded '/' or '.' takes part in the path structure),
// "." and ".." resolution (a ".." above the root is an error), optional
// merging of repeated slashes. Pure functions, unit-tested.
#pragma once

#include <string_view>

#include "core/arena.h"

namespace lunet::http {

struct ParsedTarget {
  std::string_view host;  // from an absolute-form target ("http://h/x"), else empty
  std::string_view path;  // raw path (before '?', without '#...')
  std::string_view args;  // raw query (without '?'), empty if none
  bool hasArgs = false;
};

// Splits a raw request target. Returns false for a target nginx rejects (400).
bool parseTarget(std::string_view target, ParsedTarget* out) noexcept;

// Decodes and normalises a raw path into `out` (capacity >= raw.size()).
// Returns the normalised length, or -1 for a bad request (bad %XX, %00,
// a ".." above the root, not starting with '/').
long normalizePath(std::string_view raw, char* out, bool mergeSlashes) noexcept;

// Unescapes %XX in a string (for $arg_ values etc. — no path logic).
size_t unescape(std::string_view in, char* out, bool plusAsSpace) noexcept;

// Escapes for a Location header / redirect (spaces, controls, %, ?, #...).
std::string_view escapeUri(core::Arena& a, std::string_view in) noexcept;

}  // namespace lunet::http
