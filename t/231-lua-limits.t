# The `max` argument (default 100, 0 = no limit) and the "truncated" second
# value of ngx.req.get_headers, get_uri_args, get_post_args and
# ngx.resp.get_headers.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();

our $Headers = join '', map { "X-H$_: $_\n" } 1 .. 110;
our $Args = join '&', map { "a$_=$_" } 1 .. 110;

run_tests();

__DATA__

=== TEST 1: get_headers default limit is 100
--- config
    location /t {
        content_by_lua_block {
            local h, err = ngx.req.get_headers()
            local n = 0
            for _ in pairs(h) do n = n + 1 end
            ngx.say(n, " ", tostring(err))
        }
    }
--- request
GET /t
--- more_headers eval: $::Headers
--- response_body
100 truncated



=== TEST 2: get_headers(max) and get_headers(0)
--- config
    location /t {
        content_by_lua_block {
            local function count(t)
                local n = 0
                for _ in pairs(t) do n = n + 1 end
                return n
            end
            local h, err = ngx.req.get_headers(5)
            ngx.say(count(h), " ", tostring(err))
            h, err = ngx.req.get_headers(0)
            ngx.say(count(h), " ", tostring(err))
            h, err = ngx.req.get_headers(112)
            ngx.say(count(h), " ", tostring(err))
            h, err = ngx.req.get_headers(113)
            ngx.say(count(h), " ", tostring(err))
        }
    }
--- request
GET /t
--- more_headers eval: $::Headers
--- response_body
5 truncated
112 nil
112 nil
112 nil



=== TEST 3: get_uri_args default limit, max and 0
--- config
    location /t {
        content_by_lua_block {
            local function count(t)
                local n = 0
                for _ in pairs(t) do n = n + 1 end
                return n
            end
            local a, err = ngx.req.get_uri_args()
            ngx.say(count(a), " ", tostring(err))
            a, err = ngx.req.get_uri_args(3)
            ngx.say(count(a), " ", tostring(err), " ", a.a1, a.a2, a.a3)
            a, err = ngx.req.get_uri_args(0)
            ngx.say(count(a), " ", tostring(err))
            a, err = ngx.req.get_uri_args(110)
            ngx.say(count(a), " ", tostring(err))
        }
    }
--- request eval
"GET /t?$::Args"
--- response_body
100 truncated
3 truncated 123
110 nil
110 nil



=== TEST 4: get_post_args default limit, max and 0
--- config
    location /t {
        content_by_lua_block {
            local function count(t)
                local n = 0
                for _ in pairs(t) do n = n + 1 end
                return n
            end
            ngx.req.read_body()
            local a, err = ngx.req.get_post_args()
            ngx.say(count(a), " ", tostring(err))
            a, err = ngx.req.get_post_args(2)
            ngx.say(count(a), " ", tostring(err), " ", a.a1, a.a2)
            a, err = ngx.req.get_post_args(0)
            ngx.say(count(a), " ", tostring(err))
        }
    }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
"POST /t\n$::Args"
--- response_body
100 truncated
2 truncated 12
110 nil



=== TEST 5: ngx.resp.get_headers default limit, max and 0
--- config
    location /t {
        content_by_lua_block {
            local function count(t)
                local n = 0
                for _ in pairs(t) do n = n + 1 end
                return n
            end
            for i = 1, 110 do
                ngx.header["X-R" .. i] = i
            end
            local out = {}
            local h, err = ngx.resp.get_headers()
            out[1] = count(h) .. " " .. tostring(err)
            h, err = ngx.resp.get_headers(4)
            out[2] = count(h) .. " " .. tostring(err)
            h, err = ngx.resp.get_headers(0)
            out[3] = count(h) .. " " .. tostring(err) .. " " .. h.connection
            ngx.say(table.concat(out, "\n"))
        }
    }
--- request
GET /t
--- response_body
100 truncated
4 truncated
111 nil close



=== TEST 6: repeated keys count once per occurrence
--- config
    location /t {
        content_by_lua_block {
            local a, err = ngx.req.get_uri_args(3)
            ngx.say(#a.x, " ", tostring(a.y), " ", tostring(err))
            local h, err2 = ngx.req.get_headers(4)
            ngx.say(type(h["x-d"]), " ", tostring(h["x-e"]), " ", tostring(err2))
        }
    }
--- request
GET /t?x=1&x=2&x=3&y=4
--- more_headers
X-D: 1
X-D: 2
X-E: 3
--- response_body
3 nil truncated
table nil truncated
