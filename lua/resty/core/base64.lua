-- ngx.encode_base64, decode_base64, decode_base64mime over FFI.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_string = ffi.string
local type = type
local error = error
local floor = math.floor
local tostring = tostring
local get_string_buf = base.get_string_buf
local get_size_ptr = base.get_size_ptr

ffi.cdef [[
    size_t lunet_ffi_encode_base64(const char *src, size_t len, char *dst,
                                   int no_padding);
    int lunet_ffi_decode_base64(const char *src, size_t len, char *dst,
                                size_t *dlen);
    int lunet_ffi_decode_base64mime(const char *src, size_t len, char *dst,
                                    size_t *dlen);
]]

local function encoded_length(len, no_padding)
    return no_padding and floor((len * 8 + 5) / 6) or floor((len + 2) / 3) * 4
end

function ngx.encode_base64(s, no_padding)
    if type(s) ~= "string" then
        if not s then
            s = ""
        else
            s = tostring(s)
        end
    end
    local pad = 0
    if no_padding then
        if no_padding ~= true then
            error("bad no_padding: boolean expected, got " .. type(no_padding), 2)
        end
        pad = 1
    end
    local slen = #s
    local dst = get_string_buf(encoded_length(slen, no_padding))
    local n = C.lunet_ffi_encode_base64(s, slen, dst, pad)
    return ffi_string(dst, n)
end

local function decoded_length(len)
    return floor((len + 3) / 4) * 3
end

function ngx.decode_base64(s)
    if type(s) ~= "string" then
        error("string argument only", 2)
    end
    local slen = #s
    local dst = get_string_buf(decoded_length(slen))
    local pdlen = get_size_ptr()
    if C.lunet_ffi_decode_base64(s, slen, dst, pdlen) == 0 then
        return nil
    end
    return ffi_string(dst, pdlen[0])
end

function ngx.decode_base64mime(s)
    if type(s) ~= "string" then
        error("string argument only", 2)
    end
    local slen = #s
    local dst = get_string_buf(decoded_length(slen))
    local pdlen = get_size_ptr()
    if C.lunet_ffi_decode_base64mime(s, slen, dst, pdlen) == 0 then
        return nil
    end
    return ffi_string(dst, pdlen[0])
end

return {
    version = base.version
}
