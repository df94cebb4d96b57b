// Phase entries: one file per phase (phase_*.cc), registered by the lua
// module's postConfiguration when some location uses the phase.
#pragma once

#include <memory>
#include <string>

#include "http/request.h"
#include "lua/scheduler.h"

namespace lunet::lua {

class RequestCtx;

int contentHandler(http::Request& r);  // phase_content.cc (clcf->handler)
struct LuaHandler;
// set_by_lua*: appends h as an op of the rewrite script of the block being
// parsed (phase_set.cc).
void addSetOp(conf::Engine& e, LuaHandler* h);
void registerRewritePhase();  // phase_rewrite.cc
void registerAccessPhase();   // phase_access.cc
void registerHeaderFilter();  // phase_header_filter.cc
void registerBodyFilter();    // phase_body_filter.cc
void registerLogPhase();      // phase_log.cc

// rewrite_by_lua* and access_by_lua* (phase_common.cc): waits for the body
// when lua_need_request_body is on, then runs lc->*handler as a yieldable
// entry thread. Returns a phase-handler status.
struct LuaLocConf;
struct LuaHandler;
int runRewriteLikePhase(http::Request& r, uint32_t phase,
                        std::shared_ptr<LuaHandler> LuaLocConf::*handler);

// Worker lifecycle (phase_init_worker.cc, phase_exit_worker.cc).
void runInitWorker();
void runExitWorker();

// Debug builds: operator new calls so far, and the share of them made
// while Lua phase handlers ran (debug_alloc.cc).
uint64_t debugAllocCount() noexcept;
void debugAddPhaseAllocs(uint64_t n) noexcept;

// Logs "lua entry thread aborted: runtime error: ..." (or the compile
// error) for the request's log at [error].
void logThreadError(RequestCtx* ctx, const std::string& msg);
// Runs `h` to completion in phase `phase` (set, header/body filter, log):
// yields are not allowed there. Logs "failed to run <phase>: ..." on error.
// Returns the status; results stay on (*out)->state() until released.
RunStatus runSyncHandler(RequestCtx* ctx, uint32_t phase, struct LuaHandler& h, bool codeCache,
                         EntryThread** out);

}  // namespace lunet::lua
