-- A subset of lua-resty-core's resty.core.base: the helpers third-party
-- libraries reach for (new_tab, clear_tab, FFI_* codes, version).
local ffi = require "ffi"

local ok, new_tab = pcall(require, "table.new")
if not ok then
    new_tab = function (narr, nrec) return {} end
end

local ok2, clear_tab = pcall(require, "table.clear")
if not ok2 then
    clear_tab = function (tab)
        for k, _ in pairs(tab) do
            tab[k] = nil
        end
    end
end

local _M = new_tab(0, 16)

_M.version = "0.1.28"
_M.new_tab = new_tab
_M.clear_tab = clear_tab

_M.FFI_OK = 0
_M.FFI_NO_REQ_CTX = -100
_M.FFI_BAD_CONTEXT = -101
_M.FFI_ERROR = -1
_M.FFI_AGAIN = -2
_M.FFI_BUSY = -3
_M.FFI_DONE = -4
_M.FFI_DECLINED = -5

local c_buf_type = ffi.typeof("char[?]")
local str_buf_size = 4096
local str_buf

function _M.get_string_buf_size()
    return str_buf_size
end

function _M.get_string_buf(size, must_alloc)
    if size > str_buf_size or must_alloc then
        return ffi.new(c_buf_type, size)
    end
    if not str_buf then
        str_buf = ffi.new(c_buf_type, str_buf_size)
    end
    return str_buf
end

function _M.set_string_buf_size(size)
    if size <= 0 then
        return
    end
    if str_buf then
        str_buf = nil
    end
    str_buf_size = size
end

return _M
