-- A Redis client written the way lua-resty-redis is (for t/394): one
-- cosocket per object, RESP requests built as nested tables and sent with
-- one send(), replies read with receive("*l") / receive(n), any command
-- through __index, pipelines (init_pipeline / commit_pipeline), keepalive
-- through set_keepalive / get_reused_times. It uses only the public
-- cosocket API, so it runs unchanged on nginx + lua-nginx-module.
local tcp = ngx.socket.tcp
local null = ngx.null
local sub, byte, tonumber, tostring = string.sub, string.byte, tonumber, tostring
local concat, insert = table.concat, table.insert
local setmetatable, rawget, type, select = setmetatable, rawget, type, select

local _M = { _VERSION = "0.1" }
local mt = { __index = _M }

function _M.new()
    local sock, err = tcp()
    if not sock then return nil, err end
    return setmetatable({ _sock = sock }, mt)
end

function _M.set_timeout(self, ms)
    return self._sock:settimeout(ms)
end

function _M.set_timeouts(self, c, s, r)
    return self._sock:settimeouts(c, s, r)
end

function _M.connect(self, host, port, opts)
    return self._sock:connect(host, port, opts)
end

function _M.set_keepalive(self, ...)
    return self._sock:setkeepalive(...)
end

function _M.get_reused_times(self)
    return self._sock:getreusedtimes()
end

function _M.close(self)
    return self._sock:close()
end

local function read_reply(self, sock)
    local line, err = sock:receive()
    if not line then
        if err == "timeout" then sock:close() end
        return nil, err
    end
    local prefix = byte(line)
    if prefix == 36 then -- $
        local size = tonumber(sub(line, 2))
        if size < 0 then return null end
        local data, err = sock:receive(size)
        if not data then return nil, err end
        local dummy, err = sock:receive(2) -- CRLF
        if not dummy then return nil, err end
        return data
    elseif prefix == 43 then -- +
        return sub(line, 2)
    elseif prefix == 42 then -- *
        local n = tonumber(sub(line, 2))
        if n < 0 then return null end
        local vals = {}
        for i = 1, n do
            local res, err = read_reply(self, sock)
            if res then
                vals[i] = res
            elseif res == nil then
                return nil, err
            else
                vals[i] = { false, err }
            end
        end
        return vals
    elseif prefix == 58 then -- :
        return tonumber(sub(line, 2))
    elseif prefix == 45 then -- -
        return false, sub(line, 2)
    end
    return nil, "unknown prefix: \"" .. tostring(prefix) .. "\""
end

-- {"*3\r\n", "$3\r\n", "SET", "\r\n", ...}: a nested table, never one string
local function gen_req(args)
    local n = #args
    local req = { "*" .. n .. "\r\n" }
    for i = 1, n do
        local arg = args[i]
        if type(arg) ~= "string" then arg = tostring(arg) end
        insert(req, { "$", #arg, "\r\n", arg, "\r\n" })
    end
    return req
end

local function do_cmd(self, ...)
    local args = { ... }
    local sock = rawget(self, "_sock")
    local req = gen_req(args)
    local reqs = rawget(self, "_reqs")
    if reqs then
        reqs[#reqs + 1] = req
        return
    end
    local bytes, err = sock:send(req)
    if not bytes then return nil, err end
    return read_reply(self, sock)
end

function _M.init_pipeline(self, n)
    self._reqs = {}
end

function _M.cancel_pipeline(self)
    self._reqs = nil
end

function _M.commit_pipeline(self)
    local reqs = rawget(self, "_reqs")
    if not reqs then return nil, "no pipeline" end
    self._reqs = nil
    local sock = rawget(self, "_sock")
    local bytes, err = sock:send(reqs)
    if not bytes then return nil, err end
    local vals = {}
    for i = 1, #reqs do
        local res, err = read_reply(self, sock)
        if res then
            vals[i] = res
        elseif res == nil then
            if err == "timeout" then sock:close() end
            return nil, err
        else
            vals[i] = { false, err }
        end
    end
    return vals
end

setmetatable(_M, { __index = function(self, cmd)
    local method = function(self, ...) return do_cmd(self, cmd, ...) end
    _M[cmd] = method
    return method
end })

return _M
