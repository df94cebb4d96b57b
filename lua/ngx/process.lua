-- ngx.process for Lunet: type(), get_master_pid(), signal_graceful_exit()
-- over FFI (src/lua/api_process.cc). enable_privileged_agent() comes with
-- the privileged agent.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local error = error

ffi.cdef [[
    int lunet_ffi_process_type(void);
    int lunet_ffi_master_pid(void);
    void lunet_ffi_signal_graceful_exit(void);
]]

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

function _M.enable_privileged_agent()
    error("ngx.process.enable_privileged_agent is not yet implemented in Lunet", 2)
end

return _M
