# ngx.location.capture_multi (results in order, parallel subrequests that
# wait), nested subrequests, the nesting limit (lua-nginx-module's
# "lua subrequests cycle"), 50 subrequests in parallel. Passes against
# Debian's nginx + lua-nginx-module too.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: capture_multi returns the results in the order of the queries
--- config
    location /t {
        content_by_lua_block {
            local a, b, c = ngx.location.capture_multi{
                {"/s", {args = "t=0.03&v=a"}},
                {"/s", {args = "t=0&v=b"}},
                {"/s", {args = "t=0.01&v=c"}},
            }
            ngx.say(a.body, b.body, c.body, " ", a.status, b.status, c.status)
        }
    }
    location /s {
        content_by_lua_block {
            local t = tonumber(ngx.var.arg_t)
            if t > 0 then ngx.sleep(t) end
            ngx.print(ngx.var.arg_v)
        }
    }
--- request
GET /t
--- response_body
abc 200200200



=== TEST 2: the subrequests run in parallel
--- config
    location /t {
        content_by_lua_block {
            local t0 = ngx.now()
            local reqs = {}
            for i = 1, 5 do reqs[i] = {"/s"} end
            local rs = {ngx.location.capture_multi(reqs)}
            ngx.update_time()
            local dt = ngx.now() - t0
            ngx.say(#rs, " ", dt < 0.25)
        }
    }
    location /s { content_by_lua_block { ngx.sleep(0.1) ngx.print("x") } }
--- request
GET /t
--- response_body
5 true



=== TEST 3: 50 subrequests in parallel
--- config
    location /t {
        content_by_lua_block {
            local reqs = {}
            for i = 1, 50 do reqs[i] = {"/n", {args = {i = i}}} end
            local rs = {ngx.location.capture_multi(reqs)}
            local sum, ok = 0, true
            for i, r in ipairs(rs) do
                sum = sum + tonumber(r.body)
                ok = ok and r.status == 200 and tonumber(r.body) == i
            end
            ngx.say(#rs, " ", sum, " ", ok)
        }
    }
    location /n {
        content_by_lua_block {
            if ngx.var.arg_i % 2 == 0 then ngx.sleep(0.001) end
            ngx.print(ngx.var.arg_i)
        }
    }
--- request
GET /t
--- response_body
50 1275 true
--- no_error_log
[error]



=== TEST 4: nested subrequests: a subrequest that captures, one that waits inside
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/a")
            ngx.say(res.status, " [", res.body, "]")
        }
    }
    location /a {
        content_by_lua_block {
            local r1, r2 = ngx.location.capture_multi{{"/b"}, {"/c"}}
            ngx.print("a(", r1.body, ",", r2.body, ")")
        }
    }
    location /b {
        content_by_lua_block {
            ngx.sleep(0.01)
            ngx.print("b(", ngx.location.capture("/c").body, ")")
        }
    }
    location /c { content_by_lua_block { ngx.print("c", ngx.is_subrequest and "!" or "") } }
--- request
GET /t
--- response_body
200 [a(b(c!),c!)]



=== TEST 5: the nesting limit: 51 levels below the main request, then "failed to issue subrequest"
--- config
    location /rec {
        content_by_lua_block {
            local n = tonumber(ngx.var.arg_n)
            local ok, res = pcall(ngx.location.capture, "/rec?n=" .. (n + 1))
            if not ok then ngx.print(n, " ", res) return end
            ngx.print(res.status == 200 and "." or "x", res.body)
        }
    }
--- request
GET /rec?n=0
--- response_body eval
"." x 51 . "51 failed to issue subrequest: -1"
--- error_log
lua subrequests cycle while processing "/rec", client: 127.0.0.1, server: localhost, request: "GET /rec?n=0 HTTP/1.1", subrequest: "/rec"



=== TEST 6: the parent ends (ngx.exit) after its subrequests; the client gets only its output
--- config
    location /t {
        content_by_lua_block {
            local r1, r2 = ngx.location.capture_multi{{"/s"}, {"/missing"}}
            ngx.say(r1.body, " ", r2.status)
            ngx.exit(ngx.HTTP_OK)
        }
    }
    location /s { content_by_lua_block { ngx.sleep(0.001) ngx.say("sub") } }
--- request
GET /t
--- response_body
sub
 404
--- error_log
No such file or directory



=== TEST 7: many requests capturing at once, on one connection each
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/s", {args = ngx.var.args})
            ngx.print(res.body)
        }
    }
    location /s { content_by_lua_block { ngx.sleep(0.001) ngx.print(ngx.var.arg_k, "\n") } }
--- pipelined_requests eval
["GET /t?k=1", "GET /t?k=2", "GET /t?k=3"]
--- response_body eval
["1\n", "2\n", "3\n"]
