-- ngx.re.match, find, gmatch, sub, gsub over LuaJIT FFI (PCRE2 with JIT,
-- src/lua/api_regex.cc). Compiled regexes for the `o` option are kept per
-- worker (this VM) up to lua_regex_cache_max_entries; a match allocates
-- nothing but the result table.
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_string = ffi.string
local ffi_gc = ffi.gc
local ffi_new = ffi.new
local byte = string.byte
local sub = string.sub
local find = string.find
local fmt = string.format
local concat = table.concat
local type = type
local tostring = tostring
local error = error
local band = bit.band
local bor = bit.bor
local new_tab = base.new_tab

ffi.cdef [[
    typedef struct {
        void *code;
        void *md;
        void *mctx;
        int ncaptures;
        int name_count;
        int name_entry_size;
        const unsigned char *name_table;
        int flags;
    } lunet_regex_t;

    lunet_regex_t *lunet_ffi_re_compile(const char *pat, size_t len, int flags,
        uint32_t opts, char *errbuf, size_t errlen);
    void lunet_ffi_re_free(lunet_regex_t *re);
    int lunet_ffi_re_exec(lunet_regex_t *re, const char *s, size_t len,
        int pos, int *caps, int caps_len);
    int lunet_ffi_re_max_cache_entries(void);
    int lunet_ffi_re_set_jit_stack_size(int size, char *errbuf, size_t errlen);
]]

-- Flags for the C side.
local FLAG_DFA = 1
local FLAG_JIT = 2
local FLAG_NO_UTF_CHECK = 4
-- Lua-side flags.
local FLAG_ONCE = 0x100
local FLAG_DUPNAMES = 0x200
local FLAG_UTF = 0x400

local PCRE2_ANCHORED = 0x80000000
local PCRE2_ALT_BSUX = 0x2
local PCRE2_CASELESS = 0x8
local PCRE2_DOTALL = 0x20
local PCRE2_DUPNAMES = 0x40
local PCRE2_EXTENDED = 0x80
local PCRE2_MATCH_UNSET_BACKREF = 0x200
local PCRE2_MULTILINE = 0x400
local PCRE2_UTF = 0x80000
local tonumber = tonumber

local PCRE2_ERROR_NOMATCH = -1

local ERRBUF_SIZE = 512
local errbuf = ffi_new("char[?]", ERRBUF_SIZE)

local caps_len = 64
local caps = ffi_new("int[?]", caps_len)

-- opts string -> { flags, pcre options, cache table or false }
local parsed_opts = new_tab(0, 8)
local cache_entries = 0
local cache_max
local cache_warned = false

local function parse_opts(opts, level)
    local flags, popts = 0, 0
    for i = 1, #opts do
        local c = byte(opts, i)
        if c == 97 then -- a
            popts = bor(popts, PCRE2_ANCHORED)
        elseif c == 100 then -- d
            flags = bor(flags, FLAG_DFA)
        elseif c == 68 then -- D
            popts = bor(popts, PCRE2_DUPNAMES)
            flags = bor(flags, FLAG_DUPNAMES)
        elseif c == 105 then -- i
            popts = bor(popts, PCRE2_CASELESS)
        elseif c == 106 then -- j
            flags = bor(flags, FLAG_JIT)
        elseif c == 74 then -- J
            popts = bor(popts, PCRE2_ALT_BSUX, PCRE2_MATCH_UNSET_BACKREF)
        elseif c == 109 then -- m
            popts = bor(popts, PCRE2_MULTILINE)
        elseif c == 111 then -- o
            flags = bor(flags, FLAG_ONCE)
        elseif c == 115 then -- s
            popts = bor(popts, PCRE2_DOTALL)
        elseif c == 117 then -- u
            popts = bor(popts, PCRE2_UTF)
            flags = bor(flags, FLAG_UTF)
        elseif c == 85 then -- U
            popts = bor(popts, PCRE2_UTF)
            flags = bor(flags, FLAG_UTF, FLAG_NO_UTF_CHECK)
        elseif c == 120 then -- x
            popts = bor(popts, PCRE2_EXTENDED)
        else
            error(fmt('unknown flag "%s" (flags "%s")', sub(opts, i, i), opts), level)
        end
    end
    local t = { flags, popts, band(flags, FLAG_ONCE) ~= 0 and new_tab(0, 4) or false }
    parsed_opts[opts] = t
    return t
