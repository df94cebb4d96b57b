-- ngx.pipe for Lunet: spawn OS processes and talk to their stdin, stdout and
-- stderr without blocking the worker. Argument checks, return values and
-- error strings follow lua-resty-core's ngx.pipe; the work is done by the
-- C functions of "lunet.pipe.c" (src/lua/api_pipe.cc) on libuv process and
-- pipe handles.
local C = require "lunet.pipe.c"

local type = type
local error = error
local ipairs = ipairs
local tostring = tostring
local tonumber = tonumber
local getmetatable = getmetatable
local table_concat = table.concat
local ngx_phase = ngx.get_phase

local c_spawn = C.spawn
local c_read = C.read
local c_write = C.write
local c_shutdown = C.shutdown
local c_wait = C.wait
local c_kill = C.kill
local c_pid = C.pid
local c_set_timeouts = C.set_timeouts

local PIPE_READ_ALL = 0
local PIPE_READ_BYTES = 1
local PIPE_READ_LINE = 2
local PIPE_READ_ANY = 3
local MAX_TIMEOUT = 0xffffffff

local _M = { version = "0.1.28" }

local function check_proc(proc)
    if type(proc) ~= "userdata" or getmetatable(proc) ~= "ngx.pipe" then
        error("not a process instance", 3)
    end
end

local function check_timeout(t, lv)
    if t ~= nil then
        if type(t) ~= "number" or t < 0 or t > MAX_TIMEOUT then
            error("bad timeout value", lv)
        end
    end
end

local function set_timeouts(proc, w, so, se, wt, lv)
    check_timeout(w, lv)
    check_timeout(so, lv)
    check_timeout(se, lv)
    check_timeout(wt, lv)
    c_set_timeouts(proc, w, so, se, wt)
end

local function read_bytes(proc, stderr, len)
    check_proc(proc)
    if type(len) ~= "number" then
        len = tonumber(len)
        if not len then
            error("bad len argument", 2)
        end
    end
    if len <= 0 then
        if len < 0 then
            error("bad len argument", 2)
        end
        return ""
    end
    return c_read(proc, stderr, PIPE_READ_BYTES, len)
end

local function read_any(proc, stderr, max)
    check_proc(proc)
    if type(max) ~= "number" then
        max = tonumber(max)
    end
    if not max or max <= 0 then
        error("bad max argument", 2)
    end
    return c_read(proc, stderr, PIPE_READ_ANY, max)
end

local methods = {
    pid = function (proc)
        check_proc(proc)
        return c_pid(proc)
    end,

    set_timeouts = function (proc, w, so, se, wt)
        check_proc(proc)
        set_timeouts(proc, w, so, se, wt, 3)
    end,

    stdout_read_all = function (proc)
        check_proc(proc)
        return c_read(proc, false, PIPE_READ_ALL, 0)
    end,
    stdout_read_line = function (proc)
        check_proc(proc)
        return c_read(proc, false, PIPE_READ_LINE, 0)
    end,
    stdout_read_bytes = function (proc, len)
        return read_bytes(proc, false, len)
    end,
    stdout_read_any = function (proc, max)
        return read_any(proc, false, max)
    end,

    stderr_read_all = function (proc)
        check_proc(proc)
        return c_read(proc, true, PIPE_READ_ALL, 0)
    end,
    stderr_read_line = function (proc)
        check_proc(proc)
        return c_read(proc, true, PIPE_READ_LINE, 0)
    end,
    stderr_read_bytes = function (proc, len)
        return read_bytes(proc, true, len)
    end,
    stderr_read_any = function (proc, max)
        return read_any(proc, true, max)
    end,

    write = function (proc, data)
        check_proc(proc)
        local t = type(data)
        if t ~= "string" then
            if t == "table" then
                data = table_concat(data, "")
            elseif t == "number" then
                data = tostring(data)
            else
                error("bad data arg: string, number, or table expected, got "
                      .. t, 2)
            end
        end
        return c_write(proc, data)
    end,

    shutdown = function (proc, direction)
        check_proc(proc)
        if direction == "stdin" then
            return c_shutdown(proc, 0)
        elseif direction == "stdout" then
            return c_shutdown(proc, 1)
        elseif direction == "stderr" then
            return c_shutdown(proc, 2)
        end
        error("bad shutdown arg: " .. tostring(direction), 2)
    end,

    wait = function (proc)
        check_proc(proc)
        return c_wait(proc)
    end,

    kill = function (proc, signum)
        check_proc(proc)
        if type(signum) ~= "number" then
            error("bad signal arg: number expected, got " .. tostring(signum), 2)
        end
        return c_kill(proc, signum)
    end,
}

C.mt.__index = methods

function _M.spawn(args, opts)
    if ngx_phase() == "init" then
        error("API disabled in the current context", 2)
    end

    local t = type(args)
    if t == "table" then
        local n = 0
        local argv = {}
        for i, a in ipairs(args) do
            n = i
            argv[i] = type(a) == "string" and a or tostring(a)
        end
        if n == 0 then
            error("bad args arg: non-empty table expected", 2)
        end
        args = argv
    elseif t ~= "string" then
        error("bad args arg: table expected, got " .. t, 2)
    end

    local merge_stderr = false
    local buffer_size = 4096
    local environ
    local wt, sot, set, wat = 10000, 10000, 10000, 10000

    if opts then
        merge_stderr = opts.merge_stderr and true or false

        if opts.buffer_size then
            buffer_size = tonumber(opts.buffer_size)
            if not buffer_size or buffer_size < 1 then
                error("bad buffer_size option", 2)
            end
        end

        if opts.environ then
            environ = opts.environ
            local et = type(environ)
            if et ~= "table" then
                error("bad environ option: table expected, got " .. et, 2)
            end
            for i, e in ipairs(environ) do
                if type(e) ~= "string" then
                    error("bad value at index " .. i .. " of environ option: "
                          .. "string expected, got " .. type(e), 2)
                end
            end
        end

        wt = opts.write_timeout or wt
        sot = opts.stdout_read_timeout or sot
        set = opts.stderr_read_timeout or set
        wat = opts.wait_timeout or wat
        check_timeout(wt, 2)
        check_timeout(sot, 2)
        check_timeout(set, 2)
        check_timeout(wat, 2)
    end

    return c_spawn(args, merge_stderr, buffer_size, environ, wt, sot, set, wat)
end

return _M
