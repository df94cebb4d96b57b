# lua_http10_buffering: an HTTP/1.0 response is held until the end so that it
# gets a Content-Length; ngx.exit with 408/499/ngx.ERROR then closes without
# sending anything, as nginx + lua-nginx-module do.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: output is held and gets a Content-Length; headers_sent stays false
--- config
    location /t {
        content_by_lua_block {
            ngx.say("a")
            ngx.header["X-After"] = "1"
            ngx.log(ngx.WARN, "sent: ", tostring(ngx.headers_sent))
            ngx.print("b")
        }
    }
--- request
GET /t HTTP/1.0
--- response_headers
Content-Length: 3
X-After: 1
--- response_body chomp
a
b
--- error_log
sent: false



=== TEST 2: ngx.flush does nothing; ngx.status can still change
--- config
    location /t {
        content_by_lua_block {
            ngx.say("a")
            ngx.flush(true)
            ngx.say("b")
            ngx.status = 201
        }
    }
--- request
GET /t HTTP/1.0
--- error_code: 201
--- response_headers
Content-Length: 4



=== TEST 3: ngx.exit(404) after output ends the response as it is
--- config
    location /t {
        content_by_lua_block {
            ngx.say("a")
            ngx.exit(404)
        }
    }
--- request
GET /t HTTP/1.0
--- response_headers
Content-Length: 2
--- response_body
a



=== TEST 4: ngx.send_headers sends at once, without Content-Length
--- config
    location /t {
        content_by_lua_block {
            ngx.send_headers()
            ngx.say("a")
        }
    }
--- request
GET /t HTTP/1.0
--- response_headers
!Content-Length
--- response_body
a



=== TEST 5: a Content-Length set from Lua turns buffering off
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_length = 2
            ngx.say("a")
            ngx.flush(true)
            ngx.exit(499)
        }
    }
--- request
GET /t HTTP/1.0
--- response_headers
Content-Length: 2
--- response_body
a



=== TEST 6: 499, 408 and ngx.ERROR after held output: nothing is sent
--- config
    location /t {
        content_by_lua_block {
            ngx.say("hello")
            ngx.flush(true)
            ngx.exit(tonumber(ngx.var.arg_s))
        }
    }
--- request eval
["GET /t?s=499 HTTP/1.0", "GET /t?s=408 HTTP/1.0", "GET /t?s=-1 HTTP/1.0"]
--- error_code eval
["", "", ""]



=== TEST 7: output of rewrite_by_lua and content_by_lua in one response
--- config
    location /t {
        rewrite_by_lua_block { ngx.say("a") }
        content_by_lua_block { ngx.say("b") }
    }
--- request
GET /t HTTP/1.0
--- response_headers
Content-Length: 4
--- response_body
a
b



=== TEST 8: ngx.eof sends the held output
--- config
    location /t {
        content_by_lua_block {
            ngx.say("a")
            ngx.eof()
            ngx.log(ngx.WARN, "after eof: ", tostring(ngx.headers_sent))
        }
    }
--- request
GET /t HTTP/1.0
--- response_headers
Content-Length: 2
--- response_body
a
--- error_log
after eof: true



=== TEST 9: lua_http10_buffering off streams without Content-Length
--- config
    location /t {
        lua_http10_buffering off;
        content_by_lua_block {
            ngx.say("a")
            ngx.log(ngx.WARN, "sent: ", tostring(ngx.headers_sent))
        }
    }
--- request
GET /t HTTP/1.0
--- response_headers
!Content-Length
--- response_body
a
--- error_log
sent: true



=== TEST 10: HTTP/1.1 is not held
--- config
    location /t {
        content_by_lua_block {
            ngx.say("a")
            ngx.log(ngx.WARN, "sent: ", tostring(ngx.headers_sent))
        }
    }
--- request
GET /t
--- response_headers
!Content-Length
Transfer-Encoding: chunked
--- error_log
sent: true
