# ngx.on_abort and lua_check_client_abort.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: lua_check_client_abort off: on_abort returns nil + error
--- config
    location /t {
        content_by_lua_block {
            local ok, err = ngx.on_abort(function () end)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
nil lua_check_client_abort is off



=== TEST 2: duplicate call
--- config
    lua_check_client_abort on;
    location /t {
        content_by_lua_block {
            local ok, err = ngx.on_abort(function () end)
            ngx.say(ok, " ", err)
            ok, err = ngx.on_abort(function () end)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
1 nil
nil duplicate call



=== TEST 3: client abort runs the handler, ngx.exit(499) in it ends the request
--- config
    lua_check_client_abort on;
    location /t {
        content_by_lua_block {
            local ok, err = ngx.on_abort(function ()
                ngx.log(ngx.NOTICE, "on abort called")
                ngx.exit(499)
            end)
            if not ok then
                ngx.log(ngx.ERR, "cannot set on_abort: ", err)
                return
            end
            ngx.sleep(0.7)
            ngx.log(ngx.NOTICE, "main handler done")
        }
        log_by_lua_block { ngx.log(ngx.NOTICE, "log phase status: ", ngx.status, " ", ngx.var.status) }
    }
--- request
GET /t
--- timeout: 0.2
--- abort
--- wait: 0.7
--- ignore_response
--- error_log
client prematurely closed connection
on abort called
log phase status: 499 499
--- no_error_log
main handler done
[alert]



=== TEST 4: client abort without a handler: the request is aborted (499)
--- config
    lua_check_client_abort on;
    location /t {
        content_by_lua_block {
            ngx.sleep(0.7)
            ngx.log(ngx.NOTICE, "main handler done")
        }
        log_by_lua_block { ngx.log(ngx.NOTICE, "log phase status: ", ngx.var.status) }
    }
--- request
GET /t
--- timeout: 0.2
--- abort
--- wait: 0.7
--- ignore_response
--- error_log
client prematurely closed connection
log phase status: 499
--- no_error_log
main handler done
[alert]



=== TEST 5: handler that does not exit: the main thread goes on
--- config
    lua_check_client_abort on;
    location /t {
        content_by_lua_block {
            ngx.on_abort(function ()
                ngx.log(ngx.NOTICE, "on abort called")
            end)
            ngx.sleep(0.5)
            ngx.log(ngx.NOTICE, "main handler done")
        }
    }
--- request
GET /t
--- timeout: 0.2
--- abort
--- wait: 0.6
--- ignore_response
--- error_log
on abort called
main handler done
--- no_error_log
[alert]



=== TEST 6: on_abort in rewrite_by_lua, then the request completes normally
--- config
    lua_check_client_abort on;
    location /t {
        rewrite_by_lua_block {
            local ok, err = ngx.on_abort(function () ngx.log(ngx.ERR, "should not run") end)
            ngx.ctx.ok = ok
        }
        content_by_lua_block { ngx.say("ok: ", ngx.ctx.ok) }
    }
--- request
GET /t
--- response_body
ok: 1
--- no_error_log
should not run



=== TEST 7: on_abort is disabled in header_filter_by_lua
--- config
    lua_check_client_abort on;
    location /t {
        content_by_lua_block { ngx.say("hi") }
        header_filter_by_lua_block {
            local ok, err = pcall(ngx.on_abort, function () end)
            ngx.log(ngx.ERR, "res: ", ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
hi
--- error_log
API disabled in the context of header_filter_by_lua*



=== TEST 8: the handler must be a function
--- config
    lua_check_client_abort on;
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.on_abort, 1)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body_like
false bad argument #1 to '\?' \(Lua function expected\)
