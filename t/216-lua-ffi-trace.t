# Part B of issue #10: every FFI-backed API compiles into a LuaJIT trace.
# jit.v writes the trace log into the error log (as lua-resty-core's own
# tests do); for a loop calling each API there must be a trace of the loop —
# "[TRACE N content_by_lua(nginx.conf:L):4 loop]", or "...:4 -> M]" when the
# API has a loop of its own (get_headers) that became the root trace the
# outer loop links to — and no "stitch" (a lua_CFunction breaking the trace)
# and no "NYI" (something the JIT cannot compile).
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: ngx.now() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.now()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 2: ngx.time() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.time()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 3: ngx.today() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.today()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 4: ngx.localtime() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.localtime()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 5: ngx.utctime() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.utctime()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 6: ngx.update_time() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                ngx.update_time()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 7: ngx.http_time() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.http_time(1290079655 + i)
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 8: ngx.cookie_time() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.cookie_time(1290079655 + i)
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 9: ngx.parse_http_time() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.parse_http_time("Thu, 18 Nov 2010 11:27:35 GMT")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 10: resty.core.time monotonic_msec() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = require("resty.core.time").monotonic_msec()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 11: resty.core.time monotonic_time() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = require("resty.core.time").monotonic_time()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 12: ngx.worker.id() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.worker.id()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 13: ngx.worker.pid() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.worker.pid()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 14: ngx.worker.count() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.worker.count()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 15: ngx.worker.exiting() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.worker.exiting()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 16: ngx.worker.pids() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.worker.pids()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 17: ngx.ctx (read) compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.ctx.foo
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 18: ngx.ctx (write a field) compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                ngx.ctx.foo = i
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 19: ngx.status (read) compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.status
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 20: ngx.status (write) compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                ngx.status = 200
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 21: ngx.req.get_method() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.req.get_method()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 22: ngx.req.set_method() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                ngx.req.set_method(ngx.HTTP_GET)
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 23: ngx.req.get_uri_args() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.req.get_uri_args()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 24: ngx.req.get_headers() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.req.get_headers()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 25: ngx.req.set_header() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                ngx.req.set_header("X-Foo", "bar")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 26: ngx.req.clear_header() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                ngx.req.clear_header("X-Foo")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 27: ngx.req.is_internal() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.req.is_internal()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 28: ngx.req.start_time() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.req.start_time()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 29: ngx.header["X-A"] (read) compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.header["X-A"]
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 30: ngx.header (write) compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                ngx.header["X-B"] = "b"
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 31: ngx.var.uri (read) compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.var.uri
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 32: ngx.var (write) compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                ngx.var.foo = "x"
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 33: ngx.escape_uri() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.escape_uri("a b/c")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 34: ngx.unescape_uri() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.unescape_uri("a%20b")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 35: ngx.md5() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.md5("hello")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 36: ngx.md5_bin() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.md5_bin("hello")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 37: ngx.sha1_bin() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.sha1_bin("hello")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 38: ngx.crc32_short() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.crc32_short("hello")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 39: ngx.crc32_long() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.crc32_long("hello")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 40: ngx.encode_base64() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.encode_base64("hello")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 41: ngx.decode_base64() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.decode_base64("aGVsbG8=")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 42: ngx.decode_base64mime() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.decode_base64mime("aGVs\r\nbG8=")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 43: ngx.get_phase() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = ngx.get_phase()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 44: ngx.errlog.raw_log() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                errlog.raw_log(ngx.DEBUG, "raw_log in a loop")
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI

=== TEST 45: resty.core.base get_request() compiles
--- http_config
    init_by_lua_block {
        -- jit.v opens its file with "w"; append instead, so that the
        -- server's own lines before it stay and none is overwritten.
        local open = io.open
        io.open = function (path) return open(path, "a") end
        require "jit.v".on("$TEST_NGINX_ERROR_LOG")
        io.open = open
        jit.opt.start("hotloop=10")
    }
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local errlog = require "ngx.errlog"
            for i = 1, 1000 do
                local v = base.get_request()
            end
            ngx.say("ok")
        }
    }
--- request
GET /t?a=1&b=2
--- more_headers
X-A: 1
--- response_body
ok
--- error_log eval
qr/\[TRACE\s+\d+ content_by_lua\(nginx\.conf:\d+\):4 (?:loop|-> \d+)\]/
--- no_error_log
[error]
stitch
NYI
