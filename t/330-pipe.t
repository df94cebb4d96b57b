# require "ngx.pipe" as lua-resty-core documents it: spawn (argv with PATH
# lookup, shell strings), the read patterns, stdin, shutdown, wait, kill,
# set_timeouts, every timeout kind, the busy/closed/exited/merged errors,
# phases. These APIs need OpenResty's core patches: Debian's nginx has no
# ngx.pipe, so the reference is lua-resty-core's docs and t/pipe*.t.
use Test::Nginx::Socket::Lua 'no_plan';

env_to_nginx("PATH");
run_tests();

__DATA__

=== TEST 1: read a line (argv with PATH lookup)
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"echo", "hello world"})
            local data, err = proc:stdout_read_line()
            ngx.say(data, " ", type(proc:pid()))
        }
    }
--- request
GET /t
--- response_body
hello world number
--- no_error_log
[error]



=== TEST 2: read_line without a line break: nil, "closed", partial
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"echo", "-n", "hello world"})
            local data, err, partial = proc:stdout_read_line()
            ngx.say(data, " ", err, " ", partial)
        }
    }
--- request
GET /t
--- response_body
nil closed hello world



=== TEST 3: read_bytes, zero, negative, more than there is
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"echo", "hello world"})
            ngx.say(proc:stdout_read_bytes(5))
            ngx.say("[", proc:stdout_read_bytes(0), "]")
            ngx.say(pcall(proc.stdout_read_bytes, proc, -1))
            local data, err, partial = proc:stdout_read_bytes(20)
            ngx.say(data, " ", err, " [", partial, "]")
        }
    }
--- request
GET /t
--- response_body_like
^hello
\[\]
false.*bad len argument
nil closed \[ world
\]



=== TEST 4: read_all across writes, read_any with max, mixed patterns
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"sh", "-c", "echo -n hello && sleep 0.05 && echo -n world"})
            ngx.say(proc:stdout_read_all())
            proc = ngx_pipe.spawn({"sh", "-c", "echo -n hello && sleep 0.05 && echo -n world"})
            ngx.say(proc:stdout_read_any(4))
            ngx.say(proc:stdout_read_any(3))
            ngx.say(proc:stdout_read_any(1024))
            ngx.say(proc:stdout_read_any(1024))
            ngx.say(pcall(proc.stdout_read_any, proc, 0))
            proc = ngx_pipe.spawn({"sh", "-c", "echo -n he; sleep 0.05; printf 'llo\\r\\nworld\\nmore\\n'; sleep 0.05; echo -n data"})
            ngx.say(proc:stdout_read_bytes(3))
            ngx.say(proc:stdout_read_line())
            ngx.say(proc:stdout_read_line())
            ngx.say(proc:stdout_read_bytes(2))
            ngx.say(proc:stdout_read_all())
        }
    }
--- request
GET /t
--- response_body_like
^helloworld
hell
o
world
nilclosed
false.*bad max argument
hel
lo
world
mo
re
data



=== TEST 5: shell string, stderr, merge_stderr
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn("echo out; echo err >&2")
            ngx.say(proc:stderr_read_line(), " ", proc:stdout_read_line())
            proc = ngx_pipe.spawn("echo out; sleep 0.05; echo err >&2", {merge_stderr = true})
            ngx.say(proc:stdout_read_all())
            ngx.say(proc:stderr_read_line())
            ngx.say(proc:stderr_read_all())
            ngx.say(proc:stderr_read_bytes(1))
            ngx.say(proc:stderr_read_any(1))
            ngx.say(proc:shutdown("stderr"))
        }
    }
--- request
GET /t
--- response_body
err out
out
err

nilmerged to stdout
nilmerged to stdout
nilmerged to stdout
nilmerged to stdout
nilmerged to stdout



