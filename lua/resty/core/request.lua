-- ngx.req.get_method, set_method, get_uri_args, get_headers, set_header,
-- clear_header and start_time over FFI (is_internal: resty/core/misc.lua).
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_cast = ffi.cast
local ffi_new = ffi.new
local ffi_str = ffi.string
local type = type
local error = error
local tostring = tostring
local tonumber = tonumber
local rawget = rawget
local setmetatable = setmetatable
local lower = string.lower
local gsub = string.gsub
local band = require("bit").band
local new_tab = base.new_tab
local clear_tab = base.clear_tab
local get_request = base.get_request
local get_string_buf = base.get_string_buf
local get_size_ptr = base.get_size_ptr
local FFI_OK = base.FFI_OK
local FFI_BAD_CONTEXT = base.FFI_BAD_CONTEXT
local FFI_DECLINED = base.FFI_DECLINED

ffi.cdef [[
    int lunet_ffi_req_get_method(ngx_http_request_t *r);
    int lunet_ffi_req_get_method_name(ngx_http_request_t *r,
        const char **name, size_t *len);
    int lunet_ffi_req_set_method(ngx_http_request_t *r, int method);
    double lunet_ffi_req_start_time(ngx_http_request_t *r);
    int lunet_ffi_req_get_uri_args_count(ngx_http_request_t *r, int max,
        int *truncated);
    size_t lunet_ffi_req_get_querystring_len(ngx_http_request_t *r);
    int lunet_ffi_req_get_uri_args(ngx_http_request_t *r, char *buf,
        lunet_ffi_table_elt_t *out, int count);
    int lunet_ffi_req_get_headers_count(ngx_http_request_t *r, int max,
        int *truncated, size_t *names_len);
    int lunet_ffi_req_get_headers(ngx_http_request_t *r,
        lunet_ffi_table_elt_t *out, int count, int raw, char *lowbuf);
    int lunet_ffi_req_set_header(ngx_http_request_t *r, const char *name,
        size_t nlen, const char *value, size_t vlen,
        const lunet_ffi_str_t *mvals, size_t mlen, const char **err);
]]

local _M = {
    version = base.version
}

local errmsg = ffi_new("const char *[1]")
local truncated = ffi_new("int[1]")
local elt_ptr_type = ffi.typeof("lunet_ffi_table_elt_t *")
local elt_size = ffi.sizeof("lunet_ffi_table_elt_t")
local str_ptr_type = ffi.typeof("lunet_ffi_str_t *")
local str_size = ffi.sizeof("lunet_ffi_str_t")

function ngx.req.start_time()
    local r = get_request()
    if not r then
        error("no request found")
    end
    return tonumber(C.lunet_ffi_req_start_time(r))
end

do
    -- by the bit number of Lunet's http::Method (src/http/request.h)
    local methods = {
        [1] = "GET",
        [2] = "HEAD",
        [3] = "POST",
        [4] = "PUT",
        [5] = "DELETE",
        [6] = "OPTIONS",
        [7] = "PATCH",
        [8] = "TRACE",
    }
    local namep = ffi_new("const char *[1]")

    -- RunCtx.method holds the running request's method bit (a load, not a
    -- call); get_request() still decides "no request found".
    local run_ctx = base.run_ctx

    function ngx.req.get_method()
        local r = get_request()
        if not r then
            error("no request found")
        end
        local id = run_ctx.method
        if id == FFI_BAD_CONTEXT then
            error("API disabled in the current context", 2)
        end
        local method = methods[id]
        if method then
            return method
        end
        local sizep = get_size_ptr()
        if C.lunet_ffi_req_get_method_name(r, namep, sizep) ~= 0 then
            return nil
        end
        return ffi_str(namep[0], sizep[0])
    end
end

function ngx.req.set_method(method)
    local r = get_request()
    if not r then
        error("no request found")
    end
    if type(method) ~= "number" then
        error("bad method number", 2)
    end
    local rc = C.lunet_ffi_req_set_method(r, method)
    if rc == FFI_OK then
        return
    end
    if rc == FFI_BAD_CONTEXT then
        error("API disabled in the current context", 2)
    end
    if rc == FFI_DECLINED then
        error("unsupported HTTP method: " .. method, 2)
    end
    error("unknown error: " .. rc)
end

