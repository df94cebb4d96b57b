-- lunet.timer's once_per_node: a job that exactly one process of the node
-- (worker or privileged agent) runs, chosen through a lease in a shared
-- dict. Each process's timer ticks; at its tick a process runs the job only
-- if it holds the lease ("lunet.timer:<name>" = its pid), renewing it, or
-- can take it: the key is free (the holder released it when it exited or
-- reloaded, or it expired), or the holder's pid is gone (killed): then one
-- process wins a per-dead-pid takeover key and becomes the holder. So the
-- job moves to another process within one interval of its holder's death.
local ffi = require "ffi"

pcall(ffi.cdef, "int kill(int pid, int sig);")
local C = ffi.C
local ESRCH = 3

local tostring, tonumber = tostring, tonumber

local _M = {}

local function gone(pid)
    return C.kill(pid, 0) ~= 0 and ffi.errno() == ESRCH
end

-- Returns the function the store runs at every tick of this process.
function _M.wrap(fn, interval, name, dict_name)
    local dict = ngx.shared[dict_name]
    if not dict then
        error("opts.dict: no lua_shared_dict named \"" .. tostring(dict_name) .. "\"", 2)
    end
    local key = "lunet.timer:" .. name
    local me = tostring(ngx.worker.pid())
    -- long enough that the holder's next tick renews it in time
    local ttl = interval * 1.5 + 0.1

    local function acquire()
        local v = dict:get(key)
        if v == me then
            dict:set(key, me, ttl)
            return true
        end
        if v == nil then
            return (dict:add(key, me, ttl))
        end
        local pid = tonumber(v)
        if pid and gone(pid) then
            if dict:add(key .. ":takeover:" .. v, me, ttl) then
                dict:set(key, me, ttl)
                return true
            end
        end
        return false
    end

    return function(premature)
        if premature then
            -- exiting (QUIT, reload): hand the job over at once
            if dict:get(key) == me then
                dict:delete(key)
                return fn(true)
            end
            return
        end
        if acquire() then
            return fn(false)
        end
    end
end

return _M
