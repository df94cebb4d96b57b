# Lists in a shared dict: lpush / rpush / lpop / rpop / llen, their errors
# and interaction with the other value types. Passes against Debian's nginx.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: push and pop at both ends
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            ngx.say(d:rpush("l", "b"))
            ngx.say(d:rpush("l", 3))
            ngx.say(d:lpush("l", "a"))
            ngx.say(d:lpush("l", 0.5))
            ngx.say(d:llen("l"))
            ngx.say(d:lpop("l"), " ", type(d:lpop("l")))
            ngx.say(d:rpop("l"), " ", d:rpop("l"))
            ngx.say(d:llen("l"))
            ngx.say(d:lpop("l"), " ", d:rpop("l"))
            ngx.say(d:get("l"))
            ngx.say(d:llen("never"))
        }
    }
--- request
GET /t
--- response_body
1
2
3
4
4
0.5 string
3 b
0
nil nil
nil
0
--- no_error_log
[error]



=== TEST 2: a list is not a value, a value is not a list
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            d:set("v", "scalar")
            ngx.say(d:lpush("v", 1))
            ngx.say(d:rpush("v", 1))
            ngx.say(d:lpop("v"))
            ngx.say(d:rpop("v"))
            ngx.say(d:llen("v"))
            d:rpush("l", "x")
            ngx.say(d:get("l"))
            ngx.say(d:get_stale("l"))
            ngx.say(d:incr("l", 1))
            ngx.say(d:incr("l", 1, 0))
            ngx.say(d:lpush("l", {}))
            ngx.say(d:lpush("l", true))
            ngx.say(d:lpush("l", nil))
            -- set replaces a list; a list replaces an expired value
            ngx.say(d:set("l", "now scalar"))
            ngx.say(d:get("l"))
            d:set("e", 1, 0.001)
            ngx.sleep(0.01)
            ngx.say(d:rpush("e", "y"))
            ngx.say(d:lpop("e"))
            ngx.say(d:ttl("v"))
        }
    }
--- request
GET /t
--- response_body
nilvalue not a list
nilvalue not a list
nilvalue not a list
nilvalue not a list
nilvalue not a list
nilvalue is a list
nilvalue is a list
nilnot a number
nilnot a number
nilbad value type
nilbad value type
nilbad value type
truenilfalse
now scalar
1
y
0
--- no_error_log
[error]



=== TEST 3: a queue: many rpush then lpop, order kept
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            for i = 1, 500 do d:rpush("q", "item" .. i) end
            ngx.say(d:llen("q"))
            local ok = true
            for i = 1, 250 do if d:lpop("q") ~= "item" .. i then ok = false end end
            for i = 500, 400, -1 do if d:rpop("q") ~= "item" .. i then ok = false end end
            ngx.say(ok, " ", d:llen("q"))
            for i = 1, 149 do d:lpop("q") end
            ngx.say(d:llen("q"), " ", d:lpop("q"))
        }
    }
--- request
GET /t
--- response_body
500
true 149
0 nil
--- no_error_log
[error]



=== TEST 4: lists expire and flush like other items
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            d:rpush("l", 1)
            d:rpush("l", 2)
            ngx.say(d:expire("l", 0.001))
            ngx.sleep(0.01)
            ngx.say(d:llen("l"), " ", d:lpop("l"))
            d:rpush("m", 1)
            d:flush_all()
            ngx.say(d:llen("m"))
            d:flush_expired()
            ngx.say(#d:get_keys(0), " ", d:get_stale("m"))
        }
    }
--- request
GET /t
--- response_body
true
0 nil
0
0 nil
--- no_error_log
[error]
