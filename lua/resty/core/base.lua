-- resty.core.base for Lunet: the helpers that lua-resty-core's own modules
-- and third-party libraries written against its internals use (get_request,
-- the shared string buffer, size/errmsg pointers, ref_in_table, new_tab,
-- clear_tab, FFI_* codes), over Lunet's lunet_ffi_* exports.
local ffi = require "ffi"

local C = ffi.C
local ffi_new = ffi.new
local error = error
local select = select
local ceil = math.ceil
local pcall = pcall

local ok, new_tab = pcall(require, "table.new")
if not ok then
    new_tab = function (narr, nrec) return {} end
end

local clear_tab
ok, clear_tab = pcall(require, "table.clear")
if not ok then
    local pairs = pairs
    clear_tab = function (tab)
        for k, _ in pairs(tab) do
            tab[k] = nil
        end
    end
end

-- require() is a C function, so a loop calling it cannot compile (the trace
-- stitches); as lua-resty-core does, modules already loaded are answered by
-- a Lua wrapper that the JIT compiles.
do
    local orig_require = require
    local pkg_loaded = package.loaded
    -- package.loaded holds this sentinel while the chunk of a module runs
    local key_sentinel = pkg_loaded[...]
    local function my_require(name)
        local mod = pkg_loaded[name]
        if mod then
            if mod == key_sentinel then
                error("loop or previous error loading module '" .. name .. "'")
            end
            return mod
        end
        return orig_require(name)
    end
    getfenv(0).require = my_require
end

-- Types libraries' own cdefs refer to (declared once per VM).
if not pcall(ffi.typeof, "ngx_str_t") then
    ffi.cdef [[
        typedef struct {
            size_t                 len;
            const unsigned char   *data;
        } ngx_str_t;
    ]]
end
if not pcall(ffi.typeof, "ngx_http_request_t") then
    ffi.cdef [[
        typedef struct ngx_http_request_s  ngx_http_request_t;
    ]]
end
if not pcall(ffi.typeof, "ngx_http_lua_ffi_str_t") then
    ffi.cdef [[
        typedef struct {
            int                       len;
            const unsigned char      *data;
        } ngx_http_lua_ffi_str_t;
    ]]
end

ffi.cdef [[
    typedef struct {
        const char  *data;
        size_t       len;
    } lunet_ffi_str_t;

    typedef struct {
        lunet_ffi_str_t  key;
        lunet_ffi_str_t  value;
    } lunet_ffi_table_elt_t;

    typedef struct {
        uint32_t             phase;
        int32_t              method;
        ngx_http_request_t  *req;
        void                *owner;
        int                 *ctx_ref;
    } lunet_ffi_run_ctx_t;

    const lunet_ffi_run_ctx_t *lunet_ffi_run_ctx(void);
    ngx_http_request_t *lunet_ffi_fake_request(void);
]]

if not ngx then
    error("no existing ngx. table found")
end

local _M = new_tab(0, 24)

_M.version = "0.1.28"
_M.new_tab = new_tab
_M.clear_tab = clear_tab

local FREE_LIST_REF = 0
local str_buf_size = 4096
local str_buf
local size_ptr
local errmsg
local c_buf_type = ffi.typeof("char[?]")

function _M.get_errmsg_ptr()
    if not errmsg then
        errmsg = ffi_new("char *[1]")
    end
    return errmsg
end

function _M.set_string_buf_size(size)
    if size <= 0 then
        return
    end
    if str_buf then
        str_buf = nil
    end
    str_buf_size = ceil(size)
end

function _M.get_string_buf_size()
    return str_buf_size
end

function _M.get_size_ptr()
    if not size_ptr then
        size_ptr = ffi_new("size_t[1]")
    end
    return size_ptr
end

-- One buffer for the whole VM (a request never has two FFI calls in flight),
-- a fresh one when more is needed or the caller keeps it.
function _M.get_string_buf(size, must_alloc)
    if size > str_buf_size or must_alloc then
        return ffi_new(c_buf_type, size)
    end
    if not str_buf then
        str_buf = ffi_new(c_buf_type, str_buf_size)
    end
    return str_buf
end

-- luaL_ref's scheme (free list at [0]), so that C++ can luaL_unref the same
-- table (ngx.ctx refs in registry.ngx_lua_ctx_tables).
function _M.ref_in_table(tb, key)
    if key == nil then
        return -1
    end
    local ref = tb[FREE_LIST_REF]
    if ref and ref ~= 0 then
        tb[FREE_LIST_REF] = tb[ref]
    else
        ref = #tb + 1
    end
    tb[ref] = key
    return ref
end

function _M.allows_subsystem(...)
    local total = select("#", ...)
    for i = 1, total do
        if select(i, ...) == "http" then
            return
        end
    end
    error("unsupported subsystem: http", 2)
end

_M.FFI_OK = 0
_M.FFI_NO_REQ_CTX = -100
_M.FFI_BAD_CONTEXT = -101
_M.FFI_ERROR = -1
_M.FFI_AGAIN = -2
_M.FFI_BUSY = -3
_M.FFI_DONE = -4
_M.FFI_DECLINED = -5

-- The request of the running Lua code: nil in init_by_lua (and outside Lua
-- phases); in init_worker, exit_worker and timers a handle on which the
-- per-request APIs answer FFI_BAD_CONTEXT, as OpenResty's fake request.
-- It reads what C++ keeps as the running context (src/lua/context.h), so in
-- a trace it is two loads, not a call.
do
    local band = require("bit").band
    local run_ctx = C.lunet_ffi_run_ctx()
    local fake = C.lunet_ffi_fake_request()
    -- kInitWorker | kTimer | kExitWorker
    local FAKE_REQUEST_PHASES = 0x2 + 0x200 + 0x800

    _M.run_ctx = run_ctx

    function _M.get_request()
        local r = run_ctx.req
        if r ~= nil then
            return r
        end
        if band(run_ctx.phase, FAKE_REQUEST_PHASES) ~= 0 then
            return fake
        end
    end
end

return _M
