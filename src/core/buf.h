// Output buffers: one piece of output is memory or a file region; a chain
// is a singly linked list of them (nginx's ngx_buf_t / ngx_chain_t). The
// HTTP filters pass chains down; the stream writer (net/chain_writer.h)
// sends them.
#pragma once

#include <cstdint>
#include <string_view>

namespace lunet::core {

// A file shared by the file bufs that point into it (closed by its owner).
struct FileRef {
  int fd = -1;
  int64_t size = 0;
};

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

}  // namespace lunet::core
