# ngx.pipe beyond OpenResty, and the process hygiene around it: a shell-mode
# child gets its own process group and kill() reaches the whole pipeline; a
# pipe whose owner (request, timer) ends is killed at once; a collected pipe
# object kills its child; children inherit no server descriptor; 100 pipes
# at once in one worker, each reaped by its own pid, using no connection
# slots (worker_connections 16 here).
use Test::Nginx::Socket::Lua 'no_plan';

env_to_nginx("PATH");
worker_connections(16);
run_tests();

__DATA__

=== TEST 1: kill() of a shell pipeline reaches the grandchildren (process group)
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local function group(pgid)
                -- live (non-zombie) processes in process group pgid; an
                -- orphan's zombie waits for PID 1 to reap it
                local p = ngx_pipe.spawn({"ls", "/proc"})
                local n = 0
                for pid in p:stdout_read_all():gmatch("%d+") do
                    local f = io.open("/proc/" .. pid .. "/stat")
                    if f then
                        local st = f:read("*a") or ""
                        f:close()
                        local state, pg = st:match("%) (%S) %-?%d+ (%d+)")
                        if tonumber(pg) == pgid and state ~= "Z" then n = n + 1 end
                    end
                end
                return n
            end
            local proc = ngx_pipe.spawn("sleep 100 | sleep 101")
            ngx.sleep(0.2)
            ngx.say("members: ", group(proc:pid()))
            ngx.say(proc:kill(15))
            ngx.say(proc:wait())
            ngx.sleep(0.1)
            ngx.say("left: ", group(proc:pid()))
        }
    }
--- request
GET /t
--- response_body
members: 3
true
falsesignal15
left: 0
--- no_error_log
[error]



=== TEST 2: a request that ends leaves no child behind (argv and shell pipeline)
--- http_config
    lua_shared_dict pids 1m;
--- config
    location = /spawn {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local a = ngx_pipe.spawn({"sleep", "100"})
            local b = ngx_pipe.spawn("sleep 100 | sleep 102")
            ngx.shared.pids:set("a", a:pid())
            ngx.shared.pids:set("b", b:pid())
            ngx.sleep(0.1)
            ngx.say("spawned")
            -- returns without wait(); a, b are still referenced here
            package.loaded.keep = {a, b}
        }
    }
    location = /check {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local function group(pgid)
                -- live (non-zombie) processes in process group pgid; an
                -- orphan's zombie waits for PID 1 to reap it
                local p = ngx_pipe.spawn({"ls", "/proc"})
                local n = 0
                for pid in p:stdout_read_all():gmatch("%d+") do
                    local f = io.open("/proc/" .. pid .. "/stat")
                    if f then
                        local st = f:read("*a") or ""
                        f:close()
                        local state, pg = st:match("%) (%S) %-?%d+ (%d+)")
                        if tonumber(pg) == pgid and state ~= "Z" then n = n + 1 end
                    end
                end
                return n
            end
            ngx.sleep(0.1)
            local function alive(pid)
                local f = io.open("/proc/" .. pid .. "/stat")
                if f then f:close() return true end
                return false
            end
            ngx.say("a alive: ", alive(ngx.shared.pids:get("a")))
            ngx.say("b alive: ", alive(ngx.shared.pids:get("b")))
            ngx.say("b group: ", group(ngx.shared.pids:get("b")))
            local a = package.loaded.keep[1]
            ngx.say(a:wait())
            ngx.say(a:kill(9))
            ngx.say(a:stdout_read_line())
        }
    }
--- pipelined_requests eval
["GET /spawn", "GET /check"]
--- response_body eval
["spawned\n", "a alive: false\nb alive: false\nb group: 0\nnilexited\nnilexited\nnilclosed\n"]
--- no_error_log
[error]



=== TEST 3: a pipe abandoned by an aborted request (client gone, lua_check_client_abort)
--- http_config
    lua_shared_dict pids 1m;
