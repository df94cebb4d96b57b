-- ngx.md5, md5_bin, sha1_bin, crc32_short, crc32_long over FFI.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_new = ffi.new
local ffi_string = ffi.string
local type = type
local error = error
local tostring = tostring

ffi.cdef [[
    int lunet_ffi_md5(const char *src, size_t len, char *dst);
    int lunet_ffi_md5_bin(const char *src, size_t len, unsigned char *dst);
    int lunet_ffi_sha1_bin(const char *src, size_t len, unsigned char *dst);
    unsigned int lunet_ffi_crc32(const char *src, size_t len);
]]

local md5_buf = ffi_new("unsigned char[?]", 16)
local md5_hex_buf = ffi_new("char[?]", 32)
local sha_buf = ffi_new("unsigned char[?]", 20)

local function str(s)
    if type(s) ~= "string" then
        if not s then
            return ""
        end
        return tostring(s)
    end
    return s
end

function ngx.md5_bin(s)
    s = str(s)
    if C.lunet_ffi_md5_bin(s, #s, md5_buf) == 0 then
        error("MD5 digest failed")
    end
    return ffi_string(md5_buf, 16)
end

function ngx.md5(s)
    s = str(s)
    if C.lunet_ffi_md5(s, #s, md5_hex_buf) == 0 then
        error("MD5 digest failed")
    end
    return ffi_string(md5_hex_buf, 32)
end

function ngx.sha1_bin(s)
    s = str(s)
    if C.lunet_ffi_sha1_bin(s, #s, sha_buf) == 0 then
        error("SHA-1 support missing in Nginx")
    end
    return ffi_string(sha_buf, 20)
end

function ngx.crc32_short(s)
    s = str(s)
    return C.lunet_ffi_crc32(s, #s)
end

function ngx.crc32_long(s)
    s = str(s)
    return C.lunet_ffi_crc32(s, #s)
end

return {
    version = base.version
}
