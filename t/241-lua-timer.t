# ngx.timer.at / every / pending_count / running_count as lua-nginx-module
# has them: arguments, errors, phases, the timer context, limits. Every
# block passes against nginx + lua-nginx-module too.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: at(0) runs the callback with premature = false and its arguments
--- config
    location /t {
        content_by_lua_block {
            local ok, err = ngx.timer.at(0, function(premature, a, b, c)
                ngx.log(ngx.WARN, "timer: ", tostring(premature), " ", a, " ", b, " ", tostring(c),
                        " phase: ", ngx.get_phase())
            end, "x", 2, nil)
            ngx.say(not not ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
true nil
--- error_log eval
qr/\[warn\] .*timer: false x 2 nil phase: timer, context: ngx\.timer, client: 127\.0\.0\.1, server: /
--- no_error_log
[error]



=== TEST 2: argument errors, with lua-nginx-module's wording
--- config
    location /t {
        content_by_lua_block {
            local f = function() end
            for _, args in ipairs({ {}, {0}, {0, 1}, {"a", f}, {0, print} }) do
                local ok, err = pcall(ngx.timer.at, unpack(args, 1, table.maxn(args)))
                ngx.say(err)
            end
            ngx.say(select(2, pcall(ngx.timer.every, 0, f)))
            ngx.say(select(2, pcall(ngx.timer.every, 1)))
            ngx.say(ngx.timer.at("0", f) ~= nil)
        }
    }
--- request
GET /t
--- response_body
expecting at least 2 arguments but got 0
expecting at least 2 arguments but got 1
bad argument #2 to '?' (Lua function expected)
bad argument #1 to '?' (number expected, got string)
bad argument #2 to '?' (Lua function expected)
delay cannot be zero
expecting at least 2 arguments but got 1
true



=== TEST 3: a direct call names the function in the error
--- config
    location /t {
        content_by_lua_block { ngx.timer.at(0, "nope") }
    }
--- request
GET /t
--- error_code: 500
--- error_log
bad argument #2 to 'at' (Lua function expected)



=== TEST 4: a negative delay fires at once
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(-1, function() ngx.log(ngx.WARN, "negative fired") end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
negative fired



=== TEST 5: init_worker_by_lua starts a timer (no client in its log context)
--- http_config
    init_worker_by_lua_block {
        local ok, err = ngx.timer.at(0, function(premature)
            ngx.log(ngx.WARN, "from init_worker: ", tostring(premature))
        end)
        if not ok then ngx.log(ngx.ERR, "failed: ", err) end
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[warn\] .*from init_worker: false, context: ngx\.timer$/m
--- no_error_log
[error]



=== TEST 6: pending_count of a 3 s timer, running_count of a sleeping one
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(3, function() end)
            ngx.say("pending: ", ngx.timer.pending_count())
            ngx.timer.at(0, function() ngx.sleep(0.3) end)
            ngx.sleep(0.2)
            ngx.say("running: ", ngx.timer.running_count(), " pending: ", ngx.timer.pending_count())
        }
    }
--- request
GET /t
--- response_body
pending: 1
running: 1 pending: 1



=== TEST 7: timers from set_by_lua, header_filter, body_filter and log_by_lua
--- config
    location /t {
        set_by_lua_block $x {
            ngx.timer.at(0, function() ngx.log(ngx.WARN, "timer from set") end)
            return "1"
        }
        content_by_lua_block { ngx.say("ok") }
        header_filter_by_lua_block {
            ngx.timer.at(0, function() ngx.log(ngx.WARN, "timer from header_filter") end)
        }
        body_filter_by_lua_block {
            if ngx.arg[2] then
                ngx.timer.at(0, function() ngx.log(ngx.WARN, "timer from body_filter") end)
            end
        }
        log_by_lua_block {
            ngx.timer.at(0, function() ngx.log(ngx.WARN, "timer from log") end)
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
timer from set
timer from header_filter
timer from body_filter
timer from log
--- no_error_log
[error]



=== TEST 8: an error in a callback is logged like a request's and stops nothing
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function() local t = nil; return t.x end)
            ngx.timer.at(0.01, function() ngx.log(ngx.WARN, "second timer ran") end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
[qr/\[error\] .*lua entry thread aborted: runtime error: content_by_lua\(nginx\.conf:\d+\):2: attempt to index local 't' \(a nil value\)$/m,
"coroutine 0:",
qr/context: ngx\.timer, client: 127\.0\.0\.1, server: /,
"second timer ran"]



=== TEST 9: request APIs inside a timer raise OpenResty's two wordings
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                local function try(name, f)
                    local ok, err = pcall(f)
                    ngx.log(ngx.WARN, name, ": ", err)
                end
                try("say", function() ngx.say("x") end)
                try("print", function() ngx.print("x") end)
                try("read_body", function() ngx.req.read_body() end)
                try("var", function() return ngx.var.uri end)
                try("header", function() ngx.header.foo = "bar" end)
                try("get_headers", function() return ngx.req.get_headers() end)
            end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
[qr/say: .*API disabled in the context of ngx\.timer,/,
qr/print: .*API disabled in the context of ngx\.timer,/,
qr/read_body: .*API disabled in the context of ngx\.timer,/,
qr/var: .*API disabled in the current context,/,
qr/header: .*API disabled in the current context,/,
qr/get_headers: .*API disabled in the current context,/]



=== TEST 10: a timer has its own ngx.ctx; ngx.sleep works in it
--- config
    location /t {
        content_by_lua_block {
            ngx.ctx.owner = "request"
            ngx.timer.at(0, function()
                local before = tostring(ngx.ctx.owner)
                ngx.ctx.owner = "timer"
                ngx.sleep(0.01)
                ngx.log(ngx.WARN, "ctx: ", before, " -> ", ngx.ctx.owner)
            end)
            ngx.sleep(0.05)
            ngx.say(ngx.ctx.owner)
        }
    }
--- request
GET /t
--- response_body
request
--- error_log
ctx: nil -> timer



=== TEST 11: ngx.timer.at in init_by_lua raises "no request"
--- http_config
    init_by_lua_block {
        local ok, err = pcall(ngx.timer.at, 0, function() end)
        init_result = tostring(ok) .. " " .. err
    }
--- config
    location /t {
        content_by_lua_block { ngx.say(init_result) }
    }
--- request
GET /t
--- response_body
false no request



=== TEST 12: lua_max_pending_timers
--- http_config
    lua_max_pending_timers 2;
--- config
    location /t {
        content_by_lua_block {
            local f = function() end
            for i = 1, 3 do
                local ok, err = ngx.timer.at(10, f)
                ngx.say(i, ": ", not not ok, " ", err)
            end
        }
    }
--- request
GET /t
--- response_body
1: true nil
2: true nil
3: false too many pending timers



=== TEST 13: lua_max_running_timers drops a run with an alert
--- http_config
    lua_max_running_timers 1;
--- config
    location /t {
        content_by_lua_block {
            local function slow() ngx.sleep(0.1) end
            ngx.timer.at(0, slow)
            ngx.timer.at(0.01, slow)
            ngx.sleep(0.2)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[alert\] .*lua failed to run timer with function defined at =content_by_lua\(nginx\.conf:\d+\):2: 1 lua_max_running_timers are not enough/



=== TEST 14: every is re-armed at expiry, so slow runs overlap; errors do not stop it
--- config
    location /t {
        content_by_lua_block {
            local runs, max = 0, 0
            local ok, err = ngx.timer.every(0.05, function()
                runs = runs + 1
                local n = ngx.timer.running_count()
                if n > max then max = n end
                local r = runs
                ngx.sleep(0.12)
                if r == 1 then error("first run fails") end
            end)
            ngx.sleep(0.5)
            ngx.say("overlap: ", max > 1, " runs after the error: ", runs > 3)
        }
    }
--- request
GET /t
--- response_body
overlap: true runs after the error: true
--- error_log
first run fails



=== TEST 15: 10 000 pending timers
--- http_config
    lua_max_pending_timers 20000;
--- config
    location /t {
        content_by_lua_block {
            local f = function() end
            for i = 1, 10000 do
                local ok, err = ngx.timer.at(3600 + i, f)
                if not ok then ngx.say("failed at ", i, ": ", err) return end
            end
            ngx.say(ngx.timer.pending_count())
        }
    }
--- request
GET /t
--- response_body
10000



=== TEST 16: the debug lines tests grep for
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function() end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
lua ngx.timer expired
http lua close fake http connection



=== TEST 17: ngx.exit ends a timer's callback
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                ngx.log(ngx.WARN, "before exit")
                ngx.exit(0)
                ngx.log(ngx.WARN, "after exit")
            end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
before exit
--- no_error_log
after exit
[error]



=== TEST 18: zero-delay timers fire while the request loops on ngx.sleep(0)
--- config
    location /t {
        content_by_lua_block {
            local N, fired = 1000, 0
            local f = function() fired = fired + 1 end
            for i = 1, N do assert(ngx.timer.at(0, f)) end
            local loops = 0
            while fired < N and loops < 100000 do
                ngx.sleep(0)
                loops = loops + 1
            end
            ngx.say(fired, " fired, pending ", ngx.timer.pending_count())
        }
    }
--- request
GET /t
--- response_body
1000 fired, pending 0
