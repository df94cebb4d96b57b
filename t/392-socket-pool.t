# The cosocket keepalive pool as lua-nginx-module has it: setkeepalive /
# getreusedtimes, pool names and sizes (least recently used out), idle
# timeouts, idle connections closed by the peer dropped before hand-out,
# "unread data in buffer", the backlog queue ("too many waiting connect
# operations", waiting connects resumed by setkeepalive / close, or timed
# out), lua_socket_pool_size / lua_socket_keepalive_timeout, and 200
# sockets open at once. Passes against nginx + lua-nginx-module too.
use Test::Nginx::Socket::Lua 'no_plan';
use Lunet::TestServer qw(tcp_server read_line);

$ENV{TEST_NGINX_ECHO_PORT} = tcp_server(\&Lunet::TestServer::line_echo);
# Answers one line, then closes its side 50 ms later.
$ENV{TEST_NGINX_BYE_PORT} = tcp_server(sub {
    my ($c) = @_;
    my $l = read_line($c);
    print $c $l;
    select(undef, undef, undef, 0.05);
    close $c;
});

worker_connections(1024);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: setkeepalive puts the connection back; connect takes it again
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 3 do
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
                ngx.say("reused: ", sock:getreusedtimes())
                sock:send("ping " .. i .. "\n")
                ngx.say(sock:receive())
                ngx.say("keepalive: ", sock:setkeepalive())
                ngx.say("after: ", sock:send("x"))
            end
        }
    }
--- request
GET /t
--- response_body
reused: 0
ping 1
keepalive: 1
after: nilclosed
reused: 1
ping 2
keepalive: 1
after: nilclosed
reused: 2
ping 3
keepalive: 1
after: nilclosed



=== TEST 2: named pools are separate; the pool name replaces host:port
--- config
    location /t {
        content_by_lua_block {
            local a = ngx.socket.tcp()
            assert(a:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "mine"}))
            assert(a:setkeepalive())
            local b = ngx.socket.tcp()
            assert(b:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            ngx.say("default pool: ", b:getreusedtimes())
            local c = ngx.socket.tcp()
            assert(c:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "mine"}))
            ngx.say("mine: ", c:getreusedtimes())
            c:send("hi\n")
            ngx.say(c:receive())
        }
    }
--- request
GET /t
--- response_body
default pool: 0
mine: 1
hi



=== TEST 3: a full pool drops its least recently used connection
--- config
    location /t {
        content_by_lua_block {
            local socks = {}
            for i = 1, 3 do
                socks[i] = ngx.socket.tcp()
                assert(socks[i]:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "p3"}))
                socks[i]:send("I am " .. i .. "\n")
                assert(socks[i]:receive())
            end
            -- reused twice, once, never: tells the connections apart
            for i = 1, 3 do assert(socks[i]:setkeepalive(10000, 2)) end
            local got = {}
            for i = 1, 3 do
                local s = ngx.socket.tcp()
                assert(s:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "p3"}))
                got[i] = s:getreusedtimes()
            end
            ngx.say(table.concat(got, " "))
        }
    }
--- request
GET /t
--- response_body
1 1 0



=== TEST 4: lua_socket_pool_size
--- config
    lua_socket_pool_size 1;
    location /t {
        content_by_lua_block {
            local a, b = ngx.socket.tcp(), ngx.socket.tcp()
            assert(a:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "p4"}))
            assert(b:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "p4"}))
            assert(a:setkeepalive())
            assert(b:setkeepalive())
            local x, y = ngx.socket.tcp(), ngx.socket.tcp()
            assert(x:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "p4"}))
            assert(y:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = "p4"}))
            ngx.say(x:getreusedtimes(), " ", y:getreusedtimes())
        }
    }
--- request
GET /t
--- response_body
1 0



=== TEST 5: idle timeout from setkeepalive, and lua_socket_keepalive_timeout
--- config
    lua_socket_keepalive_timeout 50ms;
    location /t {
        content_by_lua_block {
            local function cycle(pool, timeout, pause)
                local s = ngx.socket.tcp()
                assert(s:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = pool}))
                assert(s:setkeepalive(timeout))
                ngx.sleep(pause)
                s = ngx.socket.tcp()
                assert(s:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool = pool}))
                local n = s:getreusedtimes()
                s:close()
                return n
            end
            ngx.say("50ms, 150ms later: ", cycle("t1", 50, 0.15))
            ngx.say("10s, 150ms later: ", cycle("t2", 10000, 0.15))
            ngx.say("0 (no limit), 150ms later: ", cycle("t3", 0, 0.15))
            ngx.say("default (50ms), 150ms later: ", cycle("t4", nil, 0.15))
        }
    }
