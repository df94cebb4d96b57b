# ngx.header.* and ngx.resp.get_headers().
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: set and read a header, underscores become dashes
--- config
    location /t {
        content_by_lua_block {
            ngx.header.X_Foo = "bar"
            ngx.header["X-Num"] = 42
            ngx.say(ngx.header.x_foo, " ", ngx.header["X-FOO"], " ", ngx.header.x_num)
        }
    }
--- request
GET /t
--- response_headers
X-Foo: bar
X-Num: 42
--- response_body
bar bar 42



=== TEST 2: multi-value headers
--- config
    location /t {
        content_by_lua_block {
            ngx.header["Set-Cookie"] = {"a=1", "b=2"}
            local v = ngx.header["Set-Cookie"]
            ngx.say(type(v), " ", table.concat(v, ";"))
        }
    }
--- request
GET /t
--- raw_response_headers_like: Set-Cookie: a=1\r?\nSet-Cookie: b=2\r?\n
--- response_body
table a=1;b=2



=== TEST 3: clearing a header with nil
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-A"] = "1"
            ngx.header["X-A"] = nil
            ngx.say(tostring(ngx.header["X-A"]))
        }
    }
--- request
GET /t
--- response_headers
X-A:
--- response_body
nil



=== TEST 4: Content-Type and Content-Length
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_type = "text/plain; charset=utf-8"
            ngx.header.content_length = 3
            ngx.print("abc")
        }
    }
--- request
GET /t
--- response_headers
Content-Type: text/plain; charset=utf-8
Content-Length: 3
--- response_body chomp
abc



=== TEST 5: setting a header after the headers were sent
--- config
    location /t {
        content_by_lua_block {
            ngx.say("x")
            ngx.header["X-Late"] = "1"
        }
    }
--- request
GET /t
--- response_headers
X-Late:
--- error_log
attempt to set ngx.header.HEADER after sending out response headers



=== TEST 6: lua_transform_underscores_in_response_headers off
--- config
    location /t {
        lua_transform_underscores_in_response_headers off;
        content_by_lua_block {
            ngx.header.X_Foo = "bar"
            ngx.say("ok")
        }
    }
--- request
GET /t
--- raw_response_headers_like: X_Foo: bar\r?\n
--- response_body
ok



=== TEST 7: ngx.resp.get_headers
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-A"] = "1"
            ngx.header["X-B"] = {"2", "3"}
            ngx.header.content_type = "text/html"
            local h = ngx.resp.get_headers()
            ngx.say(h["x-a"], " ", table.concat(h["x-b"], ","), " ", h.content_type, " ", h.X_A)
        }
    }
--- request
GET /t
--- response_body
1 2,3 text/html 1



=== TEST 8: header set in header_filter_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        header_filter_by_lua_block {
            ngx.header["X-Filter"] = "yes"
            ngx.header.content_length = nil
        }
    }
--- request
GET /t
--- response_headers
X-Filter: yes
--- response_body
ok



=== TEST 9: Location via ngx.header
--- config
    location /t {
        content_by_lua_block {
            ngx.header.location = "http://example.com/x"
            ngx.exit(302)
        }
    }
--- request
GET /t
--- error_code: 302
--- response_headers
Location: http://example.com/x



=== TEST 10: default_type is used when no Content-Type is set
--- config
    location /t {
        default_type text/x-test;
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_headers
Content-Type: text/x-test



=== TEST 11: lua_use_default_type off
--- config
    location /t {
        default_type text/x-test;
        lua_use_default_type off;
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_headers
Content-Type:
