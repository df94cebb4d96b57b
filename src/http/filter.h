// Output filters: the response header goes through the header filter chain,
// body data through the body filter chain — a singly linked list of Bufs.
//
// Filters are chained as in nginx: a module installs itself on top in its
// postConfiguration and keeps the previous top to call next:
//
//   static HeaderFilter gNextHeader;
//   void postConf(Engine&) { gNextHeader = pushHeaderFilter(myHeaderFilter); }
//   int myHeaderFilter(Request& r) { ...; return gNextHeader(r); }
//
// The bottom of the header chain serialises the status line and headers;
// the bottom of the body chain queues bufs for writing (uv_write with many
// bufs; files with uv_fs_sendfile). Filters may rewrite the chain (Lua's
// body_filter replaces ngx.arg[1]) and must pass `last`/`flush` on.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/request.h"

namespace lunet::http {

// A file shared by the file bufs that point into it (closed with the arena).
struct FileRef {
  int fd = -1;
  int64_t size = 0;
};

// One piece of output: memory (`data`) or a file region (`file`).
struct Buf {
  std::string_view data;
  FileRef* file = nullptr;
  int64_t fileOffset = 0;
  int64_t fileLen = 0;
  bool flush = false;        // send everything queued now (ngx.flush)
  bool last = false;         // last buf of the response body (of the main request)
  bool lastInChain = false;  // last buf of a subrequest's body
  Buf* next = nullptr;

  int64_t size() const { return file ? fileLen : static_cast<int64_t>(data.size()); }
  bool special() const { return size() == 0; }
};

// Allocates a memory buf in r's arena referencing `data` (not copied).
Buf* newBuf(Request& r, std::string_view data) noexcept;
// As newBuf, copying data into the arena.
Buf* newBufCopy(Request& r, std::string_view data) noexcept;

using HeaderFilter = int (*)(Request& r);
using BodyFilter = int (*)(Request& r, Buf* in);

// Installs f as the new top; returns the previous top (call it as "next").
HeaderFilter pushHeaderFilter(HeaderFilter f);
BodyFilter pushBodyFilter(BodyFilter f);
HeaderFilter topHeaderFilter();
BodyFilter topBodyFilter();

}  // namespace lunet::http
