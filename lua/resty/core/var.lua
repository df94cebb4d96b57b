-- ngx.var.NAME and ngx.var[N] (regex captures), get and set, over FFI.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_new = ffi.new
local ffi_str = ffi.string
local type = type
local error = error
local tostring = tostring
local setmetatable = setmetatable
local get_request = base.get_request
local new_tab = base.new_tab

ffi.cdef [[
    int lunet_ffi_var_get(ngx_http_request_t *r, const char *name,
        size_t len, int capture, const char **value, size_t *vlen,
        const char **err);
    int lunet_ffi_var_set(ngx_http_request_t *r, const char *name,
        size_t len, const char *value, size_t vlen, const char **err);
]]

local value_ptr = ffi_new("const char *[1]")
local value_len = ffi_new("size_t[1]")
local errmsg = ffi_new("const char *[1]")

local function var_get(self, name)
    local r = get_request()
    if not r then
        error("no request found")
    end
    local rc
    if type(name) == "number" then
        rc = C.lunet_ffi_var_get(r, nil, 0, name, value_ptr, value_len, errmsg)
    else
        if type(name) ~= "string" then
            error("bad variable name", 2)
        end
        rc = C.lunet_ffi_var_get(r, name, #name, 0, value_ptr, value_len,
                                 errmsg)
    end
    if rc == 0 then
        return ffi_str(value_ptr[0], value_len[0])
    end
    if rc == -5 then -- FFI_DECLINED: not found
        return nil
    end
    error(ffi_str(errmsg[0]), 2)
end

local function var_set(self, name, value)
    local r = get_request()
    if not r then
        error("no request found")
    end
    if type(name) ~= "string" then
        error("bad variable name", 2)
    end
    local rc
    if value == nil then
        rc = C.lunet_ffi_var_set(r, name, #name, nil, 0, errmsg)
    else
        if type(value) ~= "string" then
            value = tostring(value)
        end
        rc = C.lunet_ffi_var_set(r, name, #name, value, #value, errmsg)
    end
    if rc ~= 0 then
        error(ffi_str(errmsg[0]), 2)
    end
end

do
    local mt = new_tab(0, 2)
    mt.__index = var_get
    mt.__newindex = var_set
    ngx.var = setmetatable(new_tab(0, 0), mt)
end

return {
    version = base.version
}
