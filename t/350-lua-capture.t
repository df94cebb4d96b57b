# ngx.location.capture: the result (status, header, body, truncated) of
# static, return, rewrite and Lua locations; the options (method, body,
# args, vars, copy_all_vars, share_all_vars, ctx, always_forward_body);
# argument errors worded as lua-nginx-module. Passes against Debian's nginx
# + lua-nginx-module too.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a Lua location: status, body, headers (several values as a table)
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub")
            ngx.say(res.status, " ", res.truncated, " [", res.body, "]")
            ngx.say(res.header["X-One"], " ", table.concat(res.header["X-Two"], ","),
                    " ", res.header["Content-Type"])
            ngx.say(ngx.is_subrequest)
        }
    }
    location /sub {
        content_by_lua_block {
            ngx.status = 201
            ngx.header["X-One"] = "1"
            ngx.header["X-Two"] = {"a", "b"}
            ngx.header.content_type = "text/x-sub"
            ngx.say("sub body ", ngx.is_subrequest)
        }
    }
--- request
GET /t
--- response_body
201 false [sub body true
]
1 a,b text/x-sub
false
--- no_error_log
[error]



=== TEST 2: a static file: Content-Length, Content-Type, ETag, Last-Modified, no Accept-Ranges
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/a.txt")
            local h = res.header
            ngx.say(res.status, " [", res.body, "] ", h["Content-Length"], " ", h["Content-Type"],
                    " ", h.ETag ~= nil, " ", h["Last-Modified"] ~= nil, " ", h["Accept-Ranges"])
        }
    }
--- user_files
>>> a.txt
static
--- request
GET /t
--- response_body
200 [static
] 7 text/plain true true nil



=== TEST 3: a missing location is 404, truncated, empty; its error is logged with the subrequest
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/nothere")
            ngx.say(res.status, " ", res.truncated, " [", res.body, "] ", res.header["Content-Type"])
        }
    }
