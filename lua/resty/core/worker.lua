-- ngx.worker.id, pid, count, exiting, pids over FFI.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_new = ffi.new
local tonumber = tonumber
local new_tab = base.new_tab

ffi.cdef [[
    int lunet_ffi_worker_id(void);
    int lunet_ffi_worker_pid(void);
    int lunet_ffi_worker_pids(int *pids, size_t *len);
    int lunet_ffi_worker_count(void);
    int lunet_ffi_worker_exiting(void);
]]

local worker = ngx.worker or new_tab(0, 5)
ngx.worker = worker

function worker.exiting()
    return C.lunet_ffi_worker_exiting() ~= 0
end

function worker.pid()
    return C.lunet_ffi_worker_pid()
end

local MAX_PROCESSES = 1024
local pids_len = ffi_new("size_t[1]")
local pids_buf = ffi_new("int[?]", MAX_PROCESSES)

function worker.pids()
    local phase = ngx.get_phase()
    if phase == "init" or phase == "init_worker" then
        return nil, "API disabled in the current context"
    end
    pids_len[0] = MAX_PROCESSES
    local rc = C.lunet_ffi_worker_pids(pids_buf, pids_len)
    local pids = {}
    if rc == 0 then
        for i = 1, tonumber(pids_len[0]) do
            pids[i] = pids_buf[i - 1]
        end
    end
    return pids
end

-- A worker's id never changes once it has one, and the processes without
-- one (master, privileged agent, signaller) answer nil: keep the first
-- non-negative answer, so a hot loop reads an upvalue, not a C call. The
-- master's VM is inherited by every fork, which is why nil is not kept.
local worker_id

function worker.id()
    if worker_id then
        return worker_id
    end
    local id = C.lunet_ffi_worker_id()
    if id < 0 then
        return nil
    end
    worker_id = id
    return id
end

function worker.count()
    return C.lunet_ffi_worker_count()
end

return {
    _VERSION = base.version
}
