-- resty.shell for Lunet: run(cmd, stdin, timeout, max_size) ->
-- ok, stdout, stderr, reason, status, as lua-resty-shell. Built on ngx.pipe;
-- stdout and stderr are read together through one wait (Lunet has no
-- ngx.thread yet), then the process is waited for.
local ngx_pipe = require "ngx.pipe"
local C = require "lunet.pipe.c"

local tostring = tostring
local concat = table.concat
local pipe_spawn = ngx_pipe.spawn
local read_both = C.read_both

local _M = { version = 0.03 }

local spawn_opts = {
    buffer_size = 1024 * 32,
}

-- SIGKILL (9) to the child; in shell mode, to its whole process group.
local function cleanup_proc(proc)
    proc:kill(9)
    proc:wait()
end

function _M.run(cmd, stdin, timeout, max_size)
    if not max_size then
        max_size = 128 * 1024
    end

    local proc, err = pipe_spawn(cmd, spawn_opts)
    if not proc then
        return nil, nil, nil, "failed to spawn: " .. tostring(err)
    end

    proc:set_timeouts(timeout, timeout, timeout, timeout)

    if stdin and stdin ~= "" then
        local bytes, err = proc:write(stdin)
        if not bytes then
            cleanup_proc(proc)
            return nil, nil, nil, "failed to write to stdin: " .. tostring(err)
        end
    end

    local ok
    ok, err = proc:shutdown("stdin")
    if not ok then
        cleanup_proc(proc)
        return nil, nil, nil, "failed to shutdown stdin: " .. tostring(err)
    end

    local out, errs = {}, {}
    local nout, nerr = 0, 0
    local out_len, err_len = 0, 0
    local out_done, err_done = false, false
    local read_err, read_err_stream

    while not (out_done and err_done) do
        local a, b = read_both(proc,
                               out_done and 0 or max_size - out_len + 1,
                               err_done and 0 or max_size - err_len + 1)
        if a == nil then
            -- a read timed out: the process is hung, as wait() would say
            cleanup_proc(proc)
            return nil, concat(out), concat(errs),
                   "failed to wait for process: " .. tostring(b)
        end
        if a == false then
            out_done = true
        elseif a ~= "" then
            nout = nout + 1
            out[nout] = a
            out_len = out_len + #a
            if out_len > max_size then
                out_done = true
                read_err, read_err_stream = "too much data", "stdout"
            end
        end
        if b == false then
            err_done = true
        elseif b ~= "" then
            nerr = nerr + 1
            errs[nerr] = b
            err_len = err_len + #b
            if err_len > max_size then
                err_done = true
                read_err, read_err_stream = "too much data", "stderr"
            end
        end
        if read_err then
            break
        end
    end

    local stdout = concat(out)
    local stderr = concat(errs)

    if read_err then
        -- nobody reads the rest: do not wait for a child blocked on its pipe
        cleanup_proc(proc)
        return nil, stdout, stderr,
               "failed to read " .. read_err_stream .. ": " .. read_err
    end

    local reason, status
    ok, reason, status = proc:wait()
    if ok == nil and reason ~= "exited" then
        cleanup_proc(proc)
        return nil, stdout, stderr,
               "failed to wait for process: " .. tostring(reason)
    end

    return ok, stdout, stderr, reason, status
end

return _M
