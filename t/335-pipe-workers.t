# Pipes under a master with two workers: each child is reaped by libuv by its
# own pid in the worker that spawned it; the master's SIGCHLD handling of its
# workers never sees (or steals) a pipe's child, and a worker killed meanwhile
# is respawned while the other worker's pipes keep their own exit statuses.
use Test::Nginx::Socket::Lua 'no_plan';

master_on();
workers(2);
env_to_nginx("PATH");
run_tests();

__DATA__

=== TEST 1: a sibling worker killed (SIGKILL) while pipes run: statuses stay right, the worker comes back
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local me = ngx.worker.pid()
            local other
            for _, pid in ipairs(ngx.worker.pids()) do
                if pid ~= me then other = pid end
            end
            local procs = {}
            for i = 1, 20 do
                procs[i] = ngx_pipe.spawn("sleep 0.3; exit " .. i)
            end
            local k = ngx_pipe.spawn({"kill", "-9", tostring(other)})
            ngx.say("kill: ", k:wait())
            local bad = 0
            for i = 1, 20 do
                local ok, reason, status = procs[i]:wait()
                if ok ~= false or reason ~= "exit" or status ~= i then bad = bad + 1 end
            end
            ngx.say("bad: ", bad)
            ngx.sleep(0.5)
            local n = 0
            for _, pid in ipairs(ngx.worker.pids()) do
                if pid ~= other then n = n + 1 end
            end
            ngx.say("workers now: ", n)
        }
    }
--- request
GET /t
--- response_body
kill: trueexit0
bad: 0
workers now: 2
--- error_log eval
qr/\[alert\] \d+#\d+: worker process \d+ exited on signal 9/
--- no_error_log
exited with code 1
