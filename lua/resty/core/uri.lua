-- ngx.escape_uri / ngx.unescape_uri over FFI.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_string = ffi.string
local type = type
local error = error
local tostring = tostring
local get_string_buf = base.get_string_buf

ffi.cdef [[
    size_t lunet_ffi_uri_escaped_length(const char *src, size_t len, int type);
    void lunet_ffi_escape_uri(const char *src, size_t len, char *dst, int type);
    size_t lunet_ffi_unescape_uri(const char *src, size_t len, char *dst);
]]

local ESCAPE_URI = 0
local ESCAPE_URI_COMPONENT = 2
local ESCAPE_MAIL_AUTH = 6

function ngx.escape_uri(s, esc_type)
    if type(s) ~= "string" then
        if not s then
            s = ""
        else
            s = tostring(s)
        end
    end
    if esc_type == nil then
        esc_type = ESCAPE_URI_COMPONENT
    else
        if type(esc_type) ~= "number" then
            error("\"type\" is not a number", 3)
        end
        if esc_type < ESCAPE_URI or esc_type > ESCAPE_MAIL_AUTH then
            error("\"type\" " .. esc_type .. " out of range", 3)
        end
    end
    local slen = #s
    local dlen = C.lunet_ffi_uri_escaped_length(s, slen, esc_type)
    if dlen == slen then
        return s
    end
    local dst = get_string_buf(dlen)
    C.lunet_ffi_escape_uri(s, slen, dst, esc_type)
    return ffi_string(dst, dlen)
end

function ngx.unescape_uri(s)
    if type(s) ~= "string" then
        if not s then
            s = ""
        else
            s = tostring(s)
        end
    end
    local slen = #s
    local dst = get_string_buf(slen)
    local dlen = C.lunet_ffi_unescape_uri(s, slen, dst)
    return ffi_string(dst, dlen)
end

return {
    version = base.version,
}
