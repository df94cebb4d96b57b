# Response splitting: CR/LF (and, in names, ':' and space) in headers set
# from Lua are escaped as %0D/%0A/%3A/%20, silently, on every path.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: ngx.header value with CRLF
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-Foo"] = "a\r\nbar: foo"
            ngx.say(ngx.header["X-Foo"])
        }
    }
--- request
GET /t
--- response_headers
X-Foo: a%0D%0Abar: foo
!bar
--- response_body
a%0D%0Abar: foo
--- no_error_log
[error]



=== TEST 2: ngx.header name with CRLF, colon and space
--- config
    location /t {
        content_by_lua_block {
            ngx.header["\r\nX-Foo: bar"] = "v"
            ngx.header["X-Bar\n"] = "w"
            ngx.say("ok")
        }
    }
--- request
GET /t
--- raw_response_headers_like: \r\n%0D%0AX-Foo%3A%20bar: v\r\nX-Bar%0A: w\r\n
--- raw_response_headers_unlike: \r\nX-Foo: bar
--- response_body
ok
--- no_error_log
[error]



=== TEST 3: multi-value table values
--- config
    location /t {
        content_by_lua_block {
            ngx.header["Set-Cookie"] = {"a=1\r\nX-Evil: 1", "b=2\n"}
            ngx.say("ok")
        }
    }
--- request
GET /t
--- raw_response_headers_like: Set-Cookie: a=1%0D%0AX-Evil: 1\r\nSet-Cookie: b=2%0A\r\n
--- response_headers
!X-Evil
--- no_error_log
[error]



=== TEST 4: ngx.redirect refuses CR/LF in the uri
--- config
    location /t {
        content_by_lua_block {
            ngx.redirect("/foo\r\nX-Evil: 1")
        }
    }
--- request
GET /t
--- error_code: 500
--- response_headers
!X-Evil
!Location
--- error_log
unsafe byte "0x0d" in redirect uri "/foo\x0D\x0AX-Evil: 1"



=== TEST 5: ngx.req.set_header value and name
--- config
    location /t {
        content_by_lua_block {
            ngx.req.set_header("X-A", "1\r\nX-Evil: 2")
            ngx.req.set_header("X-B\r\n: c", "3")
            local h = ngx.req.get_headers()
            ngx.say(h["x-a"])
            ngx.say(h["x-b%0d%0a%3a%20c"])
            ngx.say(h["x-evil"])
            ngx.say(ngx.var.http_x_a)
        }
    }
--- request
GET /t
--- response_body
1%0D%0AX-Evil: 2
3
nil
1%0D%0AX-Evil: 2
--- no_error_log
[error]



=== TEST 6: Location set through ngx.header
--- config
    location /t {
        content_by_lua_block {
            ngx.header.Location = "/a\nb"
            ngx.exit(301)
        }
    }
--- request
GET /t
--- error_code: 301
--- response_headers_like
Location: .*/a%0Ab
--- no_error_log
[error]



=== TEST 7: header added in header_filter_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        header_filter_by_lua_block {
            ngx.header["X-F"] = "\r\nX-Evil: 1"
        }
    }
--- request
GET /t
--- response_headers
X-F: %0D%0AX-Evil: 1
!X-Evil
--- no_error_log
[error]



=== TEST 8: ngx.req.set_header with a table of values
--- config
    location /t {
        content_by_lua_block {
            ngx.req.set_header("X-M", {"a\n", "b\r"})
            local v = ngx.req.get_headers()["x-m"]
            ngx.say(v[1], " ", v[2])
        }
    }
--- request
GET /t
--- response_body
a%0A b%0D
--- no_error_log
[error]
