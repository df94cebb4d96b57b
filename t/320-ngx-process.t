# require "ngx.process": type() in the master (init_by_lua), the workers and
# the privileged agent; enable_privileged_agent()'s phase rule and argument
# errors; get_master_pid(); ngx.worker.* inside the agent; exit_worker_by_lua
# in the agent. Expectations from lua-resty-core's docs and tests
# (t/process-type-*.t, t/process-type-privileged-agent-connections.t,
# t/master-pid*.t).
#
# Not for Debian's nginx: its lua module lacks OpenResty's privileged-agent
# core patch and lua-resty-core's ngx.process, so this file is run against
# Lunet only.
use Test::Nginx::Socket::Lua 'no_plan';

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: type() in init_by_lua (master), the workers and the agent
--- http_config
    lua_shared_dict seen 1m;
    init_by_lua_block {
        local process = require "ngx.process"
        ngx.log(ngx.WARN, "init_by_lua type: ", process.type())
        local ok, err = process.enable_privileged_agent()
        ngx.log(ngx.WARN, "enable_privileged_agent: ", tostring(ok), " ", tostring(err))
    }
    init_worker_by_lua_block {
        local process = require "ngx.process"
        ngx.log(ngx.WARN, "init_worker type: ", process.type())
        ngx.shared.seen:incr(process.type(), 1, 0)
    }
--- config
    location = /t {
        content_by_lua_block {
            local process = require "ngx.process"
            local seen = ngx.shared.seen
            for _ = 1, 500 do
                if seen:get("privileged agent") and seen:get("worker") == 2 then break end
                ngx.sleep(0.01)
            end
            ngx.say("content: ", process.type())
            ngx.say("workers: ", seen:get("worker"), ", agents: ", seen:get("privileged agent"))
        }
    }
--- request
GET /t
--- response_body
content: worker
workers: 2, agents: 1
--- grep_error_log eval: qr/init_by_lua type: \w+|enable_privileged_agent: \w+ \w+|init_worker type: [\w ]+/
--- grep_error_log_out eval
qr/\Ainit_by_lua type: master\nenable_privileged_agent: true nil\n(?:init_worker type: (?:worker|privileged agent)\n){3}\z/
--- no_error_log
[error]



=== TEST 2: enable_privileged_agent outside init_by_lua: nil, "API disabled in the current context"
--- http_config
    lua_shared_dict seen 1m;
    init_worker_by_lua_block {
        local process = require "ngx.process"
        local ok, err = process.enable_privileged_agent()
        ngx.shared.seen:set("init_worker", tostring(ok) .. " " .. tostring(err))
        ngx.timer.at(0, function()
            local ok, err = process.enable_privileged_agent(10)
            ngx.shared.seen:set("timer", tostring(ok) .. " " .. tostring(err))
        end)
    }
