// TEMPORARY (stage 1): request API families arrive with the HTTP layer.
#include "lua/api.h"

namespace lunet::lua {
void injectRequestApi(lua_State*) {}
void injectOutputApi(lua_State*) {}
void injectHeadersApi(lua_State*) {}
void injectVarApi(lua_State*) {}
void injectCtxApi(lua_State*) {}
}  // namespace lunet::lua
