# ngx.exit with statuses and constants as lua-nginx-module.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: ngx.exit(501) answers 501
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(501)
        }
    }
--- request
GET /t
--- error_code: 501
--- response_body_like: 501 Not Implemented
--- no_error_log
[error]



=== TEST 2: ngx.exit(501) in rewrite_by_lua
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.exit(ngx.HTTP_NOT_IMPLEMENTED)
        }
        content_by_lua_block { ngx.say("unreached") }
    }
--- request
GET /t
--- error_code: 501
--- response_body_like: 501 Not Implemented



=== TEST 3: ngx.exit(ngx.AGAIN) is refused
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(ngx.AGAIN)
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
bad argument to 'ngx.exit': does not accept NGX_AGAIN or NGX_DONE



=== TEST 4: ngx.exit(ngx.DONE) is refused
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(ngx.DONE)
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
bad argument to 'ngx.exit': does not accept NGX_AGAIN or NGX_DONE



=== TEST 5: statuses nginx has no reason phrase for
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(ngx.var.arg_s + 0)
        }
    }
--- request eval
["GET /t?s=418", "GET /t?s=599", "GET /t?s=306", "GET /t?s=422", "GET /t?s=505"]
--- error_code eval
[418, 599, 306, 422, 505]



=== TEST 6: 2xx statuses with an empty body
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(ngx.var.arg_s + 0)
        }
    }
--- request eval
["GET /t?s=201", "GET /t?s=204", "GET /t?s=299"]
--- error_code eval
[201, 204, 299]
--- response_body eval
["", "", ""]



=== TEST 7: 499 after the response started: closed without the last chunk
--- config
    location /t {
        content_by_lua_block {
            ngx.say("hello")
            ngx.flush(true)
            ngx.exit(499)
        }
    }
--- request
GET /t
--- response_body
hello
--- raw_response_like: \r\n\r\n6\r\nhello\n\r\n$
--- no_error_log
[error]



=== TEST 8: 408 after the response started: closed without the last chunk
--- config
    location /t {
        content_by_lua_block {
            ngx.say("hello")
            ngx.flush(true)
            ngx.exit(408)
        }
    }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- response_body
hello
--- raw_response_like: \r\n\r\n6\r\nhello\n\r\n$
--- no_error_log
[error]



=== TEST 9: 499 before any output: closed without a response
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(499)
        }
    }
--- request
GET /t
--- error_code:
--- no_error_log
[error]



=== TEST 10: ngx.exit(444) closes without a response
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(444)
        }
    }
--- request
GET /t
--- ignore_response
--- no_error_log
[error]
