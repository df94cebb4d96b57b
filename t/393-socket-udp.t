# ngx.socket.udp as lua-nginx-module has it: setpeername (address, unix:),
# send, receive (with a size), settimeout, close, read timeouts, argument
# errors and phases. The peer is a UDP echo started by this file. Passes
# against nginx + lua-nginx-module too.
use Test::Nginx::Socket::Lua 'no_plan';
use Lunet::TestServer qw(udp_echo_server);

$ENV{TEST_NGINX_UDP_PORT} = udp_echo_server();

no_shuffle();
run_tests();

__DATA__

=== TEST 1: send a datagram, receive the echo
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            ngx.say(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
            ngx.say(udp:send("hello udp"))
            ngx.say(udp:receive())
            ngx.say(udp:send({"a", "b", "c"}))
            ngx.say(udp:receive())
            ngx.say(udp:close())
            ngx.say(udp:close())
            ngx.say(udp:send("x"))
            ngx.say(udp:receive())
        }
    }
--- request
GET /t
--- response_body
1
1
hello udp
1
abc
1
nilclosed
nilclosed
nilclosed
--- error_log
attempt to send data on a closed socket
attempt to receive data on a closed socket



=== TEST 2: receive(size) truncates the datagram
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
            assert(udp:send("0123456789"))
            ngx.say(udp:receive(4))
        }
    }
--- request
GET /t
--- response_body
0123
--- no_error_log
[error]



=== TEST 3: read timeout
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            udp:settimeout(100)
            assert(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
            assert(udp:send("silent"))
            ngx.say(udp:receive())
            assert(udp:send("after"))
            ngx.say(udp:receive())
        }
    }
--- request
GET /t
--- response_body
niltimeout
after
--- error_log
lua udp socket read timed out



=== TEST 4: not connected; bad arguments
--- config
    location /t {
        content_by_lua_block {
            local udp = ngx.socket.udp()
            ngx.say(udp:send("x"))
            ngx.say(udp:receive())
            ngx.say(udp:setpeername("127.0.0.1", 70000))
            ngx.say(pcall(ngx.socket.udp, 1))
        }
    }
--- request
GET /t
--- response_body
nilclosed
nilclosed
nilbad port number: 70000
falseexpecting zero arguments, but got 1



=== TEST 5: in a timer; disabled in log_by_lua
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                local udp = ngx.socket.udp()
                assert(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
                udp:send("from timer")
                ngx.log(ngx.WARN, "timer got: ", udp:receive())
            end)
            ngx.sleep(0.1)
            ngx.say("ok")
        }
        log_by_lua_block {
            local ok, err = pcall(ngx.socket.udp)
            ngx.log(ngx.WARN, "log: ", err)
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
timer got: from timer
log: API disabled in the context of log_by_lua*
