-- ngx.exit over FFI: lunet_ffi_exit checks the context and records the
-- status; the thread then ends through the scheduler's exit (a yield).
local ffi = require "ffi"
local debug = require "debug"
local base = require "resty.core.base"

local C = ffi.C
local ffi_string = ffi.string
local error = error
local get_request = base.get_request
local exit_yield = debug.getregistry().lunet_exit_yield
local FFI_OK = base.FFI_OK

ffi.cdef [[
    int lunet_ffi_exit(ngx_http_request_t *r, int status, const char **err);
]]

local errmsg = ffi.new("const char *[1]")

function ngx.exit(rc)
    local r = get_request()
    if r == nil then
        error("no request found")
    end
    if C.lunet_ffi_exit(r, rc, errmsg) == FFI_OK then
        return exit_yield()
    end
    error(ffi_string(errmsg[0]), 2)
end

return {
    version = base.version
}
