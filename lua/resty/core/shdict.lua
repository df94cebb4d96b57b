-- ngx.shared.DICT hot paths through LuaJIT FFI (lua-resty-core's module
-- name and behaviour: return values, error strings, argument errors). The
-- list functions, get_keys and flush_expired are C functions already in
-- the shared methods table (src/lua/api_shdict.cc).
local ffi = require "ffi"
local base = require "resty.core.base"

local C = ffi.C
local ffi_new = ffi.new
local ffi_str = ffi.string
local get_string_buf = base.get_string_buf
local get_string_buf_size = base.get_string_buf_size
local tonumber = tonumber
local tostring = tostring
local type = type
local error = error

ffi.cdef [[
int lunet_ffi_shdict_get(void *zone, const unsigned char *key, size_t key_len,
    int *value_type, char *buf, size_t *value_len, double *num_value,
    int *user_flags, int get_stale, int *is_stale, const char **err);
int lunet_ffi_shdict_store(void *zone, int op, const unsigned char *key,
    size_t key_len, int value_type, const unsigned char *str, size_t str_len,
    double num, long exptime, int user_flags, const char **err, int *forcible);
int lunet_ffi_shdict_incr(void *zone, const unsigned char *key, size_t key_len,
    double *value, const char **err, int has_init, double init, long init_ttl,
    int *forcible);
int lunet_ffi_shdict_flush_all(void *zone);
long lunet_ffi_shdict_get_ttl(void *zone, const unsigned char *key,
    size_t key_len);
int lunet_ffi_shdict_set_expire(void *zone, const unsigned char *key,
    size_t key_len, long exptime);
size_t lunet_ffi_shdict_capacity(void *zone);
size_t lunet_ffi_shdict_free_space(void *zone);
]]

local FFI_OK = 0
local FFI_AGAIN = -2
local FFI_DECLINED = -5

local value_type = ffi_new("int[1]")
local user_flags = ffi_new("int[1]")
local num_value = ffi_new("double[1]")
local is_stale = ffi_new("int[1]")
local forcible = ffi_new("int[1]")
local value_len = ffi_new("size_t[1]")
local errmsg = ffi_new("const char *[1]")
local char_buf = ffi.typeof("char[?]")
-- Grown on demand for values larger than the shared string buffer, then kept.
local big_buf, big_size = nil, 0

-- dict table -> its zone as a cdata pointer: the JIT cannot pass a light
-- userdata to a C function, so it is converted once per dict.
local zone_ptrs = setmetatable({}, { __mode = "k" })
local void_ptr = ffi.typeof("void *")

local function check_zone(zone)
    local ptr = zone_ptrs[zone]
    if ptr then
        return ptr
    end
    if not zone or type(zone) ~= "table" then
        error("bad \"zone\" argument", 3)
    end
    local ud = zone[1]
    if type(ud) ~= "userdata" then
        error("bad \"zone\" argument", 3)
    end
    ptr = ffi.cast(void_ptr, ud)
    zone_ptrs[zone] = ptr
    return ptr
end

-- nil when the key is fine, else the error string.
local function key_error(key)
    local n = #key
    if n == 0 then
        return "empty key"
    end
    if n > 65535 then
        return "key too long"
    end
    return nil
end

local function store(zone, op, key, value, exptime, flags)
    zone = check_zone(zone)
    if not exptime then
        exptime = 0
    elseif exptime < 0 then
        error('bad "exptime" argument', 2)
    end
    if not flags then
        flags = 0
    end
    if key == nil then
        return nil, "nil key"
    end
    if type(key) ~= "string" then
        key = tostring(key)
    end
    local kerr = key_error(key)
    if kerr then
        return nil, kerr
    end

    local str, str_len, num = nil, 0, 0
    local t = type(value)
    local typ
    if t == "string" then
        typ, str, str_len = 4, value, #value
    elseif t == "number" then
        typ, num = 3, value
    elseif value == nil then
        typ = 0
    elseif t == "boolean" then
        typ, num = 1, value and 1 or 0
    else
        return nil, "bad value type"
    end

    local rc = C.lunet_ffi_shdict_store(zone, op, key, #key, typ, str, str_len,
                                        num, exptime * 1000, flags, errmsg,
                                        forcible)
    if rc == FFI_OK then
        return true, nil, forcible[0] == 1
    end
    return false, ffi_str(errmsg[0]), forcible[0] == 1
end

local function set(zone, key, value, exptime, flags)
    return store(zone, 0, key, value, exptime, flags)
end

local function safe_set(zone, key, value, exptime, flags)
    return store(zone, 4, key, value, exptime, flags)
end

local function add(zone, key, value, exptime, flags)
    return store(zone, 1, key, value, exptime, flags)
end

local function safe_add(zone, key, value, exptime, flags)
    return store(zone, 5, key, value, exptime, flags)
end

local function replace(zone, key, value, exptime, flags)
    return store(zone, 2, key, value, exptime, flags)
end

local function delete(zone, key)
    return store(zone, 0, key, nil)
end

