// Chunked transfer encoding of the main request's body (nginx's
// ngx_http_chunked_filter_module).
#include "http/connection.h"
#include "http/core_module.h"
#include "http/filter.h"
#include "http/phases.h"
#include "http/request_internal.h"

namespace lunet::http {

int chunkedFilter(Request& r, Buf* in) {
  if (!r.chunkedOut || r.headerOnly) {
    if (r.headerOnly) {
      // drop body bufs, keep specials
      for (Buf* b = in; b; b = b->next) {
        b->data = {};
        b->file = nullptr;
        b->fileLen = 0;
      }
    }
    return writeFilter(r, in);
  }
  Buf* head = nullptr;
  Buf** tail = &head;
  int64_t size = 0;
  bool last = false, flush = false;
  for (Buf* b = in; b; b = b->next) {
    size += b->size();
    last |= b->last;
    flush |= b->flush;
  }
  if (size > 0) {
    // The chunk-size line of every chunk: hex digits by hand, no printf.
    char* hdr = static_cast<char*>(r.arena.alloc(24, 1));
    int n = 0;
    for (int shift = 60; shift >= 0; shift -= 4) {
      unsigned d = static_cast<unsigned>(static_cast<uint64_t>(size) >> shift) & 0xf;
      if (d == 0 && n == 0 && shift != 0) continue;
      hdr[n++] = "0123456789abcdef"[d];
    }
    hdr[n++] = '\r';
    hdr[n++] = '\n';
    Buf* hb = newBuf(r, {hdr, static_cast<size_t>(n)});
    *tail = hb;
    tail = &hb->next;
    for (Buf* b = in; b;) {
      Buf* next = b->next;
      b->last = false;
      b->flush = false;
      if (b->size() > 0) {
        *tail = b;
        tail = &b->next;
      }
      b = next;
    }
    *tail = nullptr;
    Buf* tb = newBuf(r, last ? std::string_view("\r\n0\r\n\r\n") : std::string_view("\r\n"));
    tb->last = last;
    tb->flush = flush;
    *tail = tb;
  } else {
    Buf* tb = newBuf(r, last ? std::string_view("0\r\n\r\n") : std::string_view());
    tb->last = last;
    tb->flush = flush;
    head = tb;
  }
  return writeFilter(r, head);
}

}  // namespace lunet::http
