# Lunet only (part C of issue 12): no "no memory" from fragmentation, and
# free_space() tells the truth. OpenResty fails TEST 1: its slab keeps the
# freed 128-byte slots and has no page left for a 100 000-byte value.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: half the zone freed in small holes still takes a large value
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            local v = string.rep("v", 100)
            local n = 0
            while d:safe_set("key" .. n, v) do n = n + 1 end
            local full = d:free_space()
            for i = 0, n - 1, 2 do d:delete("key" .. i) end
            local half = d:free_space()
            ngx.say("filled ", n > 3000, ", free when full < 300: ", full < 300)
            ngx.say("free after deleting half > 400000: ", half > 400000)
            local ok, err = d:safe_set("big", string.rep("B", 100000))
            ngx.say("safe_set 100000: ", ok, " ", err)
            ngx.say(#d:get("big"), " ", d:get("key1") == v, " ", d:get("key0"))
        }
    }
--- request
GET /t
--- response_body
filled true, free when full < 300: true
free after deleting half > 400000: true
safe_set 100000: true nil
100000 true nil
--- no_error_log
[error]



=== TEST 2: a write whose key + value fit in free_space() succeeds, one byte more does not
--- http_config
    lua_shared_dict d 64k;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            for i = 1, 40 do d:set("x" .. i, string.rep("x", i * 7)) end
            for i = 1, 40, 3 do d:delete("x" .. i) end
            local free = d:free_space()
            local key = "exact"
            local ok, err = d:safe_set(key, string.rep("e", free - #key + 1))
            ngx.say("one byte more: ", ok, " ", err)
            ok, err = d:safe_set(key, string.rep("e", free - #key))
            ngx.say("exactly free_space: ", ok, " ", err, " ", d:free_space())
            ngx.say(#d:get(key) + #key == free)
            d:delete(key)
            ngx.say(d:free_space() == free)
        }
    }
--- request
GET /t
--- response_body
one byte more: false no memory
exactly free_space: true nil 0
true
true
--- no_error_log
[error]



=== TEST 3: free_space goes down and up with the items
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.d
            local empty = d:free_space()
            ngx.say(empty > 1000000 * 0.9, " ", empty < d:capacity())
            d:set("a", string.rep("a", 10000))
            local used = empty - d:free_space()
            ngx.say(used >= 10001, " ", used < 10001 + 256)
            d:delete("a")
            ngx.say(d:free_space() == empty)
        }
    }
--- request
GET /t
--- response_body
true true
true true
true
--- no_error_log
[error]
