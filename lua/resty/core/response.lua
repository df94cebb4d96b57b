-- ngx.header.NAME = "value" through LuaJIT FFI for single values; tables,
-- booleans and reads go to the C implementation.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_string = ffi.string
local type = type
local error = error
local tostring = tostring

ffi.cdef [[
int lunet_ffi_header_set(const char *name, size_t len, const char *value,
                         size_t vlen, int is_nil, const char **err);
]]

local errmsg = ffi.new("const char *[1]")
local FFI_OK = base.FFI_OK

local mt = getmetatable(ngx.header)
local c_newindex = mt.__newindex

mt.__newindex = function (self, name, value)
    local tv = type(value)
    if type(name) ~= "string" or (tv ~= "string" and tv ~= "number" and tv ~= "nil") then
        return c_newindex(self, name, value)
    end
    local rc
    if value == nil then
        rc = C.lunet_ffi_header_set(name, #name, nil, 0, 1, errmsg)
    else
        if tv == "number" then
            value = tostring(value)
        end
        rc = C.lunet_ffi_header_set(name, #name, value, #value, 0, errmsg)
    end
    if rc ~= FFI_OK then
        error(ffi_string(errmsg[0]), 2)
    end
end

return {
    version = base.version,
}
