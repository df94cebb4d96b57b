# ngx.shared.DICT: return values and error strings of the store/get/incr
# family, value types and flags, as lua-resty-core + lua-nginx-module give
# them. Passes against Debian's nginx + lua module too.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: set / get / add / replace / delete and their return values
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local function p(...)
                local o = {}
                for i = 1, select('#', ...) do o[#o + 1] = tostring((select(i, ...))) end
                ngx.say(table.concat(o, " "), " #", select('#', ...))
            end
            local d = ngx.shared.dogs
            p(d:set("a", 1))
            p(d:get("a"))
            p(d:safe_set("a", 2))
            p(d:get("a"))
            p(d:add("a", 3))
            p(d:safe_add("a", 3))
            p(d:add("b", "bee"))
            p(d:safe_add("c", "sea"))
            p(d:replace("a", "A"))
            p(d:get("a"))
            p(d:replace("zz", 1))
            p(d:get("zz"))
            p(d:delete("a"))
            p(d:get("a"))
            p(d:delete("never"))
            p(d:set("b", nil))
            p(d:get("b"))
            p(d:get("c"))
        }
    }
--- request
GET /t
--- response_body
true nil false #3
1 #1
true nil false #3
2 #1
false exists false #3
false exists false #3
true nil false #3
true nil false #3
true nil false #3
A #1
false not found false #3
nil #1
true nil false #3
nil #1
true nil false #3
true nil false #3
nil #1
sea #1
--- no_error_log
[error]



=== TEST 2: value types, flags, number keys
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            d:set("n", 3.25)
            d:set("t", true)
            d:set("f", false)
            d:set("s", "str", 0, 7)
            d:set("e", "")
            d:set(12, "twelve")
            local v, fl = d:get("n") ngx.say(type(v), " ", v, " ", fl)
            v, fl = d:get("t") ngx.say(type(v), " ", v, " ", fl)
            v, fl = d:get("f") ngx.say(type(v), " ", v, " ", fl)
            v, fl = d:get("s") ngx.say(type(v), " ", v, " ", fl)
            v, fl = d:get("e") ngx.say(type(v), " [", v, "] ", fl)
            ngx.say(d:get("12"), " ", d:get(12))
            d:set("n", 1, 0, 42)
            ngx.say(select(2, d:get("n")))
            d:set("n", 1)
            ngx.say(select('#', d:get("n")))
            ngx.say(d:set("bad", {}))
            ngx.say(d:set("bad", ngx.say))
            ngx.say(d:add("nilv", nil))
            ngx.say(d:replace("n", nil))
        }
    }
--- request
GET /t
--- response_body
number 3.25 nil
boolean true nil
boolean false nil
string str 7
string [] nil
twelve twelve
42
1
nilbad value type
nilbad value type
falseattempt to add or replace nil valuesfalse
falseattempt to add or replace nil valuesfalse
--- no_error_log
[error]



=== TEST 3: bad keys for every call
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            local long = string.rep("k", 65536)
            local calls = {
                {"get"}, {"get_stale"}, {"set", 1}, {"safe_set", 1}, {"add", 1},
                {"safe_add", 1}, {"replace", 1}, {"delete"}, {"incr", 1}, {"ttl"},
                {"expire", 1}, {"lpush", 1}, {"rpush", 1}, {"lpop"}, {"rpop"}, {"llen"},
            }
            for _, c in ipairs(calls) do
                local f = d[c[1]]
                local function call(k)
                    if c[2] ~= nil then return f(d, k, c[2]) end
                    return f(d, k)
                end
                local _, e1 = call(nil)
                local _, e2 = call("")
                local _, e3 = call(long)
                ngx.say(c[1], ": ", e1, ", ", e2, ", ", e3)
            end
            ngx.say(d:set(string.rep("k", 65535), "max"))
            ngx.say(d:get(string.rep("k", 65535)))
        }
    }
--- request
GET /t
--- response_body
get: nil key, empty key, key too long
get_stale: nil key, empty key, key too long
set: nil key, empty key, key too long
safe_set: nil key, empty key, key too long
add: nil key, empty key, key too long
safe_add: nil key, empty key, key too long
replace: nil key, empty key, key too long
delete: nil key, empty key, key too long
incr: nil key, empty key, key too long
ttl: nil key, empty key, key too long
expire: nil key, empty key, key too long
lpush: nil key, empty key, key too long
rpush: nil key, empty key, key too long
lpop: nil key, empty key, key too long
rpop: nil key, empty key, key too long
llen: nil key, empty key, key too long
truenilfalse
max
--- no_error_log
[error]



