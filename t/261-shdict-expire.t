# Expiry: exptime in seconds with millisecond resolution, expired items
# invisible to get but seen by get_stale, ttl / expire, flush_all (marks)
# and flush_expired (frees), get_keys. Passes against Debian's nginx too.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: expired items are invisible to get, get_stale sees them
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            d:set("short", "v", 0.001, 5)
            d:set("long", "w", 100)
            d:set("never", "x")
            ngx.sleep(0.01)
            -- get_stale first: nginx reclaims expired items on other calls
            ngx.say(d:get_stale("short"))
            ngx.say(d:get("short"))
            ngx.say(d:get("long"), " ", d:get("never"))
            ngx.say(d:get_stale("long"))
            ngx.say(d:add("short", "again"))
            ngx.say(d:get("short"))
            d:set("r", 1, 0.001)
            ngx.sleep(0.01)
            ngx.say(d:replace("r", 2))
            ngx.say(d:incr("r", 1))
            ngx.say(d:incr("r", 1, 40))
        }
    }
--- request
GET /t
--- response_body
v5true
nil
w x
wnilfalse
truenilfalse
again
falsenot foundfalse
nilnot found
41nilfalse
--- no_error_log
[error]



=== TEST 2: ttl and expire
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            d:set("a", 1, 2.5)
            d:set("b", 1)
            ngx.say(d:ttl("a"), " ", d:ttl("b"))
            ngx.say(d:ttl("none"))
            ngx.say(d:expire("b", 1.25))
            ngx.say(d:ttl("b"))
            ngx.say(d:expire("a", 0))
            ngx.say(d:ttl("a"))
            ngx.say(d:expire("none", 1))
            d:set("gone", 1, 0.001)
            ngx.sleep(0.05)
            ngx.say(d:ttl("gone") < 0)
            -- an expired item can be given a new lease
            ngx.say(d:expire("gone", 10))
            ngx.say(d:get("gone"))
        }
    }
--- request
GET /t
--- response_body
2.5 0
nilnot found
true
1.25
true
0
nilnot found
true
true
1
--- no_error_log
[error]



=== TEST 3: flush_all hides everything, flush_expired frees what expired
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            for i = 1, 10 do d:set("k" .. i, i) end
            d:flush_all()
            local seen = 0
            for i = 1, 10 do if d:get("k" .. i) ~= nil then seen = seen + 1 end end
            ngx.say("visible after flush_all: ", seen)
            ngx.say("keys: ", #d:get_keys())
            ngx.say("add works: ", (d:add("k1", "new")))
            ngx.say(d:get("k1"))
            d:flush_all()
            d:flush_expired()
            ngx.say("stale after flush_expired: ", d:get_stale("k2"), " ", d:get_stale("k1"))
            ngx.say("freed again: ", d:flush_expired())
            for i = 1, 10 do d:set("e" .. i, i, 0.001) end
            d:set("keep", 1)
            ngx.sleep(0.01)
            ngx.say("freed 3: ", d:flush_expired(3))
            ngx.say("freed rest: ", d:flush_expired(0))
            ngx.say(d:get("keep"))
        }
    }
--- request
GET /t
--- response_body
visible after flush_all: 0
keys: 0
add works: true
new
stale after flush_expired: nil nil
freed again: 0
freed 3: 3
freed rest: 7
1
--- no_error_log
[error]



=== TEST 4: get_keys: default 1024, a limit, 0 for all, expired left out
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            for i = 1, 2000 do d:set("k" .. i, i) end
            d:set("old", 1, 0.001)
            ngx.sleep(0.01)
            ngx.say(#d:get_keys())
            ngx.say(#d:get_keys(10))
            ngx.say(#d:get_keys(0))
            d:flush_all()
            for i = 1, 3 do d:set("n" .. i, i) end
            local keys = d:get_keys(0)
            table.sort(keys)
            ngx.say(table.concat(keys, " "))
        }
    }
--- request
GET /t
--- response_body
1024
10
2000
n1 n2 n3
--- no_error_log
[error]



=== TEST 5: millisecond resolution
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            ngx.update_time()
            local t0 = ngx.now()
            d:set("a", 1, 0.3)
            ngx.sleep(0.1)
            ngx.update_time()
            local elapsed = ngx.now() - t0
            local ttl = d:ttl("a")
            if elapsed < 0.29 then
                -- ttl counts down with the clock, to the millisecond
                ngx.say(math.abs(ttl - (0.3 - elapsed)) <= 0.002, " ", d:get("a"))
            else
                ngx.say(ttl <= 0.01, " ", d:get("a") == nil and 1 or "late")  -- a slow machine
            end
            ngx.sleep(0.35)
            ngx.say(d:get("a"))
        }
    }
--- request
GET /t
--- response_body
true 1
nil
--- no_error_log
[error]
