// ngx.var.NAME (read any variable, write `set`-able ones) and ngx.var[N]
// (regex captures).
#include <cstring>
#include <string>

#include "http/variables.h"
#include "lua/api.h"
#include "lua/context.h"
#include "lua/request_ctx.h"

namespace lunet::lua {

namespace {

// lua-nginx-module's wording for a variable that cannot be written.
const char* varSetError(http::Request& r, std::string_view name, http::SetVarResult res) {
  std::string msg = "variable \"";
  msg.append(name);
  if (res == http::SetVarResult::kNotChangeable) {
    msg += "\" not changeable";
  } else {
    msg +=
        "\" not found for writing; maybe it is a built-in variable that is not changeable or "
        "you forgot to use \"set $";
    msg.append(name);
    msg += " '';\" in the config file to define it first";
  }
  return r.arena.dup(msg, true).data();
}

}  // namespace

// ---- FFI (lua/resty/core/var.lua) ----

// ngx.var.NAME (name != null) or ngx.var[capture]. kFfiDeclined: not found.
extern "C" int lunet_ffi_var_get(void* r, const char* name, size_t len, int capture,
                                 const char** value, size_t* vlen, const char** err) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) {
    *err = "API disabled in the current context";
    return kFfiBadContext;
  }
  http::Request& req = *ctx->r;
  if (name == nullptr) {
    if (capture < 0 || req.captures == nullptr || capture >= req.ncaptures) return kFfiDeclined;
    int from = req.captures[2 * capture], to = req.captures[2 * capture + 1];
    if (from < 0 || to < from) return kFfiDeclined;
    *value = req.captureSubject.data() + from;
    *vlen = static_cast<size_t>(to - from);
    return kFfiOk;
  }
  // (getVariable lowercases the name itself)
  http::VarValue v = http::getVariable(req, {name, len});
  if (v.notFound) return kFfiDeclined;
  *value = v.data.data();
  *vlen = v.data.size();
  return kFfiOk;
}

// value == null: nil.
extern "C" int lunet_ffi_var_set(void* r, const char* name, size_t len, const char* value,
                                 size_t vlen, const char** err) noexcept {
  RequestCtx* ctx = ffiRequest(r);
  if (ctx == nullptr) {
    *err = "API disabled in the current context";
    return kFfiBadContext;
  }
  http::Request& req = *ctx->r;
  // trySetVariable lowercases the name and copies the value into the arena
  std::string_view v = value == nullptr ? std::string_view() : std::string_view(value, vlen);
  http::SetVarResult res = http::trySetVariable(req, {name, len}, v);
  if (res == http::SetVarResult::kOk) return kFfiOk;
  *err = varSetError(req, {name, len}, res);
  return kFfiError;
}

}  // namespace lunet::lua