--- request
GET /t
--- response_body
404 true [] text/plain
--- error_log eval
qr{\[error\] .*open\(\) ".*/html/nothere" failed \(2: No such file or directory\), client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", subrequest: "/nothere", host: "localhost"}



=== TEST 4: return with a body, return of a redirect, ngx.exit, a Lua error after output
--- config
    location /t {
        content_by_lua_block {
            for _, u in ipairs{"/ret", "/redir", "/exit", "/err"} do
                local res = ngx.location.capture(u)
                ngx.say(u, " ", res.status, " ", res.truncated, " [", res.body, "] ",
                        tostring(res.header.Location))
            end
        }
    }
    location /ret { return 410 "gone\n"; }
    location /redir { return 302 /elsewhere; }
    location /exit { content_by_lua_block { ngx.exit(403) } }
    location /err { content_by_lua_block { ngx.print("part") error("boom") } }
--- request
GET /t
--- response_body
/ret 410 false [gone
] nil
/redir 302 true [] /elsewhere
/exit 403 true [] nil
/err 200 true [part] nil
--- error_log eval
[qr{lua entry thread aborted: runtime error: content_by_lua\(nginx\.conf:\d+\):1: boom},
 qr{in main chunk, client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", subrequest: "/err"}]



=== TEST 5: a rewritten location and an internal one
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/rew")
            ngx.say(res.status, " [", res.body, "]")
            res = ngx.location.capture("/int")
            ngx.say(res.status, " [", res.body, "]")
        }
    }
    location /rew { rewrite ^ /target?x=1 last; }
    location /target { content_by_lua_block { ngx.print(ngx.var.uri, " ", ngx.var.args) } }
    location /int { internal; return 200 "internal"; }
--- request
GET /t
--- response_body
200 [/target x=1]
200 [internal]



=== TEST 6: args: in the uri, as a string, as a table, both (joined with &)
--- config
    location /t {
        content_by_lua_block {
            local a = ngx.location.capture("/args?a=1").body
            local b = ngx.location.capture("/args", {args = "b=2"}).body
            local c = ngx.location.capture("/args", {args = {c = "x y"}}).body
            local d = ngx.location.capture("/args?a=1", {args = {b = 2}}).body
            local e = ngx.location.capture("/args").body
            ngx.say(a, "|", b, "|", c, "|", d, "|", e)
        }
    }
    location /args { content_by_lua_block { ngx.print(ngx.var.args) } }
--- request
GET /t
--- response_body
a=1|b=2|c=x%20y|a=1&b=2|nil



=== TEST 7: method: the subrequest's method, HEAD has no body
--- config
    location /t {
        content_by_lua_block {
            for _, m in ipairs{ngx.HTTP_GET, ngx.HTTP_POST, ngx.HTTP_PUT, ngx.HTTP_DELETE,
                               ngx.HTTP_OPTIONS, ngx.HTTP_PATCH, ngx.HTTP_MKCOL, ngx.HTTP_HEAD} do
                local res = ngx.location.capture("/m", {method = m})
                ngx.say(res.status, " [", res.body, "]")
            end
        }
    }
    location /m { content_by_lua_block { ngx.print(ngx.req.get_method()) } }
--- request
GET /t
--- response_body
200 [GET]
200 [POST]
200 [PUT]
200 [DELETE]
200 [OPTIONS]
200 [PATCH]
200 [MKCOL]
200 []



=== TEST 8: body: its own body and Content-Length; the parent's body goes to POST/PUT, or with always_forward_body
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            local function show(opts)
                local res = ngx.location.capture("/body", opts)
                ngx.say(res.body)
            end
            show(nil)
            show({method = ngx.HTTP_PUT})
            show({method = ngx.HTTP_POST})
            show({always_forward_body = true})
            show({method = ngx.HTTP_PUT, body = "x"})
            show({method = ngx.HTTP_POST, body = ""})
            show({body = "own"})
        }
    }
    location /body {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.print(ngx.req.get_method(), " ", ngx.req.get_body_data(), " ", ngx.var.http_content_length)
        }
    }
--- request
POST /t
hello
--- response_body
GET nil nil
PUT hello 5
POST hello 5
GET hello 5
PUT x 1
POST nil 0
GET own 3



=== TEST 9: vars, copy_all_vars, share_all_vars
--- config
    location /t {
        set $dog "parent";
        set $cat "c";
        content_by_lua_block {
            local res = ngx.location.capture("/vars", {vars = {dog = "hello", cat = 32}})
            ngx.say(res.body, " | ", ngx.var.dog)
            res = ngx.location.capture("/vars")
            ngx.say(res.body, " | ", ngx.var.dog)
            res = ngx.location.capture("/vars", {copy_all_vars = true})
            ngx.say(res.body, " | ", ngx.var.dog)
            res = ngx.location.capture("/vars", {copy_all_vars = true, vars = {cat = "v"}})
            ngx.say(res.body, " | ", ngx.var.cat)
            res = ngx.location.capture("/vars", {share_all_vars = true})
            ngx.say(res.body, " | ", ngx.var.dog)
        }
    }
    location /vars {
        content_by_lua_block {
            ngx.print(ngx.var.dog, " ", ngx.var.cat)
            ngx.var.dog = "changed"
        }
    }
--- request
GET /t
--- response_body
hello 32 | parent
  | parent
parent c | parent
parent v | c
parent c | changed
--- error_log
using uninitialized "dog" variable, client: 127.0.0.1, server: localhost, request: "GET /t HTTP/1.1", subrequest: "/vars"



=== TEST 10: ctx: the subrequest's ngx.ctx is the given table
--- config
    location /t {
        content_by_lua_block {
            local ctx = {foo = "given"}
            local res = ngx.location.capture("/ctx", {ctx = ctx})
            ngx.say(res.body, " ", ctx.foo)
            ngx.ctx.foo = "mine"
            res = ngx.location.capture("/ctx", {ctx = ngx.ctx})
            ngx.say(res.body, " ", ngx.ctx.foo)
            res = ngx.location.capture("/ctx")
            ngx.say(res.body, " ", ngx.ctx.foo)
        }
    }
    location /ctx { content_by_lua_block { ngx.print(ngx.ctx.foo) ngx.ctx.foo = "bar" } }
