# ngx.eof, ngx.send_headers, ngx.headers_sent and HEAD requests in the orders
# lua-nginx-module's tests exercise.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: ngx.eof twice
--- config
    location /t {
        content_by_lua_block {
            ngx.say("hi")
            local ok, err = ngx.eof()
            local ok2, err2 = ngx.eof()
            ngx.log(ngx.WARN, "eof: ", tostring(ok), " ", tostring(err), " ", tostring(ok2), " ", tostring(err2))
        }
    }
--- request
GET /t
--- response_body
hi
--- error_log
eof: 1 nil nil seen eof
--- no_error_log
[error]



=== TEST 2: ngx.eof before ngx.say
--- config
    location /t {
        content_by_lua_block {
            ngx.eof()
            local ok, err = ngx.say("late")
            ngx.log(ngx.WARN, "say: ", tostring(ok), " ", tostring(err))
            ok, err = ngx.print("late")
            ngx.log(ngx.WARN, "print: ", tostring(ok), " ", tostring(err))
            ok, err = ngx.flush()
            ngx.log(ngx.WARN, "flush: ", tostring(ok), " ", tostring(err))
        }
    }
--- request
GET /t
--- response_body
--- error_log
say: nil seen eof
print: nil seen eof
flush: nil seen eof



=== TEST 3: ngx.eof with nothing sent: an empty 200
--- config
    location /t {
        content_by_lua_block {
            ngx.eof()
            ngx.log(ngx.WARN, "headers_sent: ", tostring(ngx.headers_sent))
        }
    }
--- request
GET /t
--- response_body
--- error_log
headers_sent: true



=== TEST 4: ngx.send_headers twice
--- config
    location /t {
        content_by_lua_block {
            local ok, err = ngx.send_headers()
            local ok2, err2 = ngx.send_headers()
            ngx.say(tostring(ok), " ", tostring(err), " ", tostring(ok2), " ", tostring(err2))
        }
    }
--- request
GET /t
--- response_body
1 nil 1 nil



=== TEST 5: headers_sent with HEAD
--- config
    location /t {
        content_by_lua_block {
            local before = ngx.headers_sent
            local ok, err = ngx.say("body")
            ngx.log(ngx.WARN, "head: ", tostring(before), " ", tostring(ngx.headers_sent), " ", tostring(ok), " ", tostring(err))
            ok, err = ngx.say("more")
            ngx.log(ngx.WARN, "again: ", tostring(ok), " ", tostring(err))
        }
    }
--- request
HEAD /t
--- response_body
--- error_log
head: false true 1 nil
again: nil header only
--- no_error_log
[error]



=== TEST 6: HEAD with ngx.send_headers then ngx.eof
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-A"] = "1"
            local ok = ngx.send_headers()
            local ok2, err2 = ngx.eof()
            ngx.log(ngx.WARN, "head2: ", tostring(ok), " ", tostring(ok2), " ", tostring(err2))
        }
    }
--- request
HEAD /t
--- response_headers
X-A: 1
--- response_body
--- error_log
head2: 1 1 nil



=== TEST 7: setting a header after ngx.send_headers
--- config
    location /t {
        content_by_lua_block {
            ngx.send_headers()
            ngx.header["X-Late"] = "1"
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_headers
!X-Late
--- response_body
ok
--- error_log
attempt to set ngx.header.HEADER after sending out response headers



=== TEST 8: ngx.eof in rewrite_by_lua ends the response
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.say("from rewrite")
            ngx.eof()
        }
        content_by_lua_block { ngx.say("content") }
    }
--- request
GET /t
--- response_body
from rewrite



=== TEST 9: ngx.exit(200) after ngx.eof
--- config
    location /t {
        content_by_lua_block {
            ngx.say("a")
            ngx.eof()
            ngx.exit(200)
        }
    }
--- request
GET /t
--- response_body
a
--- no_error_log
[error]



=== TEST 10: ngx.status after the header was sent
--- config
    location /t {
        content_by_lua_block {
            ngx.send_headers()
            ngx.status = 404
            ngx.say(ngx.status)
        }
    }
--- request
GET /t
--- response_body
200
--- error_log
attempt to set ngx.status after sending out response headers
