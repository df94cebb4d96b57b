-- ngx.ctx as lua-resty-core keeps it: the tables live in
-- registry.ngx_lua_ctx_tables, the request holds only the ref (C++ unrefs it
-- when the request ends), so reading ngx.ctx is a few loads (the running
-- context's ref slot) and a table lookup that LuaJIT compiles into the trace.
local ffi = require "ffi"
local debug = require "debug"
local base = require "resty.core.base"
local misc = require "resty.core.misc"

local C = ffi.C
local error = error
local type = type
local registry = debug.getregistry()
local new_tab = base.new_tab
local ref_in_table = base.ref_in_table
local get_request = base.get_request
local FFI_OK = base.FFI_OK

ffi.cdef [[
    int lunet_ffi_get_ctx_ref(ngx_http_request_t *r);
    int lunet_ffi_set_ctx_ref(ngx_http_request_t *r, int ref);
]]

local _M = {
    _VERSION = base.version
}

-- a table of its own (not the registry) keeps the JIT's lookups cheap
local ctxs = {}
registry.ngx_lua_ctx_tables = ctxs

-- the running code's ref slot, kept by C++ with the request (see RunCtx)
local run_ctx = base.run_ctx

local function get_ctx_table(ctx)
    local r = get_request()
    if not r then
        error("no request found")
    end
    local ctx_ref = run_ctx.ctx_ref[0]
    if ctx_ref < 0 then
        if not ctx then
            ctx = new_tab(0, 4)
        end
        ctx_ref = ref_in_table(ctxs, ctx)
        if C.lunet_ffi_set_ctx_ref(r, ctx_ref) ~= FFI_OK then
            return nil
        end
        return ctx
    end
    return ctxs[ctx_ref]
end
misc.register_ngx_magic_key_getter("ctx", get_ctx_table)
_M.get_ctx_table = get_ctx_table

local function set_ctx_table(ctx)
    local ctx_type = type(ctx)
    if ctx_type ~= "table" then
        error("ctx should be a table while getting a " .. ctx_type)
    end
    local r = get_request()
    if not r then
        error("no request found")
    end
    local ctx_ref = C.lunet_ffi_get_ctx_ref(r)
    if ctx_ref < 0 then
        ctx_ref = ref_in_table(ctxs, ctx)
        C.lunet_ffi_set_ctx_ref(r, ctx_ref)
        return
    end
    ctxs[ctx_ref] = ctx
end
misc.register_ngx_magic_key_setter("ctx", set_ctx_table)

return _M
