# ngx.exec(uri, args): internal redirects from Lua, with nginx's rules —
# args as a string, a table or in the uri, named locations, the phases it
# runs from, the error after the response header went out, the redirect
# cycle limit, $uri/$args/$request_uri after it. Passes against Debian's
# nginx + lua-nginx-module too.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: args as a string, a table, in the uri; $request_uri stays
--- config
    location /t {
        content_by_lua_block {
            local k = ngx.var.arg_k
            if k == "1" then ngx.exec("/target", "a=1&b=2") end
            if k == "2" then ngx.exec("/target", {b = {1, "x y"}}) end
            if k == "3" then ngx.exec("/target?c=3") end
            ngx.exec("/target")
        }
    }
    location /target {
        content_by_lua_block {
            ngx.say(ngx.var.uri, " ", ngx.var.args, " ", ngx.var.request_uri, " ", ngx.req.is_internal())
        }
    }
--- pipelined_requests eval
["GET /t?k=1", "GET /t?k=2", "GET /t?k=3", "GET /t?k=4"]
--- response_body eval
["/target a=1&b=2 /t?k=1 true\n", "/target b=1&b=x%20y /t?k=2 true\n",
 "/target c=3 /t?k=3 true\n", "/target nil /t?k=4 true\n"]



=== TEST 2: a named location
--- config
    location /t {
        content_by_lua_block { ngx.exec("@named") }
    }
    location @named {
        content_by_lua_block { ngx.say("named ", ngx.var.uri) }
    }
--- request
GET /t
--- response_body
named /t



=== TEST 3: from rewrite_by_lua and access_by_lua; the code after ngx.exec does not run
--- config
    location /r {
        rewrite_by_lua_block { ngx.exec("/target", "from=rewrite") ngx.log(ngx.ERR, "not reached") }
        content_by_lua_block { ngx.say("no") }
    }
    location /a {
        access_by_lua_block { ngx.exec("/target", "from=access") ngx.log(ngx.ERR, "not reached") }
        content_by_lua_block { ngx.say("no") }
    }
    location /target {
        content_by_lua_block { ngx.say(ngx.var.args) }
    }
--- pipelined_requests eval
["GET /r", "GET /a"]
--- response_body eval
["from=rewrite\n", "from=access\n"]
--- no_error_log
not reached



=== TEST 4: to a static file, to a return, to a missing file
--- config
    location /t {
        content_by_lua_block { ngx.exec(ngx.var.arg_to) }
    }
    location /ret { return 201 "created\n"; }
--- user_files
>>> f.txt
file
--- pipelined_requests eval
["GET /t?to=/f.txt", "GET /t?to=/ret", "GET /t?to=/nothere"]
--- error_code eval
[200, 201, 404]
--- response_body_like eval
["^file\n\\z", "^created\n\\z", "404 Not Found"]



=== TEST 5: after the response header went out it raises
--- config
    location /t {
        content_by_lua_block {
            ngx.say("hi")
            local ok, err = pcall(ngx.exec, "/target")
            ngx.say(ok, " ", err)
        }
    }
    location /target { return 200 "target\n"; }
--- request
GET /t
--- response_body
hi
false attempt to call ngx.exec after sending out response headers



=== TEST 6: bad arguments
--- config
    location /t {
        content_by_lua_block {
            local function try(...) local ok, err = pcall(ngx.exec, ...) ngx.say(ok, " ", err) end
            try("")
            try("/target", true)
            try()
        }
    }
--- request
GET /t
--- response_body
false The uri argument is empty
false bad argument #2 to '?' (string, number, or table expected, but got boolean)
false expecting one or two arguments, but got 0



=== TEST 7: a redirect loop ends with nginx's cycle error and 500
--- config
    location /loop {
        content_by_lua_block { ngx.exec("/loop") }
    }
--- request
GET /loop
--- error_code: 500
--- error_log
rewrite or internal redirection cycle while internally redirecting to "/loop"



=== TEST 8: ngx.exec inside a subrequest redirects the subrequest only
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub")
            ngx.say(res.status, " ", res.body, " ", ngx.var.uri)
        }
    }
    location /sub { content_by_lua_block { ngx.exec("/target", "x=1") } }
    location /target { content_by_lua_block { ngx.print("target ", ngx.var.args, " ", ngx.is_subrequest) } }
--- request
GET /t
--- response_body
200 target x=1 true /t



=== TEST 9: not in a header filter
--- config
    location /t {
        header_filter_by_lua_block {
            local ok, err = pcall(ngx.exec, "/x")
            ngx.header["X-Err"] = err
        }
        return 200 "ok\n";
    }
--- request
GET /t
--- response_headers
X-Err: API disabled in the context of header_filter_by_lua*
