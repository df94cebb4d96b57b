# ngx.req.*: method, URI args, headers, body, version, raw header, times.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: get_method and set_method
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_method(ngx.HTTP_PUT)
        }
        content_by_lua_block {
            ngx.say(ngx.req.get_method(), " ", ngx.var.request_method)
        }
    }
--- request
POST /t
--- response_body
PUT PUT



=== TEST 2: set_method with a bad method
--- config
    location /t {
        content_by_lua_block {
            ngx.req.set_method(12345)
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
unsupported HTTP method: 12345



=== TEST 3: get_uri_args
--- config
    location /t {
        content_by_lua_block {
            local args = ngx.req.get_uri_args()
            local keys = {}
            for k in pairs(args) do keys[#keys + 1] = k end
            table.sort(keys)
            for _, k in ipairs(keys) do
                local v = args[k]
                if type(v) == "table" then v = table.concat(v, ",") end
                ngx.say(k, ": ", tostring(v))
            end
        }
    }
--- request
GET /t?a=1&b=hello%20world&a=2&flag&c=x+y&=skip
--- response_body
a: 1,2
b: hello world
c: x y
flag: true



=== TEST 4: get_uri_args with max
--- config
    location /t {
        content_by_lua_block {
            local args, err = ngx.req.get_uri_args(2)
            local n = 0
            for _ in pairs(args) do n = n + 1 end
            ngx.say(n, " ", err)
        }
    }
--- request
GET /t?a=1&b=2&c=3
--- response_body
2 truncated



=== TEST 5: set_uri_args with a table and a string
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_uri_args({x = "1 2"})
        }
        content_by_lua_block {
            ngx.say(ngx.var.args)
            ngx.req.set_uri_args("a=b")
            ngx.say(ngx.var.args, " ", ngx.var.arg_a)
        }
    }
--- request
GET /t?old=1
--- response_body
x=1%202
a=b b



=== TEST 6: get_headers lowercases names and folds repeats
--- config
    location /t {
        content_by_lua_block {
            local h = ngx.req.get_headers()
            ngx.say(h["x-foo"], " ", h.X_Foo, " ", h["X-Foo"])
            ngx.say(table.concat(h["x-multi"], ","))
            local raw = ngx.req.get_headers(nil, true)
            ngx.say(raw["X-Foo"], " ", tostring(raw["x-foo"]))
        }
    }
--- request
GET /t
--- more_headers
X-Foo: bar
X-Multi: 1
X-Multi: 2
--- response_body
bar bar bar
1,2
bar nil



=== TEST 7: get_headers with max
--- config
    location /t {
        content_by_lua_block {
            local h, err = ngx.req.get_headers(1)
            ngx.say(err)
        }
    }
--- request
GET /t
--- more_headers
X-A: 1
X-B: 2
--- response_body
truncated



=== TEST 8: set_header and clear_header
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_header("X-New", "v1")
            ngx.req.set_header("X-Multi", {"a", "b"})
            ngx.req.clear_header("X-Old")
        }
        content_by_lua_block {
            local h = ngx.req.get_headers()
            ngx.say(h["x-new"], " ", table.concat(h["x-multi"], ","), " ", tostring(h["x-old"]))
            ngx.say(ngx.var.http_x_new)
        }
    }
--- request
GET /t
--- more_headers
X-Old: gone
--- response_body
v1 a,b nil
v1



=== TEST 9: read_body and get_body_data
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say("body: ", ngx.req.get_body_data())
        }
    }
--- request
POST /t
hello body
--- response_body
body: hello body



=== TEST 10: get_body_data without a body
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(ngx.req.get_body_data())
        }
    }
--- request
GET /t
--- response_body
nil



=== TEST 11: get_post_args
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            local args = ngx.req.get_post_args()
            ngx.say(args.a, " ", args.b)
        }
    }
--- request
POST /t
a=1&b=hello+world
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- response_body
1 hello world



=== TEST 12: lua_need_request_body
--- config
    location /t {
        lua_need_request_body on;
        content_by_lua_block {
            ngx.say(ngx.req.get_body_data())
        }
    }
--- request
POST /t
abc
--- response_body
abc



=== TEST 13: discard_body
--- config
    location /t {
        content_by_lua_block {
            ngx.req.discard_body()
            ngx.say("ok")
        }
    }
--- request
POST /t
some body
--- response_body
ok



=== TEST 14: http_version
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.req.http_version())
        }
    }
--- request
GET /t
--- response_body
1.1



=== TEST 15: http_version 1.0
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.req.http_version())
        }
    }
--- request
GET /t HTTP/1.0
--- response_body
1



=== TEST 16: raw_header
--- config
    location /t {
        content_by_lua_block {
            ngx.print(ngx.req.raw_header(true))
            ngx.say("--")
            local h = ngx.req.raw_header()
            ngx.say(h:sub(1, 15))
        }
    }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\nConnection: close\r\n\r\n"
--- response_body eval
"Host: localhost\r\nX-A: 1\r\nConnection: close\r\n\r\n--\nGET /t HTTP/1.1\n"



=== TEST 17: start_time and is_internal
--- config
    location /t {
        content_by_lua_block {
            local t = ngx.req.start_time()
            ngx.say(type(t), " ", math.abs(t - ngx.now()) < 2, " ", ngx.req.is_internal())
        }
    }
--- request
GET /t
--- response_body
number true false



=== TEST 18: set_uri without jump
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_uri("/other")
        }
        content_by_lua_block {
            ngx.say(ngx.var.uri)
        }
    }
--- request
GET /t
--- response_body
/other



=== TEST 19: set_uri with jump re-matches the location
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.set_uri("/jumped", true)
        }
        content_by_lua_block { ngx.say("not here") }
    }
    location /jumped {
        content_by_lua_block {
            ngx.say("jumped to ", ngx.var.uri)
        }
    }
--- request
GET /t
--- response_body
jumped to /jumped



=== TEST 20: set_uri jump outside rewrite_by_lua is refused
--- config
    location /t {
        content_by_lua_block {
            ngx.req.set_uri("/x", true)
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
API disabled in the context of content_by_lua*



=== TEST 21: lua_need_request_body before rewrite_by_lua and access_by_lua
--- config
    location /t {
        lua_need_request_body on;
        rewrite_by_lua_block { ngx.ctx.rw = ngx.req.get_body_data() }
        access_by_lua_block { ngx.ctx.acc = ngx.req.get_body_data() }
        content_by_lua_block { ngx.say(ngx.ctx.rw, " ", ngx.ctx.acc) }
    }
--- request
POST /t
xyz
--- response_body
xyz xyz



=== TEST 22: read_body in rewrite_by_lua
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.req.read_body()
            ngx.ctx.body = ngx.req.get_body_data()
        }
        content_by_lua_block { ngx.say(ngx.ctx.body) }
    }
--- request
POST /t
hello
--- response_body
hello



=== TEST 23: a body arriving later: lua_need_request_body in rewrite, read_body in content
--- config
    location /t {
        lua_need_request_body on;
        rewrite_by_lua_block { ngx.ctx.rw = ngx.req.get_body_data() }
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(ngx.ctx.rw, " ", ngx.req.get_body_data())
        }
    }
--- raw_request eval
["POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 10\r\n\r\nhello",
 "world"]
--- raw_request_middle_delay: 0.05
--- response_body
helloworld helloworld



=== TEST 24: read_body waits for a body arriving later
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(ngx.req.get_body_data())
        }
    }
--- raw_request eval
["POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 6\r\n\r\nabc",
 "def"]
--- raw_request_middle_delay: 0.05
--- response_body
abcdef