--- request
GET /t
--- response_body
given bar
mine bar
nil bar



=== TEST 11: bad options and arguments
--- config
    location /t {
        content_by_lua_block {
            local function try(...)
                local ok, err = pcall(...)
                ngx.say(ok, " ", type(err) == "table" and err.status or err)
            end
            for _, o in ipairs{ {args = true}, {vars = 1}, {method = "GET"}, {method = 12345},
                                {body = {}}, {ctx = 1}, {share_all_vars = 1},
                                {copy_all_vars = "x"}, {vars = {[1] = "a"}}, {vars = {a = {}}},
                                {vars = {uri = "x"}}, {always_forward_body = 1} } do
                try(ngx.location.capture, "/ok", o)
            end
            try(ngx.location.capture, "/ok", 1)
            try(ngx.location.capture)
            try(ngx.location.capture, "/ok", {}, 2)
            try(ngx.location.capture, "")
            try(ngx.location.capture, "/../x")
            try(ngx.location.capture, "/a\0b")
            try(ngx.location.capture_multi, {})
            try(ngx.location.capture_multi, {1})
            try(ngx.location.capture_multi, {{}})
            try(ngx.location.capture_multi, {{"/ok"}}, 2)
        }
    }
    location /ok { return 200 "ok"; }
--- request
GET /t
--- response_body
false Bad args option value
false Bad vars option value
false Bad http request method
false failed to adjust the subrequest: -1
false Bad http request body
false Bad ctx option value type number, expected a Lua table
false Bad share_all_vars option value
false Bad copy_all_vars option value
false attempt to use a non-string key in the "vars" option table
false attempt to use bad variable value type table
false failed to adjust the subrequest: 500
true 200
false expecting table as the 2nd argument for subrequest 0, but got number
false expecting one or two arguments
false expecting one or two arguments
false unsafe uri in argument #1: 
false unsafe uri in argument #1: /../x
false unsafe uri in argument #1: /a
false at least one subrequest should be specified
false the query argument 0 is not a table, but a number
false query argument 0 expecting one or two arguments
false only one argument is expected, but got 2
--- error_log
unsupported HTTP method: 12345
variable "uri" not changeable



=== TEST 12: capture from rewrite_by_lua and access_by_lua; not from a header filter or a timer
--- config
    location /t {
        rewrite_by_lua_block { ngx.ctx.r = ngx.location.capture("/ok").body }
        access_by_lua_block { ngx.ctx.a = ngx.location.capture("/ok").body }
        header_filter_by_lua_block {
            local ok, err = pcall(ngx.location.capture, "/ok")
            ngx.header["X-Err"] = err
        }
        content_by_lua_block {
            local ok, err
            ngx.timer.at(0, function()
                ok, err = pcall(ngx.location.capture, "/ok")
            end)
            ngx.sleep(0.01)
            ngx.say(ngx.ctx.r, " ", ngx.ctx.a, " ", ok, " ", err)
        }
    }
    location /ok { return 200 "ok"; }
--- request
GET /t
--- response_headers
X-Err: API disabled in the context of header_filter_by_lua*
--- response_body
ok ok false API disabled in the context of ngx.timer



=== TEST 13: the parent's output before and after a capture stays in order
--- config
    location /t {
        content_by_lua_block {
            ngx.say("before")
            ngx.flush(true)
            local res = ngx.location.capture("/slow")
            ngx.say("got ", res.body)
            ngx.say("after")
        }
    }
    location /slow { content_by_lua_block { ngx.sleep(0.01) ngx.print("slow") } }
--- request
GET /t
--- response_body
before
got slow
after
