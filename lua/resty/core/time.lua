-- ngx.now, time, update_time, today, localtime, utctime, http_time,
-- cookie_time, parse_http_time, and monotonic_msec/monotonic_time, over FFI.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_str = ffi.string
local error = error
local tonumber = tonumber
local type = type
local get_string_buf = base.get_string_buf
local FFI_ERROR = base.FFI_ERROR

ffi.cdef [[
    typedef struct {
        uint64_t  msec;
        int64_t   sec;
        double    now;
        double    time;
    } lunet_ffi_clock_t;
    const lunet_ffi_clock_t *lunet_ffi_clock(void);
    long lunet_ffi_monotonic_msec(void);
    void lunet_ffi_update_time(void);
    void lunet_ffi_today(char *buf);
    void lunet_ffi_localtime(char *buf);
    void lunet_ffi_utctime(char *buf);
    int lunet_ffi_http_time(char *buf, long t);
    int lunet_ffi_cookie_time(char *buf, long t);
    long lunet_ffi_parse_http_time(const char *s, size_t len);
]]

-- the loop refreshes this struct once per iteration (and ngx.update_time)
local clock = C.lunet_ffi_clock()

function ngx.now()
    return clock.now
end

function ngx.time()
    return clock.time
end

local function monotonic_msec()
    return tonumber(C.lunet_ffi_monotonic_msec())
end

local function monotonic_time()
    return tonumber(C.lunet_ffi_monotonic_msec()) / 1000
end

function ngx.update_time()
    C.lunet_ffi_update_time()
end

function ngx.today()
    local buf = get_string_buf(10)
    C.lunet_ffi_today(buf)
    return ffi_str(buf, 10)
end

function ngx.localtime()
    local buf = get_string_buf(19)
    C.lunet_ffi_localtime(buf)
    return ffi_str(buf, 19)
end

function ngx.utctime()
    local buf = get_string_buf(19)
    C.lunet_ffi_utctime(buf)
    return ffi_str(buf, 19)
end

function ngx.cookie_time(sec)
    if type(sec) ~= "number" then
        error("number argument only", 2)
    end
    local buf = get_string_buf(64)
    local n = C.lunet_ffi_cookie_time(buf, sec)
    return ffi_str(buf, n)
end

function ngx.http_time(sec)
    if type(sec) ~= "number" then
        error("number argument only", 2)
    end
    local buf = get_string_buf(64)
    local n = C.lunet_ffi_http_time(buf, sec)
    return ffi_str(buf, n)
end

function ngx.parse_http_time(time_str)
    if type(time_str) ~= "string" then
        error("string argument only", 2)
    end
    local res = C.lunet_ffi_parse_http_time(time_str, #time_str)
    if res == FFI_ERROR then
        return nil
    end
    return tonumber(res)
end

return {
    version = base.version,
    monotonic_msec = monotonic_msec,
    monotonic_time = monotonic_time,
}
