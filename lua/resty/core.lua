-- lua-resty-core compatibility. Lunet loads this module when it creates the
-- VM: it puts the hot paths of the ngx API on LuaJIT FFI (the files under
-- resty/core/, over the lunet_ffi_* exports of src/lua/api_*.cc). A later
-- `require "resty.core"` is therefore a no-op returning this table, as with
-- lua-resty-core.
local base = require "resty.core.base"

require "resty.core.misc"
require "resty.core.ctx"
require "resty.core.phase"
require "resty.core.time"
require "resty.core.worker"
require "resty.core.uri"
require "resty.core.hash"
require "resty.core.base64"
require "resty.core.exit"
require "resty.core.var"
require "resty.core.response"
require "resty.core.request"
require "resty.core.shdict"
require "resty.core.regex"

return {
    version = base.version,
}
