-- ngx.var.NAME through LuaJIT FFI (the C __index/__newindex stay as the
-- fallback for captures, ngx.var[N]).
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_string = ffi.string
local type = type
local error = error
local tostring = tostring

ffi.cdef [[
int lunet_ffi_var_get(const char *name, size_t len, const char **value,
                      size_t *vlen, const char **err);
int lunet_ffi_var_set(const char *name, size_t len, const char *value,
                      size_t vlen, int is_nil, const char **err);
]]

local value_ptr = ffi.new("const char *[1]")
local value_len = ffi.new("size_t[1]")
local errmsg = ffi.new("const char *[1]")

local FFI_OK = base.FFI_OK
local FFI_DECLINED = base.FFI_DECLINED

local mt = getmetatable(ngx.var)
local c_index = mt.__index
local c_newindex = mt.__newindex

local function var_get(self, name)
    if type(name) ~= "string" then
        return c_index(self, name)
    end
    local rc = C.lunet_ffi_var_get(name, #name, value_ptr, value_len, errmsg)
    if rc == FFI_OK then
        return ffi_string(value_ptr[0], value_len[0])
    end
    if rc == FFI_DECLINED then
        return nil
    end
    error(ffi_string(errmsg[0]), 2)
end

local function var_set(self, name, value)
    if type(name) ~= "string" then
        return c_newindex(self, name, value)
    end
    local rc
    if value == nil then
        rc = C.lunet_ffi_var_set(name, #name, nil, 0, 1, errmsg)
    else
        local tv = type(value)
        if tv ~= "string" then
            if tv ~= "number" then
                error("bad variable value type: " .. tv, 2)
            end
            value = tostring(value)
        end
        rc = C.lunet_ffi_var_set(name, #name, value, #value, 0, errmsg)
    end
    if rc ~= FFI_OK then
        error(ffi_string(errmsg[0]), 2)
    end
end

mt.__index = var_get
mt.__newindex = var_set

return {
    version = base.version,
}
