// Shared by the files of the request's life (internal to src/http).
#pragma once

#include "http/core_module.h"
#include "http/filter.h"
#include "http/request.h"

namespace lunet::http {

// The tables (phase engine, filter tops) requests of this process run with.
HttpTables& activeTables() noexcept;
// Bottoms of the filter chains: header_filter.cc, subrequest.cc.
int headerFilterBottom(Request& r) noexcept;
int bodyFilterBottom(Request& r, Buf* in) noexcept;
// chunked_filter.cc: below the postpone step, above the write filter.
int chunkedFilter(Request& r, Buf* in);
// request.cc: runs ~Request and recycles it (an arena cleanup for subrequests).
void destroyRequest(void* r) noexcept;
// subrequest.cc: a subrequest's finalize.
void subrequestFinished(Request& sr, int rc);

}  // namespace lunet::http
