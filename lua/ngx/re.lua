-- require "ngx.re": split and opt, as lua-resty-core's ngx.re module, on the
-- compiled regexes of resty.core.regex.
local regex = require "resty.core.regex"
local base = require "resty.core.base"

local sub = string.sub
local type = type
local error = error
local tostring = tostring
local compile = regex.compile
local exec = regex.exec
local new_tab = base.new_tab

local PCRE2_ERROR_NOMATCH = -1

local _M = { version = base.version }

-- split(subject, regex, opts?, ctx?, max?, res?) -> res | nil, err
function _M.split(subj, re, opts, ctx, max, res)
    if res ~= nil and type(res) ~= "table" then
        error("res is not a table", 2)
    end
    if type(subj) ~= "string" then
        subj = tostring(subj)
    end
    if max == nil then
        max = 0
    elseif type(max) ~= "number" then
        error("max is not a number", 2)
    end
    local compiled, flags = compile(re, opts)
    if not compiled then
        return nil, flags
    end
    local utf = regex.utf(flags)
    local ncap = regex.is_dfa(flags) and 0 or compiled.ncaptures
    res = res or new_tab(4, 0)
    local len = #subj
    local pos = 0
    if ctx then
        local p = ctx.pos
        if p and p > 1 then
            pos = p - 1
        end
    end
    local seg = pos
    local n = 0
    local search = pos
    while max <= 0 or n < max - 1 do
        if search > len then
            break
        end
        local rc = exec(compiled, subj, search)
        if rc == PCRE2_ERROR_NOMATCH then
            break
        end
        if rc < 0 then
            return nil, "pcre_exec() failed: " .. rc
        end
        local caps = regex.caps()
        local from, to = caps[0], caps[1]
        if from == to and from == seg then
            if from >= len then
                break
            end
            search = from + regex.char_len(subj, from, utf)
        else
            n = n + 1
            res[n] = sub(subj, seg + 1, from)
            for i = 1, ncap do
                local cf = caps[2 * i]
                if cf >= 0 then
                    n = n + 1
                    res[n] = sub(subj, cf + 1, caps[2 * i + 1])
                end
            end
            seg = to
            if from == to then
                search = to + regex.char_len(subj, to, utf)
            else
                search = to
            end
        end
    end
    n = n + 1
    res[n] = sub(subj, seg + 1)
    if max <= 0 then
        -- Without a limit, trailing empty fields are dropped.
        while n > 0 and res[n] == "" do
            res[n] = nil
            n = n - 1
        end
    end
    res[n + 1] = nil
    return res
end

local jit_stack_size

-- opt("jit_stack_size", size)
function _M.opt(option, value)
    if option == "jit_stack_size" then
        if type(value) ~= "number" then
            error("bad jit_stack_size", 2)
        end
        if not regex.is_regex_cache_empty() then
            error("changing jit stack size is not allowed when some regexs have already been " ..
                  "compiled and cached", 2)
        end
        local ok, err = regex.set_jit_stack_size(value)
        if not ok then
            error(err, 2)
        end
        jit_stack_size = value
        return
    end
    error("unrecognized option name", 2)
end

function _M.get_jit_stack_size()
    return jit_stack_size
end

return _M
