# Where Lunet's cosockets go further than OpenResty's (so Lunet only): host
# names resolve without a `resolver` (getaddrinfo on libuv's thread pool,
# cached per worker), `resolver` is accepted and says what it does,
# require("lunet.socket").pool_stats(), and no fd leak over 10 000
# connect / close and connect / setkeepalive cycles.
use Test::Nginx::Socket::Lua 'no_plan';
use Lunet::TestServer qw(tcp_server hold_server);

$ENV{TEST_NGINX_ECHO_PORT} = tcp_server(\&Lunet::TestServer::line_echo);
$ENV{TEST_NGINX_HOLD_PORT} = hold_server();
# Reads until EOF, then leaves a marker file: shows when a socket is closed.
$ENV{TEST_NGINX_MARK} = "/tmp/lunet-t395-$$.eof";
unlink $ENV{TEST_NGINX_MARK};
$ENV{TEST_NGINX_WATCH_PORT} = tcp_server(sub {
    my ($c) = @_;
    1 while sysread($c, my $buf, 4096);
    open my $fh, '>', $ENV{TEST_NGINX_MARK};
    close $fh;
});
END { unlink $ENV{TEST_NGINX_MARK} if $ENV{TEST_NGINX_MARK} }

worker_connections(1024);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: localhost without a resolver directive; an unknown name
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            ngx.say(sock:connect("localhost", $TEST_NGINX_ECHO_PORT))
            sock:send("by name\n")
            ngx.say(sock:receive())
            sock:close()
            -- cached now: no second lookup needed, same answer
            ngx.say(sock:connect("localhost", $TEST_NGINX_ECHO_PORT))
            ngx.say(sock:connect("no-such-host.invalid", $TEST_NGINX_ECHO_PORT))
        }
    }
--- request
GET /t
--- response_body
1
by name
1
nilno-such-host.invalid could not be resolved (3: Host not found)



=== TEST 2: resolver and resolver_timeout are accepted and say what they do
--- http_config
    resolver 127.0.0.53 valid=10s ipv6=off;
    resolver_timeout 2s;
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            ngx.say(sock:connect("localhost", $TEST_NGINX_ECHO_PORT))
        }
    }
--- request
GET /t
--- response_body
1
--- error_log
"resolver": Lunet resolves host names with the system resolver



=== TEST 3: pool_stats: idle and busy per pool key
--- config
    location /t {
        content_by_lua_block {
            local stats = require("lunet.socket").pool_stats
            local a, b = ngx.socket.tcp(), ngx.socket.tcp()
            assert(a:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "st", pool_size = 4}))
            assert(b:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "st"}))
            local s = stats().st
            ngx.say("busy ", s.busy, " idle ", s.idle, " size ", s.size)
            assert(a:setkeepalive())
            s = stats().st
            ngx.say("busy ", s.busy, " idle ", s.idle)
            b:close()
            s = stats().st
            ngx.say("busy ", s.busy, " idle ", s.idle)
        }
    }
--- request
GET /t
--- response_body
busy 2 idle 0 size 4
busy 1 idle 1
busy 0 idle 1



=== TEST 4: no fd leak over 10 000 connect/close and connect/setkeepalive cycles
--- config
    location /t {
        content_by_lua_block {
            local function fds()
                -- sockets only: the popen pipe comes and goes while ls runs
                local f = io.popen("ls -l /proc/" .. ngx.worker.pid() .. "/fd | grep -c socket:")
                local n = tonumber(f:read("*a"))
                f:close()
                return n
            end
            local before = fds()
            for i = 1, 5000 do
                local s = ngx.socket.tcp()
                assert(s:connect("127.0.0.1", $TEST_NGINX_HOLD_PORT))
                assert(s:close())
            end
            for i = 1, 5000 do
                local s = ngx.socket.tcp()
                assert(s:connect("127.0.0.1", $TEST_NGINX_HOLD_PORT, {pool = "leak"}))
                assert(s:setkeepalive(10000, 1))
            end
            collectgarbage()
            ngx.sleep(0.05)
            local idle = require("lunet.socket").pool_stats().leak.idle
            ngx.say("idle ", idle, ", fds ", fds() - before - idle)
        }
    }
--- request
GET /t
--- timeout: 30
--- response_body
idle 1, fds 0
--- no_error_log
[error]



=== TEST 5: when its owner (a timer here) ends, a socket it left open is closed
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", $TEST_NGINX_WATCH_PORT))
                package.loaded.kept_socket = sock  -- still referenced: not collected
            end)
            local seen = false
            for _ = 1, 100 do
                ngx.sleep(0.01)
                local f = io.open("$TEST_NGINX_MARK")
                if f then f:close() seen = true break end
            end
            ngx.say("peer saw the close: ", seen)
            ngx.say(package.loaded.kept_socket:send("x"))
        }
    }
--- request
GET /t
--- response_body
peer saw the close: true
nilclosed
