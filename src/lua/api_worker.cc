// ngx.worker.* and ngx.get_phase().
#include <unistd.h>

#include "lua/api.h"
#include "lua/context.h"
#include "process/process.h"

namespace lunet::lua {

namespace {

int workerId(lua_State* L) {
  int id = process::workerId();
  if (id < 0) {
    lua_pushnil(L);
  } else {
    lua_pushinteger(L, id);
  }
  return 1;
}

int workerCount(lua_State* L) {
  process::Cycle* c = process::currentCycle();
  lua_Integer n = 1;
  if (c != nullptr && c->core().masterProcess != 0) n = c->core().workerProcesses;
  lua_pushinteger(L, n);
  return 1;
}

int workerPid(lua_State* L) {
  lua_pushinteger(L, ::getpid());
  return 1;
}

int workerExiting(lua_State* L) {
  lua_pushboolean(L, process::exiting());
  return 1;
}

int getPhase(lua_State* L) {
  lua_pushstring(L, phaseName(current().phase));
  return 1;
}

}  // namespace

void injectWorkerApi(lua_State* L) {
  lua_createtable(L, 0, 4);
  lua_pushcfunction(L, workerId);
  lua_setfield(L, -2, "id");
  lua_pushcfunction(L, workerCount);
  lua_setfield(L, -2, "count");
  lua_pushcfunction(L, workerPid);
  lua_setfield(L, -2, "pid");
  lua_pushcfunction(L, workerExiting);
  lua_setfield(L, -2, "exiting");
  lua_setfield(L, -2, "worker");
  lua_pushcfunction(L, getPhase);
  lua_setfield(L, -2, "get_phase");
}

}  // namespace lunet::lua
