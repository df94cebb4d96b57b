-- The runner of the `resty` command (src/resty/resty.cc writes the server
-- config that calls it): init() from init_by_lua turns ngx.say / ngx.print /
-- print into writes to stdout and os.exit / ngx.exit into the script's exit
-- code; start() from init_worker_by_lua compiles the code and runs it in
-- ngx.timer.at(0), then lets the server quit gracefully.
local C = require "lunet.resty.c"

local type = type
local tostring = tostring
local concat = table.concat
local maxn = table.maxn
local stdout = io.stdout
local stderr = io.stderr
local exit = C.exit

local _M = {}

local null = ngx.null

local expand
function expand(src, inplace)
    local n = maxn(src)
    local dst = inplace and src or {}
    for i = 1, n do
        local v = src[i]
        local t = type(v)
        if v == nil then
            dst[i] = "nil"
        elseif t == "boolean" then
            dst[i] = v and "true" or "false"
        elseif v == null then
            dst[i] = "null"
        elseif t == "table" then
            dst[i] = expand(v, false)
        elseif t ~= "string" then
            dst[i] = tostring(v)
        else
            dst[i] = v
        end
    end
    return concat(dst)
end

local function output(...)
    return stdout:write(expand({...}, true))
end

function _M.init()
    ngx.print = output
    ngx.say = function (...)
        local ok, err = output(...)
        if ok then
            return output("\n")
        end
        return ok, err
    end
    print = ngx.say
    ngx.flush = function () return stdout:flush() end
    ngx.eof = function () return true end
    ngx.exit = exit
    os.exit = exit
end

local function fail(err)
    stderr:write("ERROR: ", tostring(err), "\n")
    return exit(1)
end

function _M.start()
    local p = C.params()

    if p.jit == "v" then
        require("jit.v").on()
    elseif p.jit == "dump" then
        require("jit.dump").on()
    elseif p.jit == "off" then
        jit.off()
    end

    local a = {}
    a[0] = p.file or "(command line -e)"
    for i, v in ipairs(p.args) do
        a[i] = v
    end
    local npre = #p.pre
    for i, v in ipairs(p.pre) do
        a[i - npre - 1] = v
    end
    a[-npre - 1] = p.program
    arg = a

    local chunks = {}
    if p.code then
        local f, err = loadstring(p.code, "=(command line -e)")
        if not f then
            return fail(err)
        end
        chunks[#chunks + 1] = f
    end
    if p.file then
        local fh, err = io.open(p.file, "r")
        if not fh then
            return fail(err)
        end
        local src = fh:read("*a")
        fh:close()
        local f, err = loadstring(src, "@" .. p.file)
        if not f then
            return fail(err)
        end
        chunks[#chunks + 1] = f
    end

    local libs = p.libs
    local function main()
        for _, lib in ipairs(libs) do
            require(lib)
        end
        for _, chunk in ipairs(chunks) do
            chunk()
        end
    end

    local ok, err = ngx.timer.at(0, function ()
        local ok, err = xpcall(main, function (e)
            -- level 2: from the function that raised
            return debug.traceback(tostring(e), 2)
        end)
        if not ok then
            return fail(err)
        end
        C.done()
    end)
    if not ok then
        return fail(err)
    end
end

return _M
