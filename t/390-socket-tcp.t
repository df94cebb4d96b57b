# ngx.socket.tcp as lua-nginx-module has it: connect (host/port, unix:),
# send (strings, numbers, nested tables), receive (*l, *a, size),
# receiveany, receiveuntil, close, argument errors, closed sockets and the
# phase rules. The peers are Perl servers started by this file
# (t/lib/Lunet/TestServer.pm). Every block passes against nginx +
# lua-nginx-module too.
use Test::Nginx::Socket::Lua 'no_plan';
use Lunet::TestServer qw(tcp_server unix_server send_slow read_line);

$ENV{TEST_NGINX_ECHO_PORT} = tcp_server(\&Lunet::TestServer::echo);
# Answers each line "hello\r\n" with three lines, then closes.
$ENV{TEST_NGINX_LINES_PORT} = tcp_server(sub {
    my ($c) = @_;
    read_line($c);
    print $c "first line\r\nsecond\n\rthi\rrd\r\n";
});
# The boundary pattern arrives one byte at a time.
$ENV{TEST_NGINX_SLOW_PORT} = tcp_server(sub {
    my ($c) = @_;
    read_line($c);
    send_slow($c, "hello, world! -agentzh\r\n--abcedhb blah blah", 1, 0.002);
});
$ENV{TEST_NGINX_UNIX_SOCK} = unix_server("/tmp/lunet-t390-$$.sock", \&Lunet::TestServer::line_echo);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: connect, send a line, receive it back (echo)
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT)
            ngx.say("connect: ", ok, " ", err)
            local bytes, err = sock:send("hello world\n")
            ngx.say("sent: ", bytes, " ", err)
            local line, err, partial = sock:receive()
            ngx.say("line: ", line, " ", err, " ", partial)
            ngx.say("close: ", sock:close())
            ngx.say("close again: ", sock:close())
        }
    }
--- request
GET /t
--- response_body
connect: 1 nil
sent: 12 nil
line: hello world nil nil
close: 1
close again: nilclosed
--- no_error_log
[error]



=== TEST 2: *l drops every CR and stops at LF; *a reads to the close
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_LINES_PORT))
            assert(sock:send("hello\r\n"))
            for i = 1, 2 do
                local line, err = sock:receive("*l")
                ngx.say(i, ": [", line, "] ", err)
            end
            local rest, err = sock:receive("*a")
            ngx.say("rest: [", rest, "] ", err)
            local again, err = sock:receive("*a")
            ngx.say("again: [", again, "] ", err)
            local line, err, partial = sock:receive()
            ngx.say("line: ", line, " ", err, " [", partial, "]")
        }
    }
--- request
GET /t
--- response_body eval
"1: [first line] nil
2: [second] nil
rest: [\rthi\rrd\r\n] nil
again: [] nil
line: nil closed []
"
--- no_error_log
[error]



=== TEST 3: receive(size), numeric strings as sizes, receive(0)
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            assert(sock:send("abcdefghij"))
            ngx.say(sock:receive(3))
            ngx.say(sock:receive("4"))
            ngx.say("[", sock:receive(0), "]")
            ngx.say(sock:receive(3))
            sock:close()
        }
    }
--- request
GET /t
--- response_body
abc
defg
[]
hij
--- no_error_log
[error]



=== TEST 4: send of numbers, nil, booleans and nested array tables
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            ngx.say(sock:send({"ab", 12, {"cd", {3.5}}, "\n"}))
            ngx.say(sock:receive())
            ngx.say(sock:send(42))
            ngx.say(sock:send(nil))
            ngx.say(sock:send(true))
            ngx.say(sock:send(false))
            ngx.say(sock:send({}))
            ngx.say(sock:send("\n"))
            ngx.say(sock:receive())
            sock:close()
        }
    }
--- request
GET /t
--- response_body
10
ab12cd3.5
2
3
4
5
0
1
42niltruefalse
--- no_error_log
[error]



=== TEST 5: argument errors, worded as lua-nginx-module
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            local function try(...)
                local ok, err = pcall(...)
                ngx.say(err)
            end
            try(sock.send, sock, {"a", true})
            try(sock.send, sock, {"a", nil, "b"})
            try(sock.send, sock, {a = 1})
            try(sock.send, sock, print)
            try(sock.send, sock)
            try(sock.receive, sock, "*x")
            try(sock.receive, sock, -1)
            try(sock.receive, sock, {})
            try(sock.receive, sock, "*l", 1)
            try(sock.receiveany, sock, 0)
            try(sock.receiveany, sock, "x")
            try(sock.receiveany, sock)
            try(sock.receiveuntil, sock, nil)
            try(sock.receiveuntil, sock, "a", {inclusive = 1})
            try(sock.settimeout, sock, -1)
            try(sock.settimeouts, sock, 1)
            try(sock.connect, sock)
            try(sock.connect, sock, "127.0.0.1", $TEST_NGINX_ECHO_PORT, {pool_size = 0})
            try(sock.connect, sock, "127.0.0.1", $TEST_NGINX_ECHO_PORT, {backlog = -1})
            try(ngx.socket.tcp, 1)
            ngx.say(sock:receiveuntil(""))
            ngx.say(sock:connect("127.0.0.1"))
            ngx.say(sock:connect("127.0.0.1", 70000))
        }
    }