local function add_value(t, k, v)
    local old = t[k]
    if old == nil then
        t[k] = v
    elseif type(old) == "table" then
        old[#old + 1] = v
    else
        t[k] = { old, v }
    end
end

function ngx.req.get_uri_args(max_args, tab)
    local r = get_request()
    if not r then
        error("no request found")
    end
    if not max_args then
        max_args = -1
    end
    if tab then
        clear_tab(tab)
    end
    local n = C.lunet_ffi_req_get_uri_args_count(r, max_args, truncated)
    if n == FFI_BAD_CONTEXT then
        error("API disabled in the current context", 2)
    end
    if n == 0 then
        return tab or {}
    end
    local qlen = tonumber(C.lunet_ffi_req_get_querystring_len(r))
    -- the decoded strings first, then the (aligned) array of elements
    local kv_off = band(qlen + 7, -8)
    local buf = get_string_buf(kv_off + n * elt_size)
    local kv = ffi_cast(elt_ptr_type, buf + kv_off)
    local nargs = C.lunet_ffi_req_get_uri_args(r, buf, kv, n)
    local args = tab or new_tab(0, nargs)
    for i = 0, nargs - 1 do
        local e = kv[i]
        local key = ffi_str(e.key.data, e.key.len)
        local value
        if e.value.data == nil then
            value = true
        else
            value = ffi_str(e.value.data, e.value.len)
        end
        add_value(args, key, value)
    end
    if truncated[0] ~= 0 then
        return args, "truncated"
    end
    return args
end

local req_headers_mt = {
    __index = function (t, k)
        if type(k) ~= "string" then
            return nil
        end
        return rawget(t, (gsub(lower(k), "_", "-")))
    end
}

function ngx.req.get_headers(max_headers, raw)
    local r = get_request()
    if not r then
        error("no request found")
    end
    if not max_headers then
        max_headers = -1
    end
    raw = raw and 1 or 0
    local names_len = get_size_ptr()
    local n = C.lunet_ffi_req_get_headers_count(r, max_headers, truncated,
                                                names_len)
    if n == FFI_BAD_CONTEXT then
        error("API disabled in the current context", 2)
    end
    if n == 0 then
        local headers = {}
        if raw == 0 then
            headers = setmetatable(headers, req_headers_mt)
        end
        return headers
    end
    local raw_buf = get_string_buf(n * elt_size + tonumber(names_len[0]))
    local buf = ffi_cast(elt_ptr_type, raw_buf)
    n = C.lunet_ffi_req_get_headers(r, buf, n, raw, raw_buf + n * elt_size)
    local headers = new_tab(0, n)
    for i = 0, n - 1 do
        local h = buf[i]
        add_value(headers, ffi_str(h.key.data, h.key.len),
                  ffi_str(h.value.data, h.value.len))
    end
    if raw == 0 then
        headers = setmetatable(headers, req_headers_mt)
    end
    if truncated[0] ~= 0 then
        return headers, "truncated"
    end
    return headers
end

local function set_req_header(name, value, override)
    local r = get_request()
    if not r then
        error("no request found", 3)
    end
    if name == nil then
        error("bad 'name' argument: string expected, got nil", 3)
    end
    if type(name) ~= "string" then
        name = tostring(name)
    end
    local rc
    if value == nil then
        if not override then
            error("bad 'value' argument: string or table expected, got nil", 3)
        end
        rc = C.lunet_ffi_req_set_header(r, name, #name, nil, 0, nil, 0, errmsg)
    elseif type(value) == "table" then
        local n = #value
        if n == 0 and not override then
            error("bad 'value' argument: non-empty table expected", 3)
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
        rc = C.lunet_ffi_req_set_header(r, name, #name, nil, 0, mvals, n, errmsg)
    else
        if type(value) ~= "string" then
            value = tostring(value)
        end
        rc = C.lunet_ffi_req_set_header(r, name, #name, value, #value, nil, 0,
                                        errmsg)
    end
    if rc == FFI_OK or rc == FFI_DECLINED then
        return
    end
    if rc == FFI_BAD_CONTEXT then
        error("API disabled in the current context", 3)
    end
    error(ffi_str(errmsg[0]))
end
_M.set_req_header = set_req_header

function ngx.req.set_header(name, value)
    set_req_header(name, value, true)
end

function ngx.req.clear_header(name)
    local r = get_request()
    if not r then
        error("no request found")
    end
    if type(name) ~= "string" then
        name = tostring(name)
    end
    local rc = C.lunet_ffi_req_set_header(r, name, #name, nil, 0, nil, 0, errmsg)
    if rc == FFI_OK or rc == FFI_DECLINED then
        return
    end
    if rc == FFI_BAD_CONTEXT then
        error("API disabled in the current context", 2)
    end
    error(ffi_str(errmsg[0]))
end

return _M
