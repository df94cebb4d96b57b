-- ngx.req.get_headers through LuaJIT FFI.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_string = ffi.string
local new_tab = base.new_tab
local type = type
local error = error
local rawget = rawget
local setmetatable = setmetatable
local lower = string.lower
local gsub = string.gsub

ffi.cdef [[
typedef struct {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
} lunet_ffi_table_elt_t;

int lunet_ffi_req_get_headers_count(int max, int *truncated, const char **err);
int lunet_ffi_req_get_headers(lunet_ffi_table_elt_t *out, int count, int raw,
                              const char **err);
]]

local truncated = ffi.new("int[1]")
local errmsg = ffi.new("const char *[1]")
local elt_type = ffi.typeof("lunet_ffi_table_elt_t[?]")
local elts, elts_size

local norm_mt = {
    __index = function (t, k)
        if type(k) ~= "string" then
            return nil
        end
        local v = rawget(t, lower(k))
        if v ~= nil then
            return v
        end
        return rawget(t, (gsub(lower(k), "_", "-")))
    end
}

function ngx.req.get_headers(max_headers, raw)
    if max_headers == nil then
        max_headers = 100
    end
    local n = C.lunet_ffi_req_get_headers_count(max_headers, truncated, errmsg)
    if n < 0 then
        error(ffi_string(errmsg[0]), 2)
    end
    local t = new_tab(0, n)
    if n > 0 then
        if not elts or elts_size < n then
            elts_size = n < 64 and 64 or n
            elts = ffi.new(elt_type, elts_size)
        end
        n = C.lunet_ffi_req_get_headers(elts, n, raw and 1 or 0, errmsg)
        for i = 0, n - 1 do
            local h = elts[i]
            local k = ffi_string(h.key, h.key_len)
            local v = ffi_string(h.value, h.value_len)
            local old = rawget(t, k)
            if old == nil then
                t[k] = v
            elseif type(old) == "table" then
                old[#old + 1] = v
            else
                t[k] = { old, v }
            end
        end
    end
    if not raw then
        setmetatable(t, norm_mt)
    end
    if truncated[0] ~= 0 then
        return t, "truncated"
    end
    return t
end

return {
    version = base.version,
}