=== TEST 6: stdin round trip (wc -c), write of a table and a number
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"wc", "-c"})
            ngx.say(proc:write(("1234"):rep(2048)))
            ngx.say(proc:write({"ab", "cd"}))
            ngx.say(proc:write(42))
            ngx.say(pcall(proc.write, proc, true))
            ngx.say(proc:shutdown("stdin"))
            ngx.say(proc:shutdown("stdin"))
            ngx.say(proc:stdout_read_line())
            ngx.say(proc:write("x"))
            proc = ngx_pipe.spawn({"cat"})
            for i = 1, 3 do
                proc:write("line " .. i .. "\n")
                ngx.say(proc:stdout_read_line())
            end
            proc:shutdown("stdin")
            ngx.say(proc:wait())
        }
    }
--- request
GET /t
--- response_body_like
^8192
4
2
false.*bad data arg: string, number, or table expected, got boolean
true
true
8198
nilclosed
line 1
line 2
line 3
trueexit0



=== TEST 7: a large stdin round trip (4 MiB through cat, written while read)
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"cat"})
            local chunk = ("0123456789abcdef"):rep(4096)  -- 64 KiB
            local got = 0
            for i = 1, 64 do
                local n, err = proc:write(chunk)
                if not n then ngx.say("write: ", err) return end
                local data, err = proc:stdout_read_bytes(#chunk)
                if data ~= chunk then ngx.say("read: ", err) return end
                got = got + #data
            end
            proc:shutdown("stdin")
            ngx.say(got, " ", proc:stdout_read_all() == "", " ", (proc:wait()))
        }
    }
--- request
GET /t
--- response_body
4194304 true true



=== TEST 8: 10 MiB of output, read_all, then read_line by line
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"head", "-c", "10485760", "/dev/zero"})
            local data, err = proc:stdout_read_all()
            ngx.say(#data, " ", data == ("\0"):rep(10485760))
            ngx.say(proc:wait())
            proc = ngx_pipe.spawn("seq 1 200000")
            local n, last = 0
            while true do
                local line, err = proc:stdout_read_line()
                if not line then ngx.say(err) break end
                n = n + 1
                last = line
            end
            ngx.say(n, " ", last)
        }
    }
--- request
GET /t
--- response_body
10485760 true
trueexit0
closed
200000 200000
--- timeout: 20



=== TEST 9: wait: exit codes, signals, "exited" after wait, reads after wait are "closed"
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"sh", "-c", "sleep 0.1 && exit 2"})
            ngx.say(proc:wait())
            ngx.say(proc:wait())
            ngx.say(proc:stdout_read_line())
            ngx.say(proc:write("x"))
            ngx.say(proc:shutdown("stdout"))
            ngx.say(proc:kill(9))
            proc = ngx_pipe.spawn({"echo", "hello"})
            ngx.sleep(0.1)
            ngx.say(proc:wait())
            proc = ngx_pipe.spawn({"sleep", "10"})
            ngx.say(proc:kill(15))
            ngx.say(proc:wait())
            ngx.say(proc:kill(15))
            proc = ngx_pipe.spawn({"sleep", "10"})
            ngx.say(proc:kill(-1))
            ngx.say(proc:kill(1000))
            ngx.say(pcall(proc.kill, proc, "TERM"))
            proc:kill(9)
            ngx.say(proc:wait())
        }
    }
--- request
GET /t
--- response_body_like
^falseexit2
nilexited
nilclosed
nilclosed
nilclosed
nilexited
trueexit0
true
falsesignal15
nilexited
nilinvalid signal
nilinvalid signal
false.*bad signal arg: number expected, got TERM
falsesignal9



=== TEST 10: a command that cannot be executed: exit 1 and the execvp error logged
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc, err = ngx_pipe.spawn({"/no/such/exe", "2"})
            ngx.say(type(proc), " ", proc:wait())
        }
    }
--- request
GET /t
--- response_body
userdata falseexit1
--- error_log
lua pipe child execvp() failed while executing /no/such/exe (2: No such file or directory)



