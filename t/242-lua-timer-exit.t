# Timers at graceful exit (QUIT): pending timers run at once with
# premature = true, new ones with a delay fail with "process exiting" while
# at(0) still runs (premature = false), ngx.worker.exiting() is true; a
# timer still sleeping when worker_shutdown_timeout ends is dropped without
# resuming. And a request aborted while it sleeps is never resumed.
use Test::Nginx::Socket::Lua 'no_plan';

# Graceful exit is a worker thing: with master_process off nginx just exits.
master_on();
workers(1);

run_tests();

__DATA__

=== TEST 1: pending timers run as premature on QUIT
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(100, function(premature, what)
                ngx.log(ngx.WARN, "pending timer: premature=", tostring(premature), " ", what,
                        " exiting=", tostring(ngx.worker.exiting()))
                local ok, err = ngx.timer.at(1, function() end)
                ngx.log(ngx.WARN, "at(1) while exiting: ", tostring(ok), " ", err)
                ok, err = ngx.timer.at(0, function(p)
                    ngx.log(ngx.WARN, "at(0) while exiting ran: premature=", tostring(p))
                end)
                ngx.log(ngx.WARN, "at(0) while exiting: ", not not ok, " ", tostring(err))
            end, "job")
            ngx.timer.every(100, function(premature)
                ngx.log(ngx.WARN, "every timer: premature=", tostring(premature))
            end)
            ngx.say("exiting=", ngx.worker.exiting())
        }
    }
--- request
GET /t
--- response_body
exiting=false
--- no_error_log
pending timer
--- shutdown_error_log
pending timer: premature=true job exiting=true
at(1) while exiting: nil process exiting
at(0) while exiting: true nil
at(0) while exiting ran: premature=false
every timer: premature=true



=== TEST 2: a running timer gets worker_shutdown_timeout, then is dropped without resuming
--- main_config
    worker_shutdown_timeout 200ms;
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                ngx.log(ngx.WARN, "timer sleeping")
                ngx.sleep(30)
                ngx.log(ngx.WARN, "timer resumed after sleep")
            end)
            ngx.sleep(0.05)
            ngx.say("running: ", ngx.timer.running_count())
        }
    }
--- request
GET /t
--- response_body
running: 1
--- error_log
timer sleeping
--- shutdown_error_log
exiting
--- no_shutdown_error_log
timer resumed after sleep
[alert]



=== TEST 3: a running timer that ends within worker_shutdown_timeout finishes normally
--- main_config
    worker_shutdown_timeout 5s;
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                ngx.sleep(0.3)
                ngx.log(ngx.WARN, "slow timer done, exiting=", tostring(ngx.worker.exiting()))
            end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- shutdown_error_log
slow timer done, exiting=true



=== TEST 4: a request aborted while it sleeps is never resumed
--- config
    lua_check_client_abort on;
    location /t {
        content_by_lua_block {
            ngx.log(ngx.WARN, "request sleeping")
            ngx.sleep(0.3)
            ngx.log(ngx.WARN, "request resumed after sleep")
        }
    }
--- request
GET /t
--- timeout: 0.1
--- abort
--- ignore_response
--- wait: 0.5
--- error_log
request sleeping
--- no_error_log
request resumed after sleep
[alert]
