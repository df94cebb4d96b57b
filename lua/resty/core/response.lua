-- ngx.header.NAME get and set over FFI.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_cast = ffi.cast
local ffi_str = ffi.string
local type = type
local error = error
local tostring = tostring
local setmetatable = setmetatable
local new_tab = base.new_tab
local get_request = base.get_request
local get_string_buf = base.get_string_buf
local FFI_BAD_CONTEXT = base.FFI_BAD_CONTEXT
local FFI_NO_REQ_CTX = base.FFI_NO_REQ_CTX
local FFI_DECLINED = base.FFI_DECLINED

ffi.cdef [[
    int lunet_ffi_get_resp_header(ngx_http_request_t *r, const char *key,
        size_t len, lunet_ffi_str_t *values, int max, const char **err);
    int lunet_ffi_set_resp_header(ngx_http_request_t *r, const char *key,
        size_t len, int is_nil, const char *sval, size_t slen,
        const lunet_ffi_str_t *mvals, size_t mlen, int override,
        const char **err);
]]

local _M = {
    version = base.version
}

local MAX_HEADER_VALUES = 100
local errmsg = ffi.new("const char *[1]")
local str_ptr_type = ffi.typeof("lunet_ffi_str_t *")
local str_size = ffi.sizeof("lunet_ffi_str_t")
local values = ffi.new("lunet_ffi_str_t[?]", MAX_HEADER_VALUES)

local function set_resp_header(tb, key, value, no_override)
    local r = get_request()
    if not r then
        error("no request found")
    end
    if type(key) ~= "string" then
        key = tostring(key)
    end
    local rc
    if value == nil then
        if no_override then
            error("invalid header value", 3)
        end
        rc = C.lunet_ffi_set_resp_header(r, key, #key, 1, nil, 0, nil, 0, 1,
                                         errmsg)
    else
        local override = no_override and 0 or 1
        if type(value) == "table" then
            local n = #value
            if n == 0 and no_override then
                return
            end
            local mvals = ffi_cast(str_ptr_type, get_string_buf(str_size * n))
            for i = 1, n do
                local s = value[i]
                if type(s) ~= "string" then
                    s = tostring(s)
                    value[i] = s
                end
                local m = mvals[i - 1]
                m.data = s
                m.len = #s
            end
            rc = C.lunet_ffi_set_resp_header(r, key, #key, 0, nil, 0, mvals, n,
                                             override, errmsg)
        else
            if type(value) ~= "string" then
                value = tostring(value)
            end
            rc = C.lunet_ffi_set_resp_header(r, key, #key, 0, value, #value,
                                             nil, 0, override, errmsg)
        end
    end
    if rc == 0 or rc == FFI_DECLINED then
        return
    end
    if rc == FFI_NO_REQ_CTX then
        error("no request ctx found")
    end
    if rc == FFI_BAD_CONTEXT then
        error("API disabled in the current context", 2)
    end
    error(ffi_str(errmsg[0]), 2)
end
_M.set_resp_header = set_resp_header

local function get_resp_header(tb, key)
    local r = get_request()
    if not r then
        error("no request found")
    end
    if type(key) ~= "string" then
        key = tostring(key)
    end
    local n = C.lunet_ffi_get_resp_header(r, key, #key, values,
                                          MAX_HEADER_VALUES, errmsg)
    if n == FFI_BAD_CONTEXT then
        error("API disabled in the current context", 2)
    end
    if n == 0 then
        return nil
    end
    if n == 1 then
        local v = values[0]
        return ffi_str(v.data, v.len)
    end
    if n > 0 then
        local ret = new_tab(n, 0)
        for i = 1, n do
            local v = values[i - 1]
            ret[i] = ffi_str(v.data, v.len)
        end
        return ret
    end
    error(ffi_str(errmsg[0]), 2)
end

do
    local mt = new_tab(0, 2)
    mt.__newindex = set_resp_header
    mt.__index = get_resp_header
    ngx.header = setmetatable(new_tab(0, 0), mt)
end

return _M
