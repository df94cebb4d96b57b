# lua-nginx-module's debug-level vocabulary around yields and finalisation,
# which tests grep for (at debug level only; "lua entry thread aborted"
# stays an error).
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: ngx.sleep in content
--- config
    location /t {
        content_by_lua_block {
            ngx.sleep(0.01)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
lua content handler, uri:"/t" c:1
lua creating new thread
lua ready to sleep for 10 ms
lua thread yielded
lua sleep timer expired: "/t?"
lua say response
lua light thread ended normally
lua sending last buf of the response body
--- grep_error_log eval: qr/lua resume returned \d+/
--- grep_error_log_out
lua resume returned 1
lua resume returned 0



=== TEST 2: the lines carry no request context, as nginx's debug lines
--- config
    location /t {
        content_by_lua_block {
            ngx.sleep(0.001)
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1
--- response_body
ok
--- error_log eval
[qr/\[debug\] \d+#\d+: \*\d+ lua ready to sleep for 1 ms$/m, qr/\[debug\] .*lua sleep timer expired: "\/t\?a=1"$/m]



=== TEST 3: ngx.exit in rewrite_by_lua
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.exit(403)
        }
    }
--- request
GET /t
--- error_code: 403
--- error_log
lua rewrite handler, uri:"/t" c:1
lua exit with code 403
lua thread yielded
lua thread aborting request with status 403
--- grep_error_log eval: qr/lua resume returned \d+/
--- grep_error_log_out
lua resume returned 1



=== TEST 4: a runtime error
--- config
    location /t {
        access_by_lua_block {
            error("oops")
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log eval
[qr/\[debug\] .*lua access handler, uri:"\/t" c:1/, qr/\[debug\] .*lua resume returned 2/, qr/\[error\] .*lua entry thread aborted: runtime error: access_by_lua\(nginx\.conf:\d+\):2: oops/]



=== TEST 5: ngx.eof, ngx.print and the filters
--- config
    location /t {
        content_by_lua_block {
            ngx.print("a")
            ngx.eof()
        }
        header_filter_by_lua_block { ngx.header.X = 1 }
        body_filter_by_lua_block { }
        log_by_lua_block { ngx.log(ngx.INFO, "logged") }
    }
--- request
GET /t
--- response_body chomp
a
--- error_log
lua print response
lua send eof
lua header filter for user lua code, uri "/t"
lua body filter for user lua code, uri "/t"
lua log handler, uri:"/t"
--- grep_error_log eval: qr/lua resume returned \d+|lua light thread ended normally/
--- grep_error_log_out
lua resume returned 0
lua light thread ended normally



=== TEST 6: nothing of it above debug level
--- log_level: info
--- config
    location /t {
        content_by_lua_block {
            ngx.sleep(0.001)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
lua ready to sleep
lua resume returned
lua sleep timer expired