--- config
    location = /t {
        lua_check_client_abort on;
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local function group(pgid)
                -- live (non-zombie) processes in process group pgid; an
                -- orphan's zombie waits for PID 1 to reap it
                local p = ngx_pipe.spawn({"ls", "/proc"})
                local n = 0
                for pid in p:stdout_read_all():gmatch("%d+") do
                    local f = io.open("/proc/" .. pid .. "/stat")
                    if f then
                        local st = f:read("*a") or ""
                        f:close()
                        local state, pg = st:match("%) (%S) %-?%d+ (%d+)")
                        if tonumber(pg) == pgid and state ~= "Z" then n = n + 1 end
                    end
                end
                return n
            end
            local proc = ngx_pipe.spawn("sleep 100 | sleep 103", {wait_timeout = 0})
            local pid = proc:pid()
            ngx.timer.at(0.6, function()
                local f = io.open("/proc/" .. pid .. "/stat")
                ngx.log(ngx.WARN, "after abort: group ", group(pid), " sh alive ", f ~= nil)
            end)
            ngx.log(ngx.WARN, "waiting on ", pid)
            proc:wait()
            ngx.log(ngx.ERR, "not reached")
        }
    }
--- request
GET /t
--- timeout: 0.3
--- abort
--- wait: 1
--- ignore_response
--- error_log
after abort: group 0 sh alive false
--- no_error_log
not reached



=== TEST 4: a timer's pipes die with the timer run; a collected pipe object kills its child
--- http_config
    lua_shared_dict pids 1m;
    init_worker_by_lua_block {
        local ngx_pipe = require "ngx.pipe"
        -- no owner in init_worker: the pipe lives until it is collected
        local p = ngx_pipe.spawn({"sleep", "100"})
        ngx.shared.pids:set("gc", p:pid())
        p = nil
        ngx.timer.at(0, function()
            local t = ngx_pipe.spawn({"sleep", "100"})
            ngx.shared.pids:set("timer", t:pid())
            package.loaded.keep_timer = t
        end)
    }
--- config
    location = /t {
        content_by_lua_block {
            local function alive(pid)
                local f = io.open("/proc/" .. pid .. "/stat")
                if f then f:close() return true end
                return false
            end
            ngx.sleep(0.1)
            ngx.say("timer child alive: ", alive(ngx.shared.pids:get("timer")))
            local gc = ngx.shared.pids:get("gc")
            ngx.say("gc child alive before collect: ", alive(gc))
            collectgarbage()
            collectgarbage()
            ngx.sleep(0.1)
            ngx.say("gc child alive after collect: ", alive(gc))
        }
    }
--- request
GET /t
--- response_body
timer child alive: false
gc child alive before collect: true
gc child alive after collect: false



=== TEST 5: children inherit only their three pipes (no listening socket, no log, no Lua file)
--- config
    location = /t {
        content_by_lua_block {
            local f = io.open(ngx.config.prefix() .. "conf/nginx.conf")
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"ls", "/proc/self/fd"})
            local out = proc:stdout_read_all()
            ngx.print(out)
            f:close()
        }
    }
--- request
GET /t
--- response_body
0
1
2
3



=== TEST 6: 100 pipes at once in one worker, each reaped by its own pid, no connection slots
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            ngx.update_time()
            local t0 = ngx.now()
            local procs = {}
            for i = 1, 100 do
                local p, err = ngx_pipe.spawn("sleep 0.5; echo " .. i .. "; exit " .. (i % 7))
                if not p then ngx.say("spawn ", i, ": ", err) return end
                procs[i] = p
            end
            local bad = 0
            for i = 1, 100 do
                local line = procs[i]:stdout_read_line()
                local ok, reason, status = procs[i]:wait()
                if line ~= tostring(i) or reason ~= "exit" or status ~= i % 7 then
                    bad = bad + 1
                end
            end
            ngx.update_time()
            local dt = ngx.now() - t0
            ngx.say("bad: ", bad, ", concurrent: ", dt < 4)
        }
    }
--- request
GET /t
--- response_body
bad: 0, concurrent: true
--- timeout: 10
--- no_error_log
[error]
[alert]
