# require "resty.shell": run(cmd, stdin, timeout, max_size) -> ok, stdout,
# stderr, reason, status, as lua-resty-shell (its docs and t/ are the
# reference: Debian's nginx has no ngx.pipe).
use Test::Nginx::Socket::Lua 'no_plan';

env_to_nginx("PATH");
run_tests();

__DATA__

=== TEST 1: the seed's example: echo "hello, world"
--- config
    location = /t {
        content_by_lua_block {
            local shell = require "resty.shell"
            local ok, stdout, stderr, reason, status = shell.run([[echo "hello, world"]])
            ngx.say(ok, " [", stdout, "] [", stderr, "] ", reason, " ", status)
        }
    }
--- request
GET /t
--- response_body
true [hello, world
] [] exit 0



=== TEST 2: stdin, stderr, exit status, argv form
--- config
    location = /t {
        content_by_lua_block {
            local shell = require "resty.shell"
            local ok, stdout, stderr, reason, status =
                shell.run("tr a-z A-Z; echo oops >&2; exit 3", "hello\n")
            ngx.say(ok, " [", stdout, "] [", stderr, "] ", reason, " ", status)
            ok, stdout, stderr, reason, status = shell.run({"wc", "-c"}, ("x"):rep(100000))
            ngx.say(ok, " [", stdout, "] [", stderr, "] ", reason, " ", status)
            ok, stdout, stderr, reason, status = shell.run("kill -9 $$")
            ngx.say(ok, " [", stdout, "] [", stderr, "] ", reason, " ", status)
        }
    }
--- request
GET /t
--- response_body
false [HELLO
] [oops
] exit 3
true [100000
] [] exit 0
false [] [] signal 9



=== TEST 3: max_size cuts the output: "failed to read stdout: too much data"
--- config
    location = /t {
        content_by_lua_block {
            local shell = require "resty.shell"
            local ok, stdout, stderr, reason, status = shell.run("echo hello world", nil, nil, 5)
            ngx.say(ok, " [", stdout, "] [", stderr, "] ", reason, " ", status)
            -- far more than a pipe holds: the child is not waited for to the end
            ngx.update_time()
            local t0 = ngx.now()
            ok, stdout, stderr, reason = shell.run("yes", nil, 5000, 1000)
            ngx.update_time()
            ngx.say(ok, " ", #stdout, " ", reason, " ", ngx.now() - t0 < 2)
            ok, stdout, stderr, reason = shell.run("yes >&2", nil, 5000, 10)
            ngx.say(ok, " ", #stdout, " ", #stderr, " ", reason)
            ok, stdout, stderr, reason, status = shell.run("printf 12345", nil, nil, 5)
            ngx.say(ok, " [", stdout, "] ", reason, " ", status)
        }
    }
--- request
GET /t
--- response_body
nil [hello ] [] failed to read stdout: too much data nil
nil 1001 failed to read stdout: too much data true
nil 0 11 failed to read stderr: too much data
true [12345] exit 0



=== TEST 4: timeout: "failed to wait for process: timeout", the pipeline is killed
--- config
    location = /t {
        content_by_lua_block {
            local shell = require "resty.shell"
            ngx.update_time()
            local t0 = ngx.now()
            local ok, stdout, stderr, reason = shell.run("echo started; sleep 10 | cat", nil, 200)
            ngx.update_time()
            local dt = ngx.now() - t0
            ngx.say(ok, " [", stdout, "] ", reason, " ", dt >= 0.19 and dt < 2)
            ok, stdout, stderr, reason = shell.run({"/no/such/command"})
            ngx.say(ok, " [", stdout, "] [", stderr, "] ", reason)
        }
    }
--- request
GET /t
--- response_body
nil [started
] failed to wait for process: timeout true
false [] [] exit
--- error_log
lua pipe child execvp() failed while executing /no/such/command
