-- lua-resty-core compatibility. Lunet loads this module when it creates the
-- VM: it switches the hot paths of the ngx API to LuaJIT FFI (the files
-- under resty/core/). A later `require "resty.core"` is therefore a no-op
-- returning this table, as with lua-resty-core.
local base = require "resty.core.base"

require "resty.core.var"
require "resty.core.response"
require "resty.core.request"
require "resty.core.shdict"

return {
    version = base.version,
}
