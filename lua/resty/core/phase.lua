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

-- by the Phase value itself, which RunCtx.phase holds: a load and a table
-- lookup, no call (0: no Lua phase runs, as in init_by_lua)
local by_value = { [0] = names[-1] }
for bit, name in pairs(names) do
    if bit >= 0 then
        by_value[2 ^ bit] = name
    end
end
local run_ctx = base.run_ctx

function ngx.get_phase()
    return by_value[run_ctx.phase] or "unknown"
end

return {
    version = base.version
}
