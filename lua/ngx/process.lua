-- ngx.process over FFI (src/lua/api_process.cc): type(), get_master_pid(),
-- signal_graceful_exit(), enable_privileged_agent(connections). Names,
-- arguments, returns and error strings as lua-resty-core's ngx.process.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_str = ffi.string
local type = type
local errmsg = base.get_errmsg_ptr()
local FFI_ERROR = base.FFI_ERROR

ffi.cdef [[
    int lunet_ffi_process_type(void);
    int lunet_ffi_master_pid(void);
    void lunet_ffi_signal_graceful_exit(void);
    int lunet_ffi_enable_privileged_agent(unsigned int connections, char **err);
]]

-- In the order of conf::ProcessType.
local names = {
    [0] = "single",
    [1] = "master",
    [2] = "signaller",
    [3] = "worker",
    [4] = "helper",
    [5] = "privileged agent",
}

local _M = { version = base.version }

function _M.type()
    return names[C.lunet_ffi_process_type()]
end

function _M.get_master_pid()
    local pid = C.lunet_ffi_master_pid()
    if pid <= 0 then
        return nil
    end
    return pid
end

function _M.signal_graceful_exit()
    C.lunet_ffi_signal_graceful_exit()
end

function _M.enable_privileged_agent(connections)
    if ngx.get_phase() ~= "init" then
        return nil, "API disabled in the current context"
    end

    connections = connections or 512

    if type(connections) ~= "number" or connections < 0 then
        return nil, "bad 'connections' argument: number expected and greater than 0"
    end

    if C.lunet_ffi_enable_privileged_agent(connections, errmsg) == FFI_ERROR then
        return nil, ffi_str(errmsg[0])
    end

    return true
end

return _M