end

local function log_warn(msg)
    require("ngx.errlog").raw_log(ngx.WARN, msg)
end

-- Returns the compiled regex (cdata), its flags; or nil, err.
local function compile(regex, opts)
    if type(regex) ~= "string" then
        regex = tostring(regex)
    end
    if opts == nil then
        opts = ""
    elseif type(opts) ~= "string" then
        opts = tostring(opts)
    end
    local o = parsed_opts[opts] or parse_opts(opts, 4)
    local cache = o[3]
    if cache then
        local re = cache[regex]
        if re then
            return re, o[1]
        end
    end
    local re = C.lunet_ffi_re_compile(regex, #regex, band(o[1], 7), o[2], errbuf, ERRBUF_SIZE)
    if re == nil then
        return nil, ffi_string(errbuf)
    end
    local ncap = (re.ncaptures + 1) * 2
    if ncap > caps_len then
        caps_len = ncap
        caps = ffi_new("int[?]", caps_len)
    end
    if cache then
        if not cache_max then
            cache_max = C.lunet_ffi_re_max_cache_entries()
        end
        if cache_entries < cache_max then
            cache_entries = cache_entries + 1
            re = ffi_gc(re, C.lunet_ffi_re_free)  -- freed when the VM closes
            cache[regex] = re
            return re, o[1]
        end
        if not cache_warned then
            cache_warned = true
            log_warn(fmt("lua exceeding regex cache max entries (%d)", cache_max))
        end
    end
    return ffi_gc(re, C.lunet_ffi_re_free), o[1]
end

-- As lua-resty-core, a subject that is not a string is matched as its
-- tostring().
local function check_subject(s)
    if type(s) ~= "string" then
        return tostring(s)
    end
    return s
end

local function exec(re, subj, pos)
    local rc = C.lunet_ffi_re_exec(re, subj, #subj, pos, caps, caps_len)
    return rc
end

local function exec_error(rc)
    return "pcre_exec() failed: " .. rc
end

local function collect(re, flags, subj, res)
    local n = re.ncaptures
    if band(flags, FLAG_DFA) ~= 0 then
        n = 0
    end
    if not res then
        res = new_tab(n, re.name_count)
    end
    for i = 0, n do
        local from = caps[2 * i]
        if from >= 0 then
            res[i] = sub(subj, from + 1, caps[2 * i + 1])
        else
            res[i] = false
        end
    end
    local names = re.name_count
    if names > 0 and n > 0 then
        local tbl = re.name_table
        local size = re.name_entry_size
        local dup = band(flags, FLAG_DUPNAMES) ~= 0
        for k = 0, names - 1 do
            local e = tbl + k * size
            local idx = e[0] * 256 + e[1]
            local name = ffi_string(e + 2)
            local cap = res[idx]
            if dup then
                if cap then
                    local old = res[name]
                    if old then
                        old[#old + 1] = cap
                    else
                        res[name] = { cap }
                    end
                end
            else
                res[name] = cap
            end
        end
    end
    return res
end

local function start_pos(ctx)
    if ctx then
        local pos = ctx.pos
        if pos then
            if pos < 1 then
                return 0
            end
            return pos - 1
        end
    end
    return 0
end

local function re_match(subj, regex, opts, ctx, res)
    subj = check_subject(subj)
    local re, flags = compile(regex, opts)
    if not re then
        return nil, flags
    end
    local pos = start_pos(ctx)
    local rc = exec(re, subj, pos)
    if rc == PCRE2_ERROR_NOMATCH then
        return nil
    end
    if rc < 0 then
        return nil, exec_error(rc)
    end
    if ctx then
        ctx.pos = caps[1] + 1
    end
    return collect(re, flags, subj, res)
end

local function re_find(subj, regex, opts, ctx, nth)
    subj = check_subject(subj)
    local re, flags = compile(regex, opts)
    if not re then
        return nil, nil, flags
    end
    local pos = start_pos(ctx)
    nth = nth or 0
    if type(nth) ~= "number" then
        error("bad nth argument", 2)
    end
    if nth < 0 then
        nth = 0
    end
    local rc = exec(re, subj, pos)
    if rc == PCRE2_ERROR_NOMATCH then
        return nil
    end
    if rc < 0 then
        return nil, nil, exec_error(rc)
    end
    if ctx then
        ctx.pos = caps[1] + 1
    end
    if nth > re.ncaptures or (band(flags, FLAG_DFA) ~= 0 and nth > 0) then
        return nil, nil, "nth out of bound"
    end
    local from = caps[2 * nth]
    if from < 0 then
        return nil, nil
    end
    return from + 1, caps[2 * nth + 1]
end

-- The byte length of the UTF-8 character starting at pos (0-based).
local function char_len(subj, pos, utf)
    if not utf then
        return 1
    end
    local c = byte(subj, pos + 1)
    if not c or c < 0xC0 then
        return 1
    elseif c < 0xE0 then
        return 2
    elseif c < 0xF0 then
        return 3
    end
    return 4
end

local function re_gmatch(subj, regex, opts)
    subj = check_subject(subj)
    local re, flags = compile(regex, opts)
    if not re then
        return nil, flags
    end
    local utf = band(flags, FLAG_UTF) ~= 0
    local pos = 0
    local done = false
    return function()
        if done then
            return nil
        end
        if pos > #subj then
            done = true
            return nil
        end
        local rc = exec(re, subj, pos)
        if rc == PCRE2_ERROR_NOMATCH then
            done = true
            return nil
        end
        if rc < 0 then
            done = true
            return nil, exec_error(rc)
        end
        local from, to = caps[0], caps[1]
        if from == to then
            pos = to + char_len(subj, to, utf)
        else
            pos = to
        end
        return collect(re, flags, subj)
    end
end

-- Replacement templates: "$0", "$1", "${12}", "$$". Compiled into an array
-- of strings and capture numbers.
local templates = new_tab(0, 16)
local ntemplates = 0

local function template_error(msg)
    require("ngx.errlog").raw_log(ngx.ERR, msg)
    return nil
end

-- "$name" / "${name}": lua-nginx-module's words for a template it refuses.
local function template_name_error(s, i)
    local name = s:match("^{?([%w_]+)", i)
    if name and not name:find("^%d") then
        return template_error('attempt to use named capturing variable "' .. name ..
                              '" (named captures not supported yet)')
    end
    return template_error('lua script: invalid capturing variable name found in "' ..
                          s .. '"')
end

local function compile_template(s)
    local t = templates[s]
    if t then
        return t
    end
    t = {}
    local i, n = 1, #s
    local lit_start = 1
    while i <= n do
        local c = byte(s, i)
        if c == 36 then -- $
            if i > lit_start then
                t[#t + 1] = sub(s, lit_start, i - 1)
            end
            local nc = byte(s, i + 1)
            if nc == 36 then
                t[#t + 1] = "$"
                i = i + 2
            elseif nc == 123 then -- {
                local _, e, d = find(s, "^{(%d+)", i + 1)
                if not e then
                    return template_name_error(s, i + 1)
                end
                if byte(s, e + 1) ~= 125 then
                    return template_error('the closing bracket in "' .. d ..
                                          '" variable is missing')
                end
                t[#t + 1] = tonumber(d)
                i = e + 2
            else
                local _, e, d = find(s, "^(%d+)", i + 1)
                if not e then
                    return template_name_error(s, i + 1)
                end
                t[#t + 1] = tonumber(d)
                i = e + 1
            end
            lit_start = i
        else
            i = i + 1
        end
    end
    if lit_start <= n then
        t[#t + 1] = sub(s, lit_start, n)
    end
    if ntemplates < 100 then
        ntemplates = ntemplates + 1
        templates[s] = t
    end
    return t
end

local function expand(t, subj, ncap, out, nout)
    for k = 1, #t do
        local p = t[k]
        if type(p) == "number" then
            if p <= ncap then
                local from = caps[2 * p]
                if from >= 0 then
                    nout = nout + 1
                    out[nout] = sub(subj, from + 1, caps[2 * p + 1])
                end
            end
        else
            nout = nout + 1
            out[nout] = p
        end
    end
    return nout
end

local function re_sub_helper(fname, subj, regex, replace, opts, global)
    subj = check_subject(subj)
    local template
    if type(replace) == "function" then
        template = false
    else
        template = compile_template(tostring(replace))
        if not template then
            return nil, nil, "failed to compile the replacement template"
        end
    end
    local re, flags = compile(regex, opts)
    if not re then
        return nil, nil, flags
    end
    local utf = band(flags, FLAG_UTF) ~= 0
    local ncap = re.ncaptures
    if band(flags, FLAG_DFA) ~= 0 then
        ncap = 0
    end
    local len = #subj
    local pos, copied = 0, 0
    local out, nout = nil, 0
    local count = 0
    while pos <= len do
        local rc = exec(re, subj, pos)
        if rc == PCRE2_ERROR_NOMATCH then
            break
        end
        if rc < 0 then
            return nil, nil, exec_error(rc)
        end
        count = count + 1
        local from, to = caps[0], caps[1]
        if not out then
            out = {}
        end
        if from > copied then
            nout = nout + 1
            out[nout] = sub(subj, copied + 1, from)
        end
        if template then
            nout = expand(template, subj, ncap, out, nout)
        else
            nout = nout + 1
            out[nout] = tostring(replace(collect(re, flags, subj)))
        end
        copied = to
        if not global then
            break
        end
        if from == to then
            local step = char_len(subj, to, utf)
            if to < len then
                nout = nout + 1
                out[nout] = sub(subj, to + 1, to + step)
            end
            copied = to + step
            pos = to + step
        else
            pos = to
        end
    end
    if count == 0 then
        return subj, 0
    end
    if copied < len then
        nout = nout + 1
        out[nout] = sub(subj, copied + 1)
    end
    return concat(out, "", 1, nout), count
end

local function re_sub(subj, regex, replace, opts)
    return re_sub_helper("sub", subj, regex, replace, opts, false)
end

local function re_gsub(subj, regex, replace, opts)
    return re_sub_helper("gsub", subj, regex, replace, opts, true)
end

local re = ngx.re
if type(re) ~= "table" then
    re = {}
    ngx.re = re
end
re.match = re_match
re.find = re_find
re.gmatch = re_gmatch
re.sub = re_sub
re.gsub = re_gsub

local _M = { version = base.version }

-- For lua/ngx/re.lua.
function _M.compile(regex, opts)
    return compile(regex, opts)
end

function _M.exec(re_, subj, pos)
    return exec(re_, subj, pos)
end

function _M.caps()
    return caps
end

function _M.collect(re_, flags, subj, res)
    return collect(re_, flags, subj, res)
end

function _M.utf(flags)
    return band(flags, FLAG_UTF) ~= 0
end

function _M.is_dfa(flags)
    return band(flags, FLAG_DFA) ~= 0
end

function _M.char_len(subj, pos, utf)
    return char_len(subj, pos, utf)
end

function _M.is_regex_cache_empty()
    return cache_entries == 0
end

function _M.set_jit_stack_size(size)
    if C.lunet_ffi_re_set_jit_stack_size(size, errbuf, ERRBUF_SIZE) ~= 0 then
        return nil, ffi_string(errbuf)
    end
    return true
end

return _M