=== TEST 11: each timeout kind: read (with partial data), write, wait; 0 never times out
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"sh", "-c", "echo -n part; sleep 10"},
                                        {stdout_read_timeout = 100})
            local t0 = ngx.now()
            ngx.say(proc:stdout_read_line())
            ngx.update_time()
            local dt = ngx.now() - t0
            ngx.say(dt >= 0.09 and dt < 1)
            ngx.say(proc:stdout_read_any(10))
            proc:set_timeouts(nil, nil, 50, 100)
            ngx.say(proc:stderr_read_all())
            ngx.say(proc:wait())
            proc:kill(9)
            ngx.say(proc:wait())

            -- write timeout: a child that never reads its stdin
            proc = ngx_pipe.spawn({"sleep", "10"}, {write_timeout = 100})
            local big = ("x"):rep(1024 * 1024)
            ngx.say(proc:write(big))
            proc:kill(9)
            ngx.say(proc:wait())

            -- 0: no timeout
            proc = ngx_pipe.spawn({"sh", "-c", "sleep 0.3; echo late"},
                                  {stdout_read_timeout = 0, wait_timeout = 0})
            ngx.say(proc:stdout_read_line())
            ngx.say(proc:wait())

            ngx.say(pcall(proc.set_timeouts, proc, -1))
            ngx.say(pcall(ngx_pipe.spawn, {"true"}, {wait_timeout = 0x100000000}))
        }
    }
--- request
GET /t
--- response_body_like
^niltimeoutpart
true
niltimeout
niltimeout
niltimeout
falsesignal9
niltimeout
falsesignal9
late
trueexit0
false.*bad timeout value
false.*bad timeout value



=== TEST 12: busy reading / writing / waiting: one user per direction at a time
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"sh", "-c", "sleep 0.2; echo hi"})
            ngx.timer.at(0, function()
                ngx.log(ngx.WARN, "timer read: ", proc:stdout_read_line())
            end)
            ngx.timer.at(0, function()
                ngx.log(ngx.WARN, "timer wait: ", proc:wait())
            end)
            local w = ngx_pipe.spawn({"sleep", "1"}, {write_timeout = 300})
            ngx.timer.at(0, function()
                ngx.log(ngx.WARN, "timer write: ", w:write(("x"):rep(1024 * 1024)))
            end)
            ngx.sleep(0.05)
            ngx.say(proc:stdout_read_line())
            ngx.say(proc:wait())
            ngx.say(w:write("y"))
            ngx.sleep(0.4)
            w:kill(9)
        }
    }
--- request
GET /t
--- response_body
nilpipe busy reading
nilpipe busy waiting
nilpipe busy writing
--- error_log
timer read: hi
timer wait: trueexit0
timer write: niltimeout



=== TEST 13: shutdown of a direction a thread waits on aborts it ("aborted"), bad directions
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"sh", "-c", "echo -n part; sleep 10"})
            ngx.timer.at(0, function()
                ngx.log(ngx.WARN, "timer read: ", proc:stdout_read_line())
            end)
            local w = ngx_pipe.spawn({"sleep", "10"})
            ngx.timer.at(0, function()
                ngx.log(ngx.WARN, "timer write: ", w:write(("x"):rep(1024 * 1024)))
            end)
            ngx.sleep(0.1)
            ngx.say(proc:shutdown("stdout"))
            ngx.say(proc:stdout_read_line())
            ngx.say(w:shutdown("stdin"))
            ngx.say(w:write("x"))
            ngx.say(pcall(proc.shutdown, proc, "nope"))
            ngx.say(proc:shutdown("stderr"))
            ngx.say(proc:stderr_read_line())
            proc:kill(9)
            w:kill(9)
            ngx.say(proc:wait())
            ngx.sleep(0.05)
        }
    }
--- request
GET /t
--- response_body_like
^true
nilclosed
true
nilclosed
false.*bad shutdown arg: nope
true
nilclosed
falsesignal9
--- error_log
timer read: nilabortedpart
timer write: nilaborted



