# A Lua error in each phase; phase rules ("API disabled in the context of").
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: runtime error in content_by_lua
--- config
    location /t {
        content_by_lua_block {
            local a = nil
            error("boom")
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log eval
[qr/lua entry thread aborted: runtime error: content_by_lua\(nginx.conf:\d+\):3: boom/,
 "stack traceback:",
 "in function 'error'"]



=== TEST 2: the worker survives an error
--- config
    location /t {
        content_by_lua_block {
            local pid = ngx.worker.pid()
            package.loaded.last_pid = package.loaded.last_pid or pid
            if ngx.var.arg_fail then error("x") end
            ngx.say(package.loaded.last_pid == pid)
        }
    }
--- pipelined_requests eval
["GET /t", "GET /t?fail=1"]
--- error_code eval
[200, 500]
--- response_body eval
["true\n", qr/500 Internal Server Error/]



=== TEST 3: error after the headers were sent: no 500
--- config
    location /t {
        content_by_lua_block {
            ngx.say("partial")
            ngx.flush(true)
            error("late")
        }
    }
--- request
GET /t
--- ignore_response
--- error_log
lua entry thread aborted: runtime error:
late



=== TEST 4: runtime error in rewrite_by_lua
--- config
    location /t {
        rewrite_by_lua_block { error("rw") }
        content_by_lua_block { ngx.say("no") }
    }
--- request
GET /t
--- error_code: 500
--- error_log eval
qr/lua entry thread aborted: runtime error: rewrite_by_lua\(nginx.conf:\d+\):1: rw/



=== TEST 5: runtime error in access_by_lua
--- config
    location /t {
        access_by_lua_block { error("acc") }
        content_by_lua_block { ngx.say("no") }
    }
--- request
GET /t
--- error_code: 500
--- error_log eval
qr/lua entry thread aborted: runtime error: access_by_lua\(nginx.conf:\d+\):1: acc/



=== TEST 6: runtime error in set_by_lua
--- config
    location /t {
        set_by_lua_block $x { error("setboom") }
        content_by_lua_block { ngx.say(ngx.var.x) }
    }
--- request
GET /t
--- error_code: 500
--- error_log
setboom



=== TEST 7: runtime error in header_filter_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("body") }
        header_filter_by_lua_block { error("hfboom") }
    }
--- request
GET /t
--- ignore_response
--- error_log
hfboom



=== TEST 8: runtime error in body_filter_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("body") }
        body_filter_by_lua_block { error("bfboom") }
    }
--- request
GET /t
--- ignore_response
--- error_log
bfboom



=== TEST 9: runtime error in log_by_lua does not change the response
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        log_by_lua_block { error("logboom") }
    }
--- request
GET /t
--- response_body
ok
--- error_log
logboom



=== TEST 10: syntax error in inlined code
--- config
    location /t {
        content_by_lua_block { local = }
    }
--- request
GET /t
--- error_code: 500
--- error_log
failed to load inlined Lua code: content_by_lua(nginx.conf:



=== TEST 11: output API disabled in log_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        log_by_lua_block { ngx.say("x") }
    }
--- request
GET /t
--- response_body
ok
--- error_log
API disabled in the context of log_by_lua*



=== TEST 12: ngx.sleep disabled in header_filter_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        header_filter_by_lua_block { ngx.sleep(0.01) }
    }
--- request
GET /t
--- ignore_response
--- error_log
API disabled in the context of header_filter_by_lua*



=== TEST 13: ngx.sleep disabled in body_filter_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        body_filter_by_lua_block { ngx.sleep(0.01) }
    }
--- request
GET /t
--- ignore_response
--- error_log
API disabled in the context of body_filter_by_lua*



=== TEST 14: ngx.exec disabled in header_filter_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        header_filter_by_lua_block { ngx.exec("/x") }
    }
--- request
GET /t
--- ignore_response
--- error_log
API disabled in the context of header_filter_by_lua*



=== TEST 15: ngx.req.read_body disabled in log_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        log_by_lua_block { ngx.req.read_body() }
    }
--- request
GET /t
--- response_body
ok
--- error_log
API disabled in the context of log_by_lua*



=== TEST 16: request APIs in init_by_lua: no request
--- http_config
    init_by_lua_block {
        local ok, err = pcall(ngx.sleep, 1)
        package.loaded.init_err = err
    }
--- config
    location /t {
        content_by_lua_block { ngx.say(package.loaded.init_err) }
    }
--- request
GET /t
--- response_body
no request found



=== TEST 17: pcall catches API errors
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.redirect, "/x", 200)
            ngx.say(ok, " ", err ~= nil)
        }
    }
--- request
GET /t
--- response_body
false true