=== TEST 4: bad zone and bad arguments
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            local function e(f, ...)
                local ok, err = pcall(f, ...)
                ngx.say(ok, " ", err)
            end
            e(d.get, nil, "k")
            e(d.get, {}, "k")
            e(d.set, "x", "k", 1)
            e(d.incr, {}, "k", 1)
            e(d.capacity, nil)
            e(d.free_space, {})
            e(d.flush_all, 1)
            e(d.set, d, "k", 1, -1)
            e(d.add, d, "k", 1, -0.5)
            e(d.expire, d, "k")
            e(d.incr, d, "k", 1, "x")
            e(d.incr, d, "k", 1, 0, "y")
            e(d.incr, d, "k", 1, 0, -1)
            e(d.incr, d, "k", 1, nil, 1)
            e(d.lpush, d, "k")
            e(d.rpush, d, "k", 1, 2)
            e(d.lpop, d)
            e(d.rpop, d, "k", 1)
            e(d.llen, d)
            e(d.lpush, nil, "k", 1)
            e(d.get_keys, d, 1, 2)
            e(d.flush_expired, d, 1, 2)
            e(d.get_keys)
        }
    }
--- request
GET /t
--- response_body
false bad "zone" argument
false bad "zone" argument
false bad "zone" argument
false bad "zone" argument
false bad "zone" argument
false bad "zone" argument
false bad "zone" argument
false bad "exptime" argument
false bad "exptime" argument
false bad "exptime" argument
false bad init arg: number expected, got string
false bad init_ttl arg: number expected, got string
false bad "init_ttl" argument
false must provide "init" when providing "init_ttl"
false expecting 3 arguments, but only seen 2
false expecting 3 arguments, but only seen 4
false expecting 2 arguments, but only seen 1
false expecting 2 arguments, but only seen 3
false expecting 2 arguments, but only seen 1
false bad "zone" argument
false expecting 1 or 2 argument(s), but saw 3
false expecting 1 or 2 argument(s), but saw 3
false expecting 1 or 2 argument(s), but saw 0
--- no_error_log
[error]



=== TEST 5: incr with and without init, init_ttl, not a number
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local function p(...)
                local o = {}
                for i = 1, select('#', ...) do o[#o + 1] = tostring((select(i, ...))) end
                ngx.say(table.concat(o, " "), " #", select('#', ...))
            end
            local d = ngx.shared.dogs
            p(d:incr("c", 1))
            p(d:incr("c", 1, 10))
            p(d:incr("c", 2.5))
            p(d:incr("c", -1, 100))
            p(d:incr("c", "3"))
            d:set("s", "text")
            p(d:incr("s", 1))
            p(d:incr("s", 1, 0))
            d:set("b", true)
            p(d:incr("b", 1))
            p(d:incr("ttl", 1, 0, 0.5))
            p(d:ttl("ttl"))
            p(d:incr("ttl", 1, 0, 100))
            p(d:ttl("ttl"))
            d:set("f", 5, 0, 9)
            p(d:incr("f", 1))
            p(d:get("f"))
        }
    }
--- request
GET /t
--- response_body
nil not found #2
11 nil false #3
13.5 #1
12.5 nil false #3
15.5 #1
nil not a number #2
nil not a number #2
nil not a number #2
1 nil false #3
0.5 #1
2 nil false #3
0.5 #1
6 #1
6 9 #2
--- no_error_log
[error]



=== TEST 6: ngx.shared.NAME for unknown names, every dict its own
--- http_config
    lua_shared_dict dogs 1m;
    lua_shared_dict cats 16k;
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.shared.birds)
            ngx.shared.dogs:set("k", "dog")
            ngx.shared.cats:set("k", "cat")
            ngx.say(ngx.shared.dogs:get("k"), " ", ngx.shared.cats:get("k"))
            ngx.say(ngx.shared.dogs:capacity(), " ", ngx.shared.cats:capacity())
            ngx.say(type(ngx.shared.dogs:free_space()))
            local n = 0
            for name, dict in pairs(ngx.shared) do n = n + 1 end
            ngx.say(n)
        }
    }
--- request
GET /t
--- response_body
nil
dog cat
1048576 16384
number
2
--- no_error_log
[error]



=== TEST 7: long string values (larger than the string buffer)
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            for _, n in ipairs({4095, 4096, 4097, 10000, 200000, 100}) do
                local v = string.rep(string.char(65 + n % 26), n)
                d:set("k", v)
                local got = d:get("k")
                ngx.say(n, " ", #got, " ", got == v)
            end
            local v = string.rep("x", 50000)
            d:set("s", v, 0, 3)
            local got, flags, stale = d:get_stale("s")
            ngx.say(#got, " ", flags, " ", stale)
        }
    }
--- request
GET /t
--- response_body
4095 4095 true
4096 4096 true
4097 4097 true
10000 10000 true
200000 200000 true
100 100 true
50000 3 false
--- no_error_log
[error]



=== TEST 8: the dict works in init_by_lua, init_worker_by_lua and set_by_lua
--- http_config
    lua_shared_dict dogs 1m;
    init_by_lua_block {
        ngx.shared.dogs:set("init", "from init")
    }
    init_worker_by_lua_block {
        ngx.shared.dogs:incr("workers", 1, 0)
    }
--- config
    location /t {
        set_by_lua_block $v { return ngx.shared.dogs:get("init") }
        content_by_lua_block {
            ngx.say(ngx.var.v, " ", ngx.shared.dogs:get("workers"))
        }
    }
--- request
GET /t
--- response_body
from init 1
--- no_error_log
[error]
