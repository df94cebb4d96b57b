# Lunet only: require "lunet.shdict" — stats(name) and check(name), and
# what they show: reads take no lock, writes one each; evictions and
# reclaimed expired items are counted.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: stats of a fresh dict, an unknown name, check
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local shdict = require "lunet.shdict"
            local st = shdict.stats("d")
            ngx.say(st.items, " ", st.bytes_used, " ", st.evictions, " ", st.expired_reclaimed,
                    " ", st.repairs, " ", st.capacity, " ", st.free_space == ngx.shared.d:free_space())
            ngx.say(shdict.stats("nope"))
            ngx.say(shdict.check("d"))
            ngx.say(shdict.check("nope"))
            ngx.shared.d:set("a", string.rep("x", 1000))
            st = shdict.stats("d")
            ngx.say(st.items, " ", st.bytes_used >= 1001, " ", st.free_blocks < st.blocks)
        }
    }
--- request
GET /t
--- response_body
0 0 0 0 0 1048576 true
nilnot found
true
nilnot found
1 true true
--- no_error_log
[error]



=== TEST 2: gets take no lock; each write takes one
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local shdict = require "lunet.shdict"
            local d = ngx.shared.d
            d:set("k", "v")
            d:set("n", 1)
            local l0 = shdict.stats("d").locks
            for i = 1, 1000 do
                d:get("k")
                d:get("n")
                d:get("missing")
                d:get_stale("k")
            end
            local l1 = shdict.stats("d").locks
            for i = 1, 1000 do d:incr("n", 1) end
            local l2 = shdict.stats("d").locks
            ngx.say(l1 - l0, " ", l2 - l1)
        }
    }
--- request
GET /t
--- response_body
0 1000
--- no_error_log
[error]



=== TEST 3: evictions and reclaimed expired items are counted
--- http_config
    lua_shared_dict d 64k;
--- config
    location /t {
        content_by_lua_block {
            local shdict = require "lunet.shdict"
            local d = ngx.shared.d
            for i = 1, 10 do d:set("e" .. i, i, 0.001) end
            ngx.sleep(0.01)
            ngx.say(d:flush_expired())
            local st = shdict.stats("d")
            ngx.say(st.expired_reclaimed, " ", st.evictions)
            local forced = 0
            for i = 1, 2000 do
                local ok, err, f = d:set("k" .. i, string.rep("v", 200))
                if f then forced = forced + 1 end
            end
            st = shdict.stats("d")
            ngx.say(forced > 0, " ", st.evictions >= forced, " ", st.items < 2000)
            ngx.say(shdict.check("d"))
        }
    }
--- request
GET /t
--- response_body
10
10 0
true true true
true
--- no_error_log
[error]



=== TEST 4: get_keys, flush_all and flush_expired on a big dict take the lock in slices
--- http_config
    lua_shared_dict d 8m;
--- config
    location /t {
        content_by_lua_block {
            local shdict = require "lunet.shdict"
            local d = ngx.shared.d
            for i = 1, 20000 do d:set("k" .. i, i, i % 2 == 0 and 0.001 or 0) end
            ngx.sleep(0.01)
            local st = shdict.stats("d")
            local slices = math.ceil(st.buckets / st.slice_buckets)
            ngx.say("slices > 10: ", slices > 10)
            local l0 = shdict.stats("d").locks
            ngx.say(#d:get_keys(0))
            local l1 = shdict.stats("d").locks
            ngx.say(d:flush_expired())
            local l2 = shdict.stats("d").locks
            d:flush_all()
            local l3 = shdict.stats("d").locks
            ngx.say(l1 - l0 == slices, " ", l2 - l1 == slices, " ", l3 - l2 == slices)
            ngx.say(#d:get_keys(0), " ", shdict.check("d"))
        }
    }
--- request
GET /t
--- response_body
slices > 10: true
10000
10000
true true true
0 true
--- no_error_log
[error]
