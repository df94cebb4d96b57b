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
// the bottom of the body chain queues bufs for the connection's writer
// (net/chain_writer.h: writev of many bufs, files with sendfile or pread). Filters may rewrite the
// chain (Lua's body_filter replaces ngx.arg[1]) and must pass `last`/`flush` on.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/buf.h"
#include "http/request.h"

namespace lunet::http {

// Bufs and file references are the core's (core/buf.h): the stream writer
// below HTTP sends the same chains.
using core::Buf;
using core::FileRef;

// Allocates a memory buf in r's arena referencing `data` (not copied).
Buf* newBuf(Request& r, std::string_view data) noexcept;
// As newBuf, copying data into the arena.
Buf* newBufCopy(Request& r, std::string_view data) noexcept;

using HeaderFilter = int (*)(Request& r);
using BodyFilter = int (*)(Request& r, Buf* in);

// Installs f as the new top; returns the previous top (call it as "next").
HeaderFilter pushHeaderFilter(HeaderFilter f);
BodyFilter pushBodyFilter(BodyFilter f);
// Installs f on top of the main request's body chain below postponement
// (nginx's filters under ngx_http_postpone_filter: gzip, gunzip...): it
// sees the main request's body in order, subrequest output included, and
// is called with a null chain when the output queue drained while
// r.main->buffered is set. Returns the next filter.
BodyFilter pushMainBodyFilter(BodyFilter f);
HeaderFilter topHeaderFilter();
BodyFilter topBodyFilter();

}  // namespace lunet::http
