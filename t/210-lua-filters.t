# header_filter_by_lua* and body_filter_by_lua* (ngx.arg[1], ngx.arg[2]).
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: body_filter rewrites each chunk
--- config
    location /t {
        content_by_lua_block {
            ngx.say("hello")
            ngx.say("world")
        }
        body_filter_by_lua_block {
            ngx.arg[1] = string.upper(ngx.arg[1])
        }
    }
--- request
GET /t
--- response_body
HELLO
WORLD



=== TEST 2: body_filter appends at eof
--- config
    location /t {
        content_by_lua_block { ngx.say("body") }
        body_filter_by_lua_block {
            if ngx.arg[2] then
                ngx.arg[1] = ngx.arg[1] .. "trailer\n"
            end
        }
    }
--- request
GET /t
--- response_body
body
trailer



=== TEST 3: body_filter on static-like echo output
--- config
    location /t {
        return 200 "abc\n";
        body_filter_by_lua_block {
            ngx.arg[1] = ngx.arg[1]:gsub("b", "B")
        }
    }
--- request
GET /t
--- response_body
aBc



=== TEST 4: body_filter drops data by setting ngx.arg[1] to nil
--- config
    location /t {
        content_by_lua_block {
            ngx.say("keep")
            ngx.say("drop")
        }
        body_filter_by_lua_block {
            if ngx.arg[1]:find("drop", 1, true) then
                ngx.arg[1] = nil
            end
        }
    }
--- request
GET /t
--- response_body
keep



=== TEST 5: body_filter sees ngx.ctx of the request
--- config
    location /t {
        content_by_lua_block {
            ngx.ctx.suffix = "!"
            ngx.say("x")
        }
        body_filter_by_lua_block {
            local d = ngx.arg[1]
            if d ~= "" then ngx.arg[1] = d:gsub("\n", ngx.ctx.suffix .. "\n") end
        }
    }
--- request
GET /t
--- response_body
x!



=== TEST 6: header_filter changes status and headers
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        header_filter_by_lua_block {
            ngx.status = 202
            ngx.header["X-Status-Was"] = "200"
            ngx.header["X-Method"] = ngx.req.get_method()
        }
    }
--- request
GET /t
--- error_code: 202
--- response_headers
X-Status-Was: 200
X-Method: GET
--- response_body
ok



=== TEST 7: header_filter on a non-Lua response
--- config
    location /t {
        return 200 "plain\n";
        header_filter_by_lua_block { ngx.header["X-Lua"] = "yes" }
    }
--- request
GET /t
--- response_headers
X-Lua: yes
--- response_body
plain



=== TEST 8: filters inherited from the server level
--- config
    header_filter_by_lua_block { ngx.header["X-Server-Level"] = "1" }
    location /t {
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_headers
X-Server-Level: 1
--- response_body
ok



=== TEST 9: ngx.arg outside filters and set_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say(tostring(ngx.arg[1])) }
    }
--- request
GET /t
--- error_code: 500
--- error_log
API disabled in the current context



=== TEST 10: ngx.exit(status) in header_filter_by_lua sets the status
--- config
    location /t {
        content_by_lua_block { ngx.say("b") }
        header_filter_by_lua_block { ngx.exit(403) }
    }
--- request
GET /t
--- error_code: 403
--- ignore_response_body
