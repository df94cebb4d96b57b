-- lua-resty-core compatibility: in Lunet the FFI-based API is built in and
-- loaded with the VM, so `require "resty.core"` is a no-op that returns a
-- table like lua-resty-core's.
local base = require "resty.core.base"

local _M = {
    version = base.version,
}

return _M
