-- require "ngx.balancer" over FFI (src/lua/api_balancer.cc), for
-- balancer_by_lua*: set_current_peer, set_more_tries, get_last_failure,
-- set_timeouts, recreate_request. Names, arguments, returns and errors as
-- lua-resty-core's ngx.balancer.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_str = ffi.string
local error = error
local type = type
local tonumber = tonumber
local get_request = base.get_request
local FFI_OK = base.FFI_OK
local FFI_ERROR = base.FFI_ERROR

ffi.cdef [[
    int lunet_ffi_balancer_set_current_peer(ngx_http_request_t *r,
        const unsigned char *addr, size_t addr_len, int port, const char **err);
    int lunet_ffi_balancer_set_more_tries(ngx_http_request_t *r, int count,
        const char **err);
    int lunet_ffi_balancer_get_last_failure(ngx_http_request_t *r, int *status,
        const char **err);
    int lunet_ffi_balancer_set_timeouts(ngx_http_request_t *r, long connect,
        long send, long read, const char **err);
    int lunet_ffi_balancer_recreate_request(ngx_http_request_t *r, const char **err);
]]

local errmsg = ffi.new("const char *[1]")
local int_out = ffi.new("int[1]")
local peer_state_names = {
    [1] = "keepalive",
    [2] = "next",
    [4] = "failed",
}

local _M = { version = base.version }

function _M.set_current_peer(addr, port, host)
    local r = get_request()
    if not r then
        error("no request found")
    end
    if not port then
        port = 0
    elseif type(port) ~= "number" then
        port = tonumber(port)
    end
    if host ~= nil then
        error("the host argument is not supported by Lunet yet", 2)
    end
    local rc = C.lunet_ffi_balancer_set_current_peer(r, addr, #addr, port, errmsg)
    if rc == FFI_OK then
        return true
    end
    return nil, ffi_str(errmsg[0])
end

function _M.set_more_tries(count)
    local r = get_request()
    if not r then
        error("no request found")
    end
    local rc = C.lunet_ffi_balancer_set_more_tries(r, count, errmsg)
    if rc == FFI_OK then
        if errmsg[0] == nil then
            return true
        end
        return true, ffi_str(errmsg[0])
    end
    return nil, ffi_str(errmsg[0])
end

function _M.get_last_failure()
    local r = get_request()
    if not r then
        error("no request found")
    end
    local state = C.lunet_ffi_balancer_get_last_failure(r, int_out, errmsg)
    if state == 0 then
        return nil
    end
    if state == FFI_ERROR then
        return nil, nil, ffi_str(errmsg[0])
    end
    return peer_state_names[state] or "unknown", int_out[0]
end

local function timeout_ms(t, what)
    if not t then
        return -1
    end
    if type(t) ~= "number" or t <= 0 then
        error("bad " .. what .. " timeout", 3)
    end
    return t * 1000
end

function _M.set_timeouts(connect_timeout, send_timeout, read_timeout)
    local r = get_request()
    if not r then
        error("no request found")
    end
    local rc = C.lunet_ffi_balancer_set_timeouts(r, timeout_ms(connect_timeout, "connect"),
                                                 timeout_ms(send_timeout, "send"),
                                                 timeout_ms(read_timeout, "read"), errmsg)
    if rc == FFI_OK then
        return true
    end
    return false, ffi_str(errmsg[0])
end

function _M.recreate_request()
    local r = get_request()
    if not r then
        error("no request found")
    end
    local rc = C.lunet_ffi_balancer_recreate_request(r, errmsg)
    if rc == FFI_OK then
        return true
    end
    if errmsg[0] ~= nil then
        return nil, ffi_str(errmsg[0])
    end
    return nil, "failed to recreate the upstream request"
end

function _M.enable_keepalive()
    error("ngx.balancer.enable_keepalive is not supported by Lunet yet", 2)
end

function _M.set_upstream_tls()
    error("ngx.balancer.set_upstream_tls is not supported by Lunet yet", 2)
end

return _M
