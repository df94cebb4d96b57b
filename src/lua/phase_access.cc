// access_by_lua*: an ACCESS phase handler.
#include "http/phases.h"
#include "lua/context.h"
#include "lua/module.h"
#include "lua/phases.h"

namespace lunet::lua {

namespace {

int handler(http::Request& r) { return runRewriteLikePhase(r, kAccess, &LuaLocConf::access); }

}  // namespace

void registerAccessPhase() { http::addPhaseHandler(http::Phase::kAccess, handler); }

}  // namespace lunet::lua
