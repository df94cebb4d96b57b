// The phase engine: nginx's request processing phases.
//
// Modules register handlers per phase from their postConfiguration hook with
// addPhaseHandler(); they run in module order within a phase. A handler
// returns:
//   kDeclined  — not mine / done here: run the next handler of the phase;
//   kOk        — this phase is done: jump to the next phase (in REWRITE/
//                ACCESS/PRECONTENT; in POST_READ/PREACCESS same as kDeclined);
//   kAgain     — suspended: a libuv handle is armed and its callback will
//                call http::resume(r) / http::resumeWith(r, rc) (see the
//                yield contract in request.h);
//   kDone      — the handler took over the request (it will finalize it);
//   kError / HTTP status — finalize the request with it.
// CONTENT: the location's content handler (HttpCoreLoc::handler, nginx's
// clcf->handler) runs if set; otherwise the CONTENT phase handlers (static,
// index, ...) in order. Its result goes to finalize() — kDone/kAgain means
// "I will call finalize(r, rc) myself".
// LOG handlers run when the request is freed; their return value is ignored.
#pragma once

#include "http/request.h"

namespace lunet::http {

enum class Phase : int {
  kPostRead = 0,
  kServerRewrite,
  kFindConfig,  // internal: location matching
  kRewrite,
  kPostRewrite,  // internal: re-match after a uri change
  kPreAccess,
  kAccess,
  kPostAccess,  // internal: satisfy
  kPreContent,  // try_files, mirror
  kContent,
  kLog,
  kCount
};

using PhaseHandler = int (*)(Request& r);
// A content handler (nginx clcf->handler); result goes to finalize().
using ContentHandler = int (*)(Request& r);

// Adds h to phase p (not kFindConfig/kPostRewrite/kPostAccess). Only during
// postConfiguration of the http{} block (the tables are rebuilt per cycle).
void addPhaseHandler(Phase p, PhaseHandler h);

// Starts processing a fully parsed request (from the connection code) or a
// freshly created subrequest / internal redirect.
void runPhases(Request& r) noexcept;

// The phase the request is currently in.
Phase currentPhase(const Request& r) noexcept;

}  // namespace lunet::http
