# ngx.sleep in every yieldable phase; user coroutines inside handlers.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: sleep in rewrite, access and content
--- config
    location /t {
        rewrite_by_lua_block { ngx.sleep(0.01) ngx.ctx.r = true }
        access_by_lua_block { ngx.sleep(0.01) ngx.ctx.a = true }
        content_by_lua_block {
            local t0 = ngx.now()
            ngx.sleep(0.05)
            ngx.update_time()
            ngx.say(ngx.ctx.r, " ", ngx.ctx.a, " ", ngx.now() - t0 >= 0.04)
        }
    }
--- request
GET /t
--- response_body
true true true



=== TEST 2: sleep(0) yields and comes back
--- config
    location /t {
        content_by_lua_block {
            ngx.sleep(0)
            ngx.say("back")
        }
    }
--- request
GET /t
--- response_body
back



=== TEST 3: output across sleeps
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 3 do
                ngx.say(i)
                ngx.flush(true)
                ngx.sleep(0.01)
            end
        }
    }
--- request
GET /t
--- response_body
1
2
3



=== TEST 4: invalid sleep duration
--- config
    location /t {
        content_by_lua_block { ngx.sleep(-1) }
    }
--- request
GET /t
--- error_code: 500
--- error_log
invalid sleep duration "-1000"



=== TEST 5: sleep is disabled in log_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        log_by_lua_block { ngx.sleep(0.01) }
    }
--- request
GET /t
--- response_body
ok
--- error_log
API disabled in the context of log_by_lua*



=== TEST 6: sleep inside a user coroutine suspends the request, not the worker
--- config
    location /t {
        content_by_lua_block {
            local co = coroutine.create(function(a)
                ngx.sleep(0.01)
                local b = coroutine.yield(a + 1)
                ngx.sleep(0.01)
                return b * 2
            end)
            local ok1, v1 = coroutine.resume(co, 1)
            local ok2, v2 = coroutine.resume(co, 10)
            ngx.say(ok1, " ", v1, " ", ok2, " ", v2, " ", coroutine.status(co))
        }
    }
--- request
GET /t
--- response_body
true 2 true 20 dead



=== TEST 7: coroutine.wrap generators and nested coroutines
--- config
    location /t {
        content_by_lua_block {
            local function gen(n)
                return coroutine.wrap(function()
                    for i = 1, n do coroutine.yield(i) end
                end)
            end
            local outer = coroutine.wrap(function()
                for v in gen(3) do
                    ngx.sleep(0.001)
                    coroutine.yield(v * 10)
                end
            end)
            ngx.say(outer(), " ", outer(), " ", outer())
        }
    }
--- request
GET /t
--- response_body
10 20 30



=== TEST 8: coroutine status values
--- config
    location /t {
        content_by_lua_block {
            local main_co = coroutine.running()
            local co
            co = coroutine.create(function()
                ngx.say("inner: ", coroutine.status(co))
                coroutine.yield()
            end)
            ngx.say("before: ", coroutine.status(co))
            coroutine.resume(co)
            ngx.say("yielded: ", coroutine.status(co))
            coroutine.resume(co)
            ngx.say("after: ", coroutine.status(co))
            ngx.say(coroutine.resume(co))
        }
    }
--- request
GET /t
--- response_body
before: suspended
inner: running
yielded: suspended
after: dead
falsecannot resume dead coroutine



=== TEST 9: errors in user coroutines go to coroutine.resume
--- config
    location /t {
        content_by_lua_block {
            local co = coroutine.create(function() error("oops") end)
            local ok, err = coroutine.resume(co)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body eval
qr/^false content_by_lua\(nginx.conf:\d+\):2: oops\n$/



=== TEST 10: ngx.exit inside a user coroutine ends the request
--- config
    location /t {
        content_by_lua_block {
            local co = coroutine.wrap(function()
                ngx.say("in co")
                ngx.exit(200)
            end)
            co()
            ngx.say("not reached")
        }
    }
--- request
GET /t
--- response_body
in co



=== TEST 11: the client going away while a request sleeps
--- config
    location /t {
        content_by_lua_block {
            ngx.sleep(0.3)
            ngx.say("late")
        }
    }
    location /ok {
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- timeout: 0.1
--- abort
--- ignore_response
--- no_error_log
[alert]
[crit]



=== TEST 12: resume waits for the sleeping coroutine
--- config
    location /t {
        content_by_lua_block {
            local order = {}
            local a = coroutine.create(function() ngx.sleep(0.02) order[#order + 1] = "a" end)
            coroutine.resume(a)
            ngx.sleep(0.01)
            order[#order + 1] = "main"
            coroutine.resume(a)
            ngx.say(table.concat(order, ","))
        }
    }
--- request
GET /t
--- response_body
a,main