=== TEST 14: environ replaces the environment; bad options
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"/usr/bin/env"}, {environ = {"FOO=bar", "X=1"}})
            ngx.print(proc:stdout_read_all())
            ngx.say(pcall(ngx_pipe.spawn, {"env"}, {environ = "x"}))
            ngx.say(pcall(ngx_pipe.spawn, {"env"}, {environ = {1}}))
            ngx.say(pcall(ngx_pipe.spawn, {"env"}, {buffer_size = 0}))
            ngx.say(pcall(ngx_pipe.spawn, {}))
            ngx.say(pcall(ngx_pipe.spawn, 3))
            proc = ngx_pipe.spawn({"echo", 1, 2.5}, {buffer_size = 1})
            ngx.say(proc:stdout_read_line())
        }
    }
--- request
GET /t
--- response_body_like
^FOO=bar
X=1
false.*bad environ option: table expected, got string
false.*bad value at index 1 of environ option: string expected, got number
false.*bad buffer_size option
false.*bad args arg: non-empty table expected
false.*bad args arg: table expected, got number
1 2.5



=== TEST 15: phases: spawn everywhere but init_by_lua; yielding calls only where yielding works
--- http_config
    init_by_lua_block {
        local ngx_pipe = require "ngx.pipe"
        local ok, err = pcall(ngx_pipe.spawn, {"true"})
        package.loaded.init_err = err
    }
    init_worker_by_lua_block {
        local ngx_pipe = require "ngx.pipe"
        local proc = ngx_pipe.spawn({"echo", "iw"})
        local ok, err = pcall(proc.stdout_read_line, proc)
        package.loaded.iw_err = err
    }
--- config
    location = /t {
        content_by_lua_block {
            ngx.say(package.loaded.init_err)
            ngx.say(package.loaded.iw_err)
        }
        header_filter_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"true"})
            local ok, err = pcall(proc.stdout_read_all, proc)
            ngx.log(ngx.WARN, "header filter: ", type(proc), " ", err)
        }
        body_filter_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"true"})
            local ok, err = pcall(proc.write, proc, "x")
            if ngx.arg[2] then ngx.log(ngx.WARN, "body filter: ", type(proc), " ", err) end
        }
        log_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"true"})
            local ok, err = pcall(proc.wait, proc)
            ngx.log(ngx.WARN, "log phase: ", err)
        }
    }
--- request
GET /t
--- response_body_like
API disabled in the current context
.*API disabled in the context of init_worker_by_lua\*
--- error_log
log phase: API disabled in the context of log_by_lua*
header filter: userdata API disabled in the context of header_filter_by_lua*
body filter: userdata API disabled in the context of body_filter_by_lua*



=== TEST 16: pipes in a timer
--- config
    location = /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                local ngx_pipe = require "ngx.pipe"
                local proc = ngx_pipe.spawn({"echo", "from timer"})
                ngx.log(ngx.WARN, "got: ", proc:stdout_read_line(), " ", ngx.get_phase())
            end)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- wait: 0.3
--- error_log
got: from timer timer



=== TEST 17: debug log lines as lua-nginx-module's (spawn, read/write/wait yielding)
--- log_level: debug
--- config
    location = /t {
        content_by_lua_block {
            local ngx_pipe = require "ngx.pipe"
            local proc = ngx_pipe.spawn({"sh", "-c", "sleep 0.05; cat"})
            proc:write(("z"):rep(100 * 1024))
            proc:shutdown("stdin")
            local data = proc:stdout_read_all()
            ngx.say(#data, " ", proc:wait())
        }
    }
--- request
GET /t
--- response_body
102400 trueexit0
--- error_log eval
[qr/lua pipe spawn process:\S+ pid:\d+ merge_stderr:0 buffer_size:4096/,
 qr/lua pipe write yielding process:/,
 qr/lua pipe read yielding process:/]