--- request
GET /t
--- response_body
bad argument #2 to '?' (bad data type boolean found)
bad argument #2 to '?' (bad data type nil found)
bad argument #2 to '?' (non-array table found)
bad argument #2 to '?' (string, number, boolean, nil, or array table expected, got function)
expecting 2 arguments (including the object), but got 1
bad argument #2 to '?' (bad pattern argument)
bad argument #2 to '?' (bad pattern argument)
bad argument #2 to '?' (bad pattern argument)
expecting 1 or 2 arguments (including the object), but got 3
bad argument #2 to '?' (bad max argument)
bad argument #2 to '?' (bad max argument)
expecting 2 arguments (including the object), but got 1
bad argument #2 to '?' (string expected, got nil)
bad "inclusive" option value type: number
bad timeout value
ngx.socket settimeout: expecting 4 arguments (including the object) but seen 2
ngx.socket connect: expecting 2, 3, or 4 arguments (including the object), but seen 1
bad argument #4 to '?' (bad "pool_size" option value: 0)
bad argument #4 to '?' (bad "backlog" option value: -1)
expecting zero arguments, but got 1
nilpattern is empty
nilmissing the port number
nilbad port number: 70000



=== TEST 6: a socket never connected, or closed, answers nil, "closed"
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            ngx.say(type(sock))
            ngx.say(sock:send("x"))
            ngx.say(sock:receive())
            ngx.say(sock:close())
            ngx.say(sock:setkeepalive())
            ngx.say(sock:getreusedtimes())
            local calls = {
                getoption = {"keepalive"}, setoption = {"keepalive", 1}, sslhandshake = {},
            }
            for _, m in ipairs({"getoption", "setoption", "sslhandshake"}) do
                local ok, err = pcall(sock[m], sock, unpack(calls[m]))
                ngx.say(m, ": ", err:match("socket is never created nor connected"))
            end
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            assert(sock:close())
            ngx.say(sock:send("x"))
            ngx.say(sock:receiveany(1))
            ngx.say(sock:getoption("rcvbuf"))
            ngx.say(sock:setoption("foo", 1))
            ngx.say(sock:setoption("keepalive", true))
            ngx.say(sock:sslhandshake())
        }
    }
--- request
GET /t
--- response_body
table
nilclosed
nilclosed
nilclosed
nilclosed
nilclosed
getoption: socket is never created nor connected
setoption: socket is never created nor connected
sslhandshake: socket is never created nor connected
nilclosed
nilclosed
nilclosed
nilunsupported option foo
nilclosed
nilclosed
--- error_log
attempt to send data on a closed socket
attempt to receive data on a closed socket



=== TEST 7: connection refused, logged as nginx does
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            ngx.say(sock:connect("127.0.0.1", 1))
            ngx.say(sock:send("x"))
            ngx.say(ngx.socket.connect("127.0.0.1", 1))
        }
    }
--- request
GET /t
--- response_body
nilconnection refused
nilclosed
nilconnection refused
--- error_log eval
qr/\[error\] .*connect\(\) failed \(111: Connection refused\), client: 127\.0\.0\.1, server: localhost, request: "GET \/t HTTP\/1\.1"/



=== TEST 8: lua_socket_log_errors off keeps those lines out of the log
--- config
    lua_socket_log_errors off;
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            ngx.say(sock:connect("127.0.0.1", 1))
            ngx.say(sock:send("x"))
        }
    }
--- request
GET /t
--- response_body
nilconnection refused
nilclosed
--- no_error_log
[error]



=== TEST 9: unix domain sockets, and a missing one
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            local ok, err = sock:connect("unix:$TEST_NGINX_UNIX_SOCK")
            ngx.say(ok, " ", err)
            ngx.say(sock:send("over unix\n"))
            ngx.say(sock:receive())
            ngx.say(sock:close())
            ngx.say(sock:connect("unix:/tmp/lunet-no-such.sock"))
        }
    }
--- request
GET /t
--- response_body
1 nil
10
over unix
1
nilno such file or directory
--- error_log
connect() to unix:/tmp/lunet-no-such.sock failed (2: No such file or directory)



=== TEST 10: ngx.socket.connect returns a connected socket
--- config
    location /t {
        content_by_lua_block {
            local sock, err = ngx.socket.connect("127.0.0.1", $TEST_NGINX_ECHO_PORT)
            ngx.say(type(sock), " ", err)
            sock:send("via connect\n")
            ngx.say(sock:receive())
            local u = ngx.socket.connect("unix:$TEST_NGINX_UNIX_SOCK")
            u:send("unix too\n")
            ngx.say(u:receive())
        }
    }
--- request
GET /t
--- response_body
table nil
via connect
unix too
--- no_error_log
[error]



