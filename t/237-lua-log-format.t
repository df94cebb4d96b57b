# ngx.log / print lines as lua-nginx-module writes them: the chunk name of
# every phase, the function name, print() at notice, booleans and nil,
# tables with and without __tostring, NUL bytes.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: chunk names per phase (block form)
--- config
    location /t {
        set_by_lua_block $a {
            ngx.log(ngx.WARN, "HELLO set")
            return 1
        }
        rewrite_by_lua_block {
            ngx.log(ngx.WARN, "HELLO rewrite")
        }
        access_by_lua_block {
            ngx.log(ngx.WARN, "HELLO access")
        }
        content_by_lua_block {
            ngx.log(ngx.WARN, "HELLO content")
            ngx.say("ok")
        }
        header_filter_by_lua_block {
            ngx.log(ngx.WARN, "HELLO header_filter")
        }
        body_filter_by_lua_block {
            if ngx.arg[2] then ngx.log(ngx.WARN, "HELLO body_filter") end
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "HELLO log")
        }
    }
--- request
GET /t
--- response_body
ok
--- grep_error_log eval: qr/\[lua\] \w+\(nginx\.conf:\d+\):\d+: HELLO \w+/
--- grep_error_log_out eval
qr/\A\[lua\] set_by_lua\(nginx\.conf:(\d+)\):2: HELLO set
\[lua\] rewrite_by_lua\(nginx\.conf:(\d+)\):2: HELLO rewrite
\[lua\] access_by_lua\(nginx\.conf:(\d+)\):2: HELLO access
\[lua\] content_by_lua\(nginx\.conf:(\d+)\):2: HELLO content
\[lua\] header_filter_by_lua\(nginx\.conf:(\d+)\):2: HELLO header_filter
\[lua\] body_filter_by_lua\(nginx\.conf:(\d+)\):2: HELLO body_filter
\[lua\] log_by_lua\(nginx\.conf:(\d+)\):2: HELLO log
\z/



=== TEST 2: the line is the directive's line in the generated config
--- config
    location /t {
        set_by_lua $a 'ngx.log(ngx.WARN, "quoted ", 1) return 1';
        content_by_lua_block {
            ngx.log(ngx.WARN, "block")
            ngx.say(ngx.var.a)
        }
    }
--- request
GET /t
--- response_body
1
--- error_log eval
my $conf = '';
[qr/\[lua\] set_by_lua\(nginx\.conf:(\d+)\):1: quoted 1,/, qr/\[lua\] content_by_lua\(nginx\.conf:\d+\):2: block,/]



=== TEST 3: function names
--- config
    location /t {
        content_by_lua_block {
            local function helper()
                ngx.log(ngx.ERR, "inside")
            end
            helper()
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[error\] .*\[lua\] content_by_lua\(nginx\.conf:\d+\):3: helper\(\): inside,/



=== TEST 4: print() logs at notice
--- config
    location /t {
        content_by_lua_block {
            print("hello ", "print ", 42, " ", true)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[notice\] .*\[lua\] content_by_lua\(nginx\.conf:\d+\):2: hello print 42 true,/



=== TEST 5: booleans and nil
--- config
    location /t {
        content_by_lua_block {
            ngx.log(ngx.WARN, true, false, nil)
            ngx.log(ngx.WARN, "x", nil, "y", ngx.null)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
:2: truefalsenil,
:3: xnilynull,



=== TEST 6: a table without __tostring (through pcall: no function name)
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.log, ngx.WARN, {})
            ngx.say(ok, " ", err)
            ok, err = pcall(print, "a", {})
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
false bad argument #1 to '?' (expected table to have __tostring metamethod)
false bad argument #2 to '?' (expected table to have __tostring metamethod)



=== TEST 7: a table with __tostring
--- config
    location /t {
        content_by_lua_block {
            local t = setmetatable({}, { __tostring = function() return "TOSTR" end })
            ngx.log(ngx.WARN, "t=", t)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
:3: t=TOSTR,



=== TEST 8: NUL bytes are kept
--- config
    location /t {
        content_by_lua_block {
            ngx.log(ngx.WARN, "a\0b")
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/:2: a\0b,/



=== TEST 9: init_by_lua and init_worker_by_lua chunk names
--- http_config
    init_worker_by_lua_block {
        ngx.log(ngx.WARN, "HELLO init_worker")
    }
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[lua\] init_worker_by_lua\(nginx\.conf:\d+\):2: HELLO init_worker/



=== TEST 10: bad log level
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.log, 100, "x")
            ngx.say(ok, " ", err)
            ok, err = pcall(ngx.log, "warn", "x")
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
false bad argument #1 to '?' (bad log level: 100)
false bad argument #1 to '?' (number expected, got string)



=== TEST 11: a table without __tostring, called directly
--- config
    location /t {
        content_by_lua_block {
            ngx.log(ngx.WARN, "a", {})
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
bad argument #2 to 'log' (expected table to have __tostring metamethod)



=== TEST 12: print with a table, called directly
--- config
    location /t {
        content_by_lua_block {
            print({})
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
bad argument #1 to 'print' (expected table to have __tostring metamethod)



=== TEST 13: lines logged from log_by_lua say "while logging request" before the request context, as nginx's log action
--- config
    location /t {
        content_by_lua_block {
            ngx.log(ngx.WARN, "in content")
            ngx.say("ok")
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "in log phase")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
[qr/\[lua\] log_by_lua\(nginx\.conf:\d+\):2: in log phase while logging request, client: 127\.0\.0\.1, server: localhost, request: "GET \/t HTTP\/1\.1", host: "localhost"/,
qr/\[lua\] content_by_lua\(nginx\.conf:\d+\):2: in content, client: 127\.0\.0\.1, server: localhost, request: "GET \/t HTTP\/1\.1", host: "localhost"/]
