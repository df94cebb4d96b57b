-- The magic keys of the ngx table (ngx.status, ngx.headers_sent,
-- ngx.is_subrequest; ngx.ctx in resty/core/ctx.lua) and ngx.req.is_internal,
-- over FFI. Other keys fall through to the ngx table's C metatable (ngx.arg).
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local type = type
local error = error
local rawget = rawget
local rawset = rawset
local tonumber = tonumber
local getmetatable = getmetatable
local setmetatable = setmetatable
local get_request = base.get_request
local new_tab = base.new_tab
local FFI_BAD_CONTEXT = base.FFI_BAD_CONTEXT

ffi.cdef [[
    int lunet_ffi_get_resp_status(ngx_http_request_t *r);
    int lunet_ffi_set_resp_status(ngx_http_request_t *r, int status);
    int lunet_ffi_is_subrequest(ngx_http_request_t *r);
    int lunet_ffi_headers_sent(ngx_http_request_t *r);
    int lunet_ffi_req_is_internal(ngx_http_request_t *r);
]]

local _M = new_tab(0, 3)

local getters = new_tab(0, 4)
local setters = new_tab(0, 2)

function _M.register_ngx_magic_key_getter(key, func)
    getters[key] = func
end

function _M.register_ngx_magic_key_setter(key, func)
    setters[key] = func
end

do
    local old_mt = getmetatable(ngx)
    local c_index = old_mt and old_mt.__index
    local mt = new_tab(0, 2)
    mt.__index = function (tb, key)
        local f = getters[key]
        if f then
            return f()
        end
        if c_index then
            return c_index(tb, key)
        end
        return rawget(tb, key)
    end
    mt.__newindex = function (tb, key, value)
        local f = setters[key]
        if f then
            return f(value)
        end
        return rawset(tb, key, value)
    end
    setmetatable(ngx, mt)
end

local function get_status()
    local r = get_request()
    if not r then
        error("no request found")
    end
    local rc = C.lunet_ffi_get_resp_status(r)
    if rc == FFI_BAD_CONTEXT then
        error("API disabled in the current context", 2)
    end
    return rc
end
_M.register_ngx_magic_key_getter("status", get_status)

local function set_status(status)
    local r = get_request()
    if not r then
        error("no request found")
    end
    if type(status) ~= "number" then
        status = tonumber(status)
    end
    local rc = C.lunet_ffi_set_resp_status(r, status)
    if rc == FFI_BAD_CONTEXT then
        error("API disabled in the current context", 2)
    end
end
_M.register_ngx_magic_key_setter("status", set_status)

local function is_subreq()
    local r = get_request()
    if not r then
        error("no request found")
    end
    local rc = C.lunet_ffi_is_subrequest(r)
    if rc == FFI_BAD_CONTEXT then
        error("API disabled in the current context", 2)
    end
    return rc == 1
end
_M.register_ngx_magic_key_getter("is_subrequest", is_subreq)

local function headers_sent()
    local r = get_request()
    if not r then
        error("no request found")
    end
    local rc = C.lunet_ffi_headers_sent(r)
    if rc == FFI_BAD_CONTEXT then
        error("API disabled in the current context", 2)
    end
    return rc == 1
end
_M.register_ngx_magic_key_getter("headers_sent", headers_sent)

function ngx.req.is_internal()
    local r = get_request()
    if not r then
        error("no request found")
    end
    local rc = C.lunet_ffi_req_is_internal(r)
    if rc == FFI_BAD_CONTEXT then
        error("API disabled in the current context")
    end
    return rc == 1
end

_M._VERSION = base.version

return _M
