# The runtime: code cache, package path, init_by_lua sharing, init_worker,
# ngx.ctx isolation, globals, ngx.log format, print.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: lua_code_cache on keeps module state between requests
--- http_config
    lua_package_path "$prefix/html/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            local m = require "counter"
            m.n = m.n + 1
            ngx.say(m.n)
        }
    }
--- user_files
>>> counter.lua
return { n = 0 }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- response_body eval
["1\n", "2\n"]



=== TEST 2: lua_code_cache off reloads modules and files on every request
--- http_config
    lua_package_path "$prefix/html/?.lua;;";
--- config
    lua_code_cache off;
    location /t {
        content_by_lua_block {
            local m = require "counter2"
            m.n = m.n + 1
            ngx.say(m.n)
        }
    }
--- user_files
>>> counter2.lua
return { n = 0 }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- response_body eval
["1\n", "1\n"]



=== TEST 3: content_by_lua_file
--- config
    location /t {
        content_by_lua_file html/hello.lua;
    }
--- user_files
>>> hello.lua
ngx.say("hello from file")
--- request
GET /t
--- response_body
hello from file



=== TEST 4: errors in a file name the file
--- config
    location /t {
        content_by_lua_file html/bad.lua;
    }
--- user_files
>>> bad.lua
local x = 1
error("in file")
--- request
GET /t
--- error_code: 500
--- error_log eval
qr/lua entry thread aborted: runtime error: .*html\/bad\.lua:2: in file/



=== TEST 5: lua_package_path with ;; keeps the default path
--- http_config
    lua_package_path "/nonexistent/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            ngx.say(package.path:find("/nonexistent/?.lua;", 1, true) == 1)
            ngx.say(#package.path > #"/nonexistent/?.lua;")
        }
    }
--- request
GET /t
--- response_body
true
true



=== TEST 6: lua_package_cpath and cjson from the default cpath
--- http_config
    lua_package_cpath "/nonexistent/?.so;;";
--- config
    location /t {
        content_by_lua_block {
            local cjson = require "cjson"
            ngx.say(cjson.encode({k = "v"}))
            ngx.say(package.cpath:find("/nonexistent/?.so;", 1, true) == 1)
        }
    }
--- request
GET /t
--- response_body
{"k":"v"}
true



=== TEST 7: init_by_lua runs once and its data is shared by requests
--- http_config
    init_by_lua_block {
        shared_data = { loaded_at = "init", phase = ngx.get_phase() }
        package.loaded.my_mod = { value = 42 }
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say(shared_data.loaded_at, " ", shared_data.phase, " ", require("my_mod").value)
        }
    }
--- request
GET /t
--- response_body
init init 42
--- no_error_log
[error]
writing a global Lua variable



=== TEST 8: init_worker_by_lua runs in the worker
--- http_config
    init_worker_by_lua_block {
        package.loaded.worker_info = { phase = ngx.get_phase(), id = ngx.worker.id() }
    }
--- config
    location /t {
        content_by_lua_block {
            local w = package.loaded.worker_info
            ngx.say(w.phase, " ", w.id)
        }
    }
--- request
GET /t
--- response_body
init_worker 0



=== TEST 9: init_by_lua error stops the server from starting
--- http_config
    init_by_lua_block { error("init failed") }
--- config
    location /t { content_by_lua_block { ngx.say("x") } }
--- must_die
--- error_log
init failed



=== TEST 10: ngx.ctx is per request
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.ctx.seen = (ngx.ctx.seen or 0) + 1
        }
        access_by_lua_block {
            ngx.ctx.seen = ngx.ctx.seen + 1
        }
        content_by_lua_block {
            ngx.say(ngx.ctx.seen)
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "ctx in log: ", ngx.ctx.seen)
        }
    }
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t"]
--- response_body eval
["2\n", "2\n", "2\n"]
--- error_log
ctx in log: 2



=== TEST 11: ngx.ctx can be replaced
--- config
    location /t {
        content_by_lua_block {
            ngx.ctx = { a = 1 }
            ngx.say(ngx.ctx.a)
        }
    }
--- request
GET /t
--- response_body
1



=== TEST 12: ngx.ctx of concurrent sleeping requests does not mix
--- config
    location /t {
        content_by_lua_block {
            ngx.ctx.id = ngx.var.arg_id
            ngx.sleep(0.05)
            ngx.say(ngx.ctx.id)
        }
    }
    location /main {
        content_by_lua_block {
            local sock = require "cjson" -- any module
            ngx.say("ok")
        }
    }
--- pipelined_requests eval
["GET /t?id=1", "GET /t?id=2"]
--- response_body eval
["1\n", "2\n"]



=== TEST 13: writing a global from a request handler warns
--- config
    location /t {
        content_by_lua_block {
            my_global = 1
            ngx.say(my_global)
        }
    }
--- request
GET /t
--- response_body
1
--- error_log eval
qr/\[warn\] .*\[lua\] _G write guard:12: __newindex\(\): writing a global Lua variable \('my_global'\) which may lead to race conditions between concurrent requests, so prefer the use of 'local' variables/



=== TEST 14: ngx.log format and levels
--- config
    location /t {
        content_by_lua_block {
            local function f()
                ngx.log(ngx.ERR, "hello ", 1, " ", true, " ", nil, " ", ngx.null)
            end
            f()
            ngx.log(ngx.WARN, "main chunk")
            print("printed")
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
[qr/\[error\] \d+#\d+: \*\d+ \[lua\] content_by_lua\(nginx.conf:\d+\):3: f\(\): hello 1 true nil null, client: 127\.0\.0\.1, server: localhost, request: "GET \/t HTTP\/1\.1", host: "localhost"/,
 qr/\[warn\] .*\[lua\] content_by_lua\(nginx.conf:\d+\):6: main chunk, client/,
 qr/\[notice\] .*\[lua\] content_by_lua\(nginx.conf:\d+\):7: printed, client/]



=== TEST 15: ngx.log below the log level is dropped
--- log_level: warn
--- config
    location /t {
        content_by_lua_block {
            ngx.log(ngx.INFO, "should not appear")
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
should not appear



=== TEST 16: ngx.get_phase in each phase
--- config
    location /t {
        set_by_lua_block $p { return ngx.get_phase() }
        rewrite_by_lua_block { ngx.ctx.p = { ngx.var.p, ngx.get_phase() } }
        access_by_lua_block { table.insert(ngx.ctx.p, ngx.get_phase()) }
        content_by_lua_block {
            table.insert(ngx.ctx.p, ngx.get_phase())
            ngx.say(table.concat(ngx.ctx.p, " "))
        }
        header_filter_by_lua_block { ngx.header["X-Phase"] = ngx.get_phase() }
        log_by_lua_block { ngx.log(ngx.WARN, "phase: ", ngx.get_phase()) }
    }
--- request
GET /t
--- response_headers
X-Phase: header_filter
--- response_body
set rewrite access content
--- error_log
phase: log