local function get_helper(zone, key, stale)
    zone = check_zone(zone)
    if key == nil then
        return nil, "nil key"
    end
    if type(key) ~= "string" then
        key = tostring(key)
    end
    local kerr = key_error(key)
    if kerr then
        return nil, kerr
    end

    local size = get_string_buf_size()
    local buf = get_string_buf(size)
    value_len[0] = size
    local rc = C.lunet_ffi_shdict_get(zone, key, #key, value_type, buf,
                                      value_len, num_value, user_flags, stale,
                                      is_stale, errmsg)
    while rc == FFI_AGAIN do
        -- the string is longer than the buffer: value_len says how long
        local need = tonumber(value_len[0])
        if need > big_size then
            big_size = need
            big_buf = ffi_new(char_buf, need)
        end
        buf = big_buf
        value_len[0] = big_size
        rc = C.lunet_ffi_shdict_get(zone, key, #key, value_type, buf,
                                    value_len, num_value, user_flags, stale,
                                    is_stale, errmsg)
    end
    if rc ~= FFI_OK then
        if errmsg[0] ~= nil then
            return nil, ffi_str(errmsg[0])
        end
        error("failed to get the key")
    end

    local typ = value_type[0]
    if typ == 0 then
        return nil
    end
    local val
    if typ == 4 then
        val = ffi_str(buf, value_len[0])
    elseif typ == 3 then
        val = tonumber(num_value[0])
    elseif typ == 1 then
        val = buf[0] ~= 0
    else
        error("unknown value type: " .. typ)
    end
    local flags = tonumber(user_flags[0])
    if stale == 1 then
        if flags ~= 0 then
            return val, flags, is_stale[0] == 1
        end
        return val, nil, is_stale[0] == 1
    end
    if flags ~= 0 then
        return val, flags
    end
    return val
end

local function get(zone, key)
    return get_helper(zone, key, 0)
end

local function get_stale(zone, key)
    return get_helper(zone, key, 1)
end

local function incr(zone, key, value, init, init_ttl)
    zone = check_zone(zone)
    if key == nil then
        return nil, "nil key"
    end
    if type(key) ~= "string" then
        key = tostring(key)
    end
    local kerr = key_error(key)
    if kerr then
        return nil, kerr
    end
    if type(value) ~= "number" then
        value = tonumber(value)
    end
    num_value[0] = value

    if init then
        local t = type(init)
        if t ~= "number" then
            init = tonumber(init)
            if not init then
                error("bad init arg: number expected, got " .. t, 2)
            end
        end
    end
    if init_ttl ~= nil then
        local t = type(init_ttl)
        if t ~= "number" then
            init_ttl = tonumber(init_ttl)
            if not init_ttl then
                error("bad init_ttl arg: number expected, got " .. t, 2)
            end
        end
        if init_ttl < 0 then
            error('bad "init_ttl" argument', 2)
        end
        if not init then
            error('must provide "init" when providing "init_ttl"', 2)
        end
    else
        init_ttl = 0
    end

    local rc = C.lunet_ffi_shdict_incr(zone, key, #key, num_value, errmsg,
                                       init and 1 or 0, init or 0,
                                       init_ttl * 1000, forcible)
    if rc ~= FFI_OK then
        return nil, ffi_str(errmsg[0])
    end
    if not init then
        return tonumber(num_value[0])
    end
    return tonumber(num_value[0]), nil, forcible[0] == 1
end

local function flush_all(zone)
    zone = check_zone(zone)
    C.lunet_ffi_shdict_flush_all(zone)
end

local function ttl(zone, key)
    zone = check_zone(zone)
    if key == nil then
        return nil, "nil key"
    end
    if type(key) ~= "string" then
        key = tostring(key)
    end
    local kerr = key_error(key)
    if kerr then
        return nil, kerr
    end
    local rc = C.lunet_ffi_shdict_get_ttl(zone, key, #key)
    if rc == FFI_DECLINED then
        return nil, "not found"
    end
    return tonumber(rc) / 1000
end

local function expire(zone, key, exptime)
    zone = check_zone(zone)
    if not exptime then
        error('bad "exptime" argument', 2)
    end
    if key == nil then
        return nil, "nil key"
    end
    if type(key) ~= "string" then
        key = tostring(key)
    end
    local kerr = key_error(key)
    if kerr then
        return nil, kerr
    end
    local rc = C.lunet_ffi_shdict_set_expire(zone, key, #key, exptime * 1000)
    if rc == FFI_DECLINED then
        return nil, "not found"
    end
    return true
end

local function capacity(zone)
    zone = check_zone(zone)
    return tonumber(C.lunet_ffi_shdict_capacity(zone))
end

local function free_space(zone)
    zone = check_zone(zone)
    return tonumber(C.lunet_ffi_shdict_free_space(zone))
end

local methods = debug.getregistry()["lunet.shdict.methods"]
if methods then
    methods.get = get
    methods.get_stale = get_stale
    methods.set = set
    methods.safe_set = safe_set
    methods.add = add
    methods.safe_add = safe_add
    methods.replace = replace
    methods.delete = delete
    methods.incr = incr
    methods.flush_all = flush_all
    methods.ttl = ttl
    methods.expire = expire
    methods.capacity = capacity
    methods.free_space = free_space
end

return {
    version = base.version,
}
