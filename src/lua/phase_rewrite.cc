// rewrite_by_lua*: a REWRITE phase handler.
#include "http/phases.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"

namespace lunet::lua {

namespace {

int handler(http::Request& r) { return runRewriteLikePhase(r, kRewrite, &LuaLocConf::rewrite); }

}  // namespace

void registerRewritePhase() { http::addPhaseHandler(http::Phase::kRewrite, handler); }

}  // namespace lunet::lua
