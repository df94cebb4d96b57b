# A full dict: unsafe writes evict least-recently-used items and say so
# (forcible), safe_* answer "no memory" and evict nothing. Passes against
# Debian's nginx + lua module too.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: set evicts the oldest items when full, with forcible = true
--- http_config
    lua_shared_dict small 64k;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.small
            local v = string.rep("v", 200)
            local i, ok, err, forcible = 0
            repeat
                i = i + 1
                ok, err, forcible = d:set("k" .. i, v)
            until forcible or i > 100000
            ngx.say(ok, " ", err, " ", forcible, " ", i > 50)
            ngx.say(d:get("k1"), " ", #d:get("k" .. i), " ", #d:get("k" .. (i - 1)))
            ok, err, forcible = d:set("k" .. (i + 1), v)
            ngx.say(ok, " ", forcible)
        }
    }
--- request
GET /t
--- response_body
true nil true true
nil 200 200
true true
--- no_error_log
[error]



=== TEST 2: safe_set and safe_add say "no memory"; a read keeps an item from eviction
--- http_config
    lua_shared_dict small 64k;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.small
            local v = string.rep("v", 200)
            local n = 0
            while true do
                local ok, err = d:safe_set("k" .. (n + 1), v)
                if not ok then
                    ngx.say("safe_set: ", err)
                    break
                end
                n = n + 1
            end
            ngx.say(d:get("k" .. (n + 1)))
            local ok, err, f = d:safe_add("other", v)
            ngx.say("safe_add: ", ok, " ", err, " ", f)
            ngx.say("all kept: ", d:get("k1") ~= nil and d:get("k" .. n) ~= nil)
            -- k1 was just read: the next eviction takes k2
            ok, err, f = d:set("new", v)
            ngx.say("set: ", ok, " ", err, " ", f)
            ngx.say(d:get("k1") ~= nil, " ", d:get("k2"), " ", d:get("new") ~= nil)
            local v2, err2, f2 = d:incr("counter", 1, 0)
            ngx.say("incr: ", v2, " ", err2, " ", f2)
        }
    }
--- request
GET /t
--- response_body
safe_set: no memory
nil
safe_add: false no memory false
all kept: true
set: true nil true
true nil true
incr: 1 nil false
--- no_error_log
[error]



=== TEST 3: a value larger than the dict
--- http_config
    lua_shared_dict small 64k;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.small
            d:set("keep", 1)
            local ok, err = d:set("huge", string.rep("x", 200 * 1024))
            ngx.say(ok, " ", err)
            ok, err = d:safe_set("huge", string.rep("x", 200 * 1024))
            ngx.say(ok, " ", err)
            ngx.say(d:get("huge"))
        }
    }
--- request
GET /t
--- response_body
false no memory
false no memory
nil
--- no_error_log
[error]
