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



=== TEST 10: ngx.exit(status) in header_filter_by_lua sends the error page instead
--- config
    location /t {
        content_by_lua_block { ngx.say("b") ngx.say("c") ngx.log(ngx.ERR, "after say") }
        header_filter_by_lua_block { ngx.exit(403) }
    }
--- request
GET /t
--- error_code: 403
--- response_body_like: <title>403 Forbidden</title>
--- response_headers
Content-Type: text/html
--- error_log
after say



=== TEST 11: ngx.exit(302) in header_filter replaces a return's body
--- config
    location /t {
        return 200 "body\n";
        header_filter_by_lua_block { ngx.header.Location = "/foo" ngx.exit(302) }
    }
--- request
GET /t
--- error_code: 302
--- response_body_like: <title>302 
--- response_headers_like
Location: .*/foo



=== TEST 12: ngx.exit(404) in header_filter goes through error_page
--- config
    location /t {
        error_page 404 /err;
        return 200 "body\n";
        header_filter_by_lua_block { if ngx.var.uri == "/t" then ngx.exit(404) end }
    }
    location = /err { return 200 "custom error\n"; }
--- request
GET /t
--- error_code: 404
--- response_body
custom error



=== TEST 13: ngx.exit(500) in header_filter on a static file
--- config
    location /t {
        header_filter_by_lua_block { ngx.exit(500) }
    }
--- user_files
>>> t
static
--- request
GET /t
--- error_code: 500
--- response_body_like: 500 Internal Server Error



=== TEST 14: ngx.exit(201) in header_filter: empty 201
--- config
    location /t {
        content_by_lua_block { ngx.say("hello") }
        header_filter_by_lua_block { ngx.exit(201) }
    }
--- request
GET /t
--- error_code: 201
--- response_body
--- response_headers
Content-Length: 0
Content-Type:



=== TEST 15: ngx.exit(ngx.ERROR) in header_filter closes the connection
--- config
    location /t {
        content_by_lua_block { ngx.say("hello") }
        header_filter_by_lua_block { ngx.exit(ngx.ERROR) }
    }
--- request
GET /t
--- error_code:
--- response_body
--- ignore_response_body