--- config
    location = /t {
        content_by_lua_block {
            local process = require "ngx.process"
            local seen = ngx.shared.seen
            for _ = 1, 500 do
                if seen:get("timer") then break end
                ngx.sleep(0.01)
            end
            ngx.say("init_worker: ", seen:get("init_worker"))
            ngx.say("timer: ", seen:get("timer"))
            local ok, err = process.enable_privileged_agent()
            ngx.say("content: ", ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
init_worker: nil API disabled in the current context
timer: nil API disabled in the current context
content: nil API disabled in the current context
--- no_error_log
[error]
privileged agent process



=== TEST 3: bad 'connections' arguments (a string, a negative number)
--- http_config
    init_by_lua_block {
        local process = require "ngx.process"
        for _, v in ipairs({ "10", -1 }) do
            local ok, err = process.enable_privileged_agent(v)
            ngx.log(ngx.WARN, "enable(", type(v), "): ", tostring(ok), ", ", err)
        end
    }
--- config
    location = /t {
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_body
ok
--- grep_error_log eval: qr/enable\(\w+\): .*/
--- grep_error_log_out
enable(string): nil, bad 'connections' argument: number expected and greater than 0
enable(number): nil, bad 'connections' argument: number expected and greater than 0
--- no_error_log
start privileged agent process



=== TEST 4: connections = 0: enabled, but the master spawns no agent and says why
--- http_config
    init_by_lua_block {
        local process = require "ngx.process"
        local ok, err = process.enable_privileged_agent(0)
        ngx.log(ngx.WARN, "enable(0): ", tostring(ok), " ", tostring(err))
    }
    init_worker_by_lua_block {
        ngx.log(ngx.WARN, "process type: ", require("ngx.process").type())
    }
--- config
    location = /t {
        content_by_lua_block { ngx.say(require("ngx.process").type()) }
    }
--- request
GET /t
--- response_body
worker
--- error_log
enable(0): true nil
[alert]
0 worker_connection is not enough, privileged agent process cannot be spawned
--- no_error_log
process type: privileged agent
start privileged agent process



=== TEST 5: get_master_pid() is the pid file's pid in init_by_lua, the workers and the agent
--- http_config
    lua_shared_dict seen 1m;
    init_by_lua_block {
        local process = require "ngx.process"
        package.loaded.init_master_pid = process.get_master_pid()
        assert(process.enable_privileged_agent())
    }
    init_worker_by_lua_block {
        local process = require "ngx.process"
        ngx.shared.seen:set(process.type(), process.get_master_pid())
    }
--- config
    location = /t {
        content_by_lua_block {
            local process = require "ngx.process"
            local seen = ngx.shared.seen
            for _ = 1, 500 do
                if seen:get("privileged agent") then break end
                ngx.sleep(0.01)
            end
            local f = assert(io.open(ngx.config.prefix() .. "/logs/nginx.pid"))
            local pid = tonumber(f:read("*l"))
            f:close()
            local v = process.get_master_pid()
            ngx.say("type: ", type(v))
            ngx.say("worker: ", v == pid)
            ngx.say("init_by_lua: ", package.loaded.init_master_pid == pid)
            ngx.say("agent: ", seen:get("privileged agent") == pid)
        }
    }
--- request
GET /t
--- response_body
type: number
worker: true
init_by_lua: true
agent: true
--- no_error_log
[error]



=== TEST 6: ngx.worker in the agent: id() nil, count() counts workers only, pid() its own
--- http_config
    lua_shared_dict seen 1m;
    init_by_lua_block {
        assert(require("ngx.process").enable_privileged_agent())
    }
    init_worker_by_lua_block {
        local process = require "ngx.process"
        if process.type() ~= "privileged agent" then
            return
        end
        local seen = ngx.shared.seen
        seen:set("id", tostring(ngx.worker.id()))
        seen:set("count", ngx.worker.count())
        seen:set("pid", ngx.worker.pid())
        -- its own pid, as the kernel knows it
        local f = io.open("/proc/self/stat")
        seen:set("self", tonumber(f:read("*a"):match("^(%d+)")))
        f:close()
    }
--- config
    location = /t {
        content_by_lua_block {
            local seen = ngx.shared.seen
            for _ = 1, 500 do
                if seen:get("self") then break end
                ngx.sleep(0.01)
            end
            ngx.say("id: ", seen:get("id"))
            ngx.say("count: ", seen:get("count"))
            ngx.say("pid is its own: ", seen:get("pid") == seen:get("self"))
            ngx.say("not this worker: ", seen:get("pid") ~= ngx.worker.pid())
        }
    }
--- request
GET /t
--- response_body
id: nil
count: 2
pid is its own: true
not this worker: true
--- no_error_log
[error]



=== TEST 7: the agent runs its timers and exit_worker_by_lua, and no request phase
--- http_config
    lua_shared_dict seen 1m;
    init_by_lua_block {
        assert(require("ngx.process").enable_privileged_agent())
    }
    init_worker_by_lua_block {
        local process = require "ngx.process"
        if process.type() == "privileged agent" then
            ngx.timer.every(0.01, function()
                ngx.shared.seen:incr("agent ticks", 1, 0)
            end)
        end
    }
    exit_worker_by_lua_block {
        ngx.log(ngx.WARN, "exit_worker in ", require("ngx.process").type())
    }
    log_by_lua_block {
        ngx.log(ngx.WARN, "log phase in ", require("ngx.process").type())
    }
--- config
    location = /t {
        content_by_lua_block {
            local seen = ngx.shared.seen
            for _ = 1, 500 do
                if (seen:get("agent ticks") or 0) >= 3 then break end
                ngx.sleep(0.01)
            end
            ngx.say("agent ticks >= 3: ", (seen:get("agent ticks") or 0) >= 3)
            ngx.say("served by: ", require("ngx.process").type())
        }
    }
--- request
GET /t
--- response_body
agent ticks >= 3: true
served by: worker
--- error_log
log phase in worker
--- no_error_log
log phase in privileged agent
[error]
--- shutdown_error_log
exit_worker in privileged agent
exit_worker in worker
