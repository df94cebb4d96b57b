-- ngx.errlog: raw_log over FFI. The error-log capture API
-- (lua_capture_error_log: set_filter_level, get_logs) is not in Lunet yet and
-- says so.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local type = type
local error = error
local get_request = base.get_request
local FFI_ERROR = base.FFI_ERROR

ffi.cdef [[
    int lunet_ffi_raw_log(ngx_http_request_t *r, int level, const char *s,
                          size_t len);
]]

local _M = { version = base.version }

function _M.raw_log(level, msg)
    if type(level) ~= "number" then
        error("bad argument #1 to 'raw_log' (must be a number)", 2)
    end
    if type(msg) ~= "string" then
        error("bad argument #2 to 'raw_log' (must be a string)", 2)
    end
    local r = get_request()
    if C.lunet_ffi_raw_log(r, level, msg, #msg) == FFI_ERROR then
        error("bad log level", 2)
    end
end

local function not_yet(name)
    return function ()
        error("ngx.errlog." .. name .. " is not yet implemented in Lunet", 2)
    end
end

_M.set_filter_level = not_yet("set_filter_level")
_M.get_logs = not_yet("get_logs")
_M.get_sys_filter_level = not_yet("get_sys_filter_level")

return _M
