-- ngx.get_phase() over FFI.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C

ffi.cdef [[
    int lunet_ffi_get_phase(void);
]]

-- bit numbers of lunet::lua::Phase (src/lua/context.h)
local names = {
    [-1] = "init",
    [0] = "init",
    [1] = "init_worker",
    [2] = "set",
    [3] = "rewrite",
    [4] = "access",
    [5] = "content",
    [6] = "header_filter",
    [7] = "body_filter",
    [8] = "log",
    [9] = "timer",
    [10] = "balancer",
    [11] = "exit_worker",
}

function ngx.get_phase()
    return names[C.lunet_ffi_get_phase()] or "unknown"
end

return {
    version = base.version
}