=== TEST 11: receiveuntil: a boundary that arrives one byte at a time
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_SLOW_PORT))
            assert(sock:send("go\n"))
            local reader = sock:receiveuntil("\r\n--abcedhb")
            local data, err, partial = reader()
            ngx.say("data: [", data, "] ", err)
            ngx.say("rest: [", sock:receive("*a"), "]")
        }
    }
--- request
GET /t
--- response_body
data: [hello, world! -agentzh] nil
rest: [ blah blah]
--- no_error_log
[error]



=== TEST 12: receiveuntil with a size: chunks, then nil, nil, then it starts over
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_SLOW_PORT))
            assert(sock:send("go\n"))
            local reader = sock:receiveuntil("\r\n--abcedhb")
            while true do
                local data, err, partial = reader(4)
                if not data then
                    ngx.say("done: ", err, " ", partial)
                    break
                end
                ngx.say("chunk: [", data, "]")
            end
            local data, err, partial = reader()
            ngx.say("again: ", data, " ", err, " [", partial, "]")
        }
    }
--- request
GET /t
--- response_body
chunk: [hell]
chunk: [o, w]
chunk: [orld]
chunk: [! -a]
chunk: [gent]
chunk: [zh]
done: nil nil
again: nil closed [ blah blah]
--- no_error_log
[error]



=== TEST 13: receiveuntil inclusive, patterns with repeated prefixes, mixed with receive
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            assert(sock:send("aaab|aab--xx--yy\n"))
            local r1 = sock:receiveuntil("aab")
            ngx.say("[", r1(), "]")
            local r2 = sock:receiveuntil("--", {inclusive = true})
            ngx.say("[", r2(), "]")
            ngx.say("[", r2(), "]")
            ngx.say("[", sock:receive(), "]")
            sock:close()
        }
    }
--- request
GET /t
--- response_body
[a]
[|aab--]
[xx--]
[yy]
--- no_error_log
[error]



=== TEST 14: receiveany returns what is there, up to max
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_LINES_PORT))
            assert(sock:send("x\n"))
            local got = {}
            while true do
                local data, err = sock:receiveany(5)
                if not data then
                    ngx.say("end: ", err)
                    break
                end
                if #data > 5 then ngx.say("too long: ", #data) end
                got[#got + 1] = data
            end
            ngx.say(ngx.encode_base64(table.concat(got)))
        }
    }
--- request
GET /t
--- response_body
end: closed
Zmlyc3QgbGluZQ0Kc2Vjb25kCg10aGkNcmQNCg==
--- no_error_log
[error]



=== TEST 15: connecting again closes the old connection first
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            assert(sock:send("one\n"))
            ngx.say(sock:receive())
            ngx.say(sock:connect("unix:$TEST_NGINX_UNIX_SOCK"))
            assert(sock:send("two\n"))
            ngx.say(sock:receive())
        }
    }
--- request
GET /t
--- response_body
one
1
two
--- no_error_log
[error]



=== TEST 16: phases: rewrite, access and timers may use cosockets
--- config
    location /t {
        rewrite_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            sock:send("rewrite\n")
            ngx.ctx.r = sock:receive()
        }
        access_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            sock:send("access\n")
            ngx.ctx.a = sock:receive()
        }
        content_by_lua_block {
            ngx.say(ngx.ctx.r, " ", ngx.ctx.a)
            local ok = ngx.timer.at(0, function()
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
                sock:send("timer\n")
                ngx.log(ngx.WARN, "in timer: ", sock:receive())
            end)
            ngx.say(ok ~= nil)
        }
    }
--- request
GET /t
--- response_body
rewrite access
true
--- error_log
in timer: timer
--- no_error_log
[error]



=== TEST 17: phases where cosockets are disabled
--- http_config
    init_worker_by_lua_block {
        local ok, err = pcall(ngx.socket.tcp)
        ngx.log(ngx.WARN, "init_worker: ", err)
    }
--- config
    location /t {
        set_by_lua_block $x {
            local ok, err = pcall(ngx.socket.tcp)
            return err
        }
        header_filter_by_lua_block {
            local ok, err = pcall(ngx.socket.tcp)
            ngx.header["X-HF"] = err
        }
        body_filter_by_lua_block {
            local ok, err = pcall(ngx.socket.tcp)
            if ngx.arg[2] then ngx.log(ngx.WARN, "body_filter: ", err) end
        }
        log_by_lua_block {
            local ok, err = pcall(ngx.socket.tcp)
            ngx.log(ngx.WARN, "log: ", err)
        }
        content_by_lua_block {
            ngx.say(ngx.var.x)
        }
    }
--- request
GET /t
--- response_body
API disabled in the context of set_by_lua*
--- response_headers
X-HF: API disabled in the context of header_filter_by_lua*
--- error_log
init_worker: API disabled in the context of init_worker_by_lua*
body_filter: API disabled in the context of body_filter_by_lua*
log: API disabled in the context of log_by_lua*



=== TEST 18: a socket made in a request used in a timer: bad request
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_ECHO_PORT))
            ngx.timer.at(0, function()
                local ok, err = pcall(sock.send, sock, "x")
                ngx.log(ngx.WARN, "timer: ", err)
            end)
            ngx.sleep(0.05)
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
timer: bad request