--- request
GET /t
--- response_body
50ms, 150ms later: 0
10s, 150ms later: 1
0 (no limit), 150ms later: 1
default (50ms), 150ms later: 0



=== TEST 6: an idle connection the peer closed is not handed out
--- config
    location /t {
        content_by_lua_block {
            local s = ngx.socket.tcp()
            assert(s:connect("127.0.0.1", $TEST_NGINX_BYE_PORT))
            s:send("one\n")
            ngx.say(s:receive())
            assert(s:setkeepalive())
            ngx.sleep(0.2)  -- the peer closes meanwhile
            s = ngx.socket.tcp()
            assert(s:connect("127.0.0.1", $TEST_NGINX_BYE_PORT))
            ngx.say("reused: ", s:getreusedtimes())
            s:send("two\n")
            ngx.say(s:receive())
        }
    }
--- request
GET /t
--- response_body
one
reused: 0
two
--- no_error_log
[error]



=== TEST 7: setkeepalive refuses with unread data
--- config
    location /t {
        content_by_lua_block {
            local s = ngx.socket.tcp()
            assert(s:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            s:send("abc\n")
            ngx.say(s:receive(1))
            ngx.say(s:setkeepalive())
            ngx.say(s:receive())
            ngx.say(s:setkeepalive())
        }
    }
--- request
GET /t
--- response_body
a
nilunread data in buffer
bc
1



=== TEST 8: backlog: one waits, the next is refused, setkeepalive hands over
--- config
    location /t {
        content_by_lua_block {
            local opts = {pool = "bl", pool_size = 1, backlog = 1}
            local s = ngx.socket.tcp()
            assert(s:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, opts))
            local function waiter(premature, name)
                local w = ngx.socket.tcp()
                local ok, err = w:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, opts)
                ngx.log(ngx.WARN, name, ": ", ok, " ", err, " reused ",
                        ok and w:getreusedtimes() or "-")
                if ok then w:close() end
            end
            ngx.timer.at(0, waiter, "first")
            ngx.timer.at(0.01, waiter, "second")
            ngx.sleep(0.1)
            ngx.say(s:setkeepalive())
            ngx.sleep(0.1)
        }
    }
--- request
GET /t
--- response_body
1
--- error_log
second: nil too many waiting connect operations reused -
first: 1 nil reused 1



=== TEST 9: backlog: close() lets a waiting connect open a new connection; a wait times out
--- config
    location /t {
        content_by_lua_block {
            local opts = {pool = "bl2", pool_size = 1, backlog = 5}
            local s = ngx.socket.tcp()
            assert(s:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, opts))
            ngx.timer.at(0, function()
                local w = ngx.socket.tcp()
                local ok, err = w:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, opts)
                ngx.log(ngx.WARN, "after close: ", ok, " ", err, " reused ", w:getreusedtimes())
                ngx.sleep(0.3)
                w:close()
            end)
            ngx.sleep(0.05)
            s:close()
            ngx.sleep(0.05)
            local t = ngx.socket.tcp()
            t:settimeout(100)
            ngx.say(t:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT, opts))
        }
    }
--- request
GET /t
--- response_body
niltimeout
--- error_log
after close: 1 nil reused 0



=== TEST 10: 200 sockets open at once (one per timer)
--- config
    location /t {
        content_by_lua_block {
            local n, connected, done, failed = 200, 0, 0, 0
            local function job(premature, i)
                local s = ngx.socket.tcp()
                s:settimeout(5000)
                local ok, err = s:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT)
                if not ok then
                    failed = failed + 1
                    ngx.log(ngx.ERR, "connect: ", err)
                    return
                end
                connected = connected + 1
                while connected < n do ngx.sleep(0.01) end  -- all open now
                s:send("job " .. i .. "\n")
                local line = s:receive()
                if line == "job " .. i then done = done + 1 end
                s:close()
            end
            for i = 1, n do assert(ngx.timer.at(0, job, i)) end
            for _ = 1, 1000 do
                if done + failed >= n then break end
                ngx.sleep(0.01)
            end
            ngx.say("connected ", connected, ", done ", done, ", failed ", failed)
        }
    }
--- request
GET /t
--- timeout: 15
--- response_body
connected 200, done 200, failed 0
--- no_error_log
[error]
