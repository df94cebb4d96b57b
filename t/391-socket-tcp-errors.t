# Cosocket timeouts and peer failures, worded and logged as lua-nginx-module:
# connect / read / send timeouts, a read timeout that leaves the socket
# usable, resets, a peer closing mid-response, replies cut in pieces, 1 MiB
# both ways, the lua_socket_* timeout directives, and a collected socket
# closing its fd. Passes against nginx + lua-nginx-module too.
use Test::Nginx::Socket::Lua 'no_plan';
use IO::Socket::INET;
use Digest::MD5 qw(md5_hex);
use Lunet::TestServer qw(tcp_server send_slow reset_conn read_line read_bytes);

# Replies "late\n" 300 ms after each line.
$ENV{TEST_NGINX_LATE_PORT} = tcp_server(sub {
    my ($c) = @_;
    while (defined(my $l = read_line($c))) {
        select(undef, undef, undef, 0.3);
        print $c "late\n";
    }
});
# Never reads: a big send() fills the buffers and times out.
$ENV{TEST_NGINX_DEAF_PORT} = tcp_server(sub { sleep 5 });
# Resets the connection after the first line.
$ENV{TEST_NGINX_RESET_PORT} = tcp_server(sub {
    my ($c) = @_;
    read_line($c);
    reset_conn($c);
});
# Sends part of a reply, then closes.
$ENV{TEST_NGINX_CUT_PORT} = tcp_server(sub {
    my ($c) = @_;
    read_line($c);
    print $c "partial da";
    close $c;
});
# A reply line in three pieces 20 ms apart.
$ENV{TEST_NGINX_PIECES_PORT} = tcp_server(sub {
    my ($c) = @_;
    read_line($c);
    send_slow($c, "a line in pieces\r\nnext\n", 8, 0.02);
    sleep 1;
});
# 1 MiB out, then close.
$ENV{TEST_NGINX_SOURCE_PORT} = tcp_server(sub {
    my ($c) = @_;
    read_line($c);
    print $c "0123456789abcdef" x 65536;
    close $c;
});
# Reads 1 MiB, answers with its length and MD5.
$ENV{TEST_NGINX_SINK_PORT} = tcp_server(sub {
    my ($c) = @_;
    my $data = read_bytes($c, 1048576);
    print $c length($data), " ", md5_hex($data), "\n";
});
# A listener that never accepts, its queue already full: connects hang.
{
    my $l = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp') or die "listen: $!";
    my $port = $l->sockport;
    my @fill;
    for (1 .. 8) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                      Blocking => 0);
        push @fill, $s if $s;
    }
    our @KeepOpen = ($l, @fill);    # open for the life of the test file
    $ENV{TEST_NGINX_STUCK_PORT} = $port;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: connect timeout
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(100)
            local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_STUCK_PORT)
            ngx.say(ok, " ", err)
            ngx.say(sock:send("x"))
        }
    }
--- request
GET /t
--- response_body
nil timeout
nilclosed
--- error_log eval
qr/\[error\] .*lua tcp socket connect timed out, when connecting to 127\.0\.0\.1:\d+, client: 127\.0\.0\.1/



=== TEST 2: a read timeout leaves the socket open and usable
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_LATE_PORT))
            sock:settimeout(100)
            assert(sock:send("hi\n"))
            local data, err, partial = sock:receive()
            ngx.say(data, " ", err, " [", partial, "]")
            sock:settimeout(2000)
            ngx.say(sock:receive())
            ngx.say(sock:send("again\n"))
        }
    }
--- request
GET /t
--- response_body
nil timeout []
late
6
--- error_log eval
qr/\[error\] .*lua tcp socket read timed out, client: 127\.0\.0\.1/



=== TEST 3: settimeouts(connect, send, read), and lua_socket_read_timeout
--- config
    lua_socket_read_timeout 100ms;
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_LATE_PORT))
            assert(sock:send("hi\n"))
            local t0 = ngx.now()
            ngx.say(sock:receive())
            sock:settimeouts(1000, 1000, 50)
            ngx.say(sock:receive())
            sock:settimeouts(1000, 1000, 1000)
            ngx.say(sock:receive())
        }
    }
--- request
GET /t
--- response_body
niltimeout
niltimeout
late
--- error_log
lua tcp socket read timed out



=== TEST 4: send timeout closes the socket
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_DEAF_PORT))
            sock:settimeout(100)
            local big = string.rep("x", 32 * 1024 * 1024)
            ngx.say(sock:send(big))
            ngx.say(sock:send("x"))
            ngx.say(sock:close())
        }
    }
--- request
GET /t
--- response_body
niltimeout
nilclosed
1
--- error_log
lua tcp socket write timed out
attempt to send data on a closed socket



=== TEST 5: lua_socket_connect_timeout and lua_socket_send_timeout
--- config
    lua_socket_connect_timeout 100ms;
    lua_socket_send_timeout 100ms;
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            ngx.say(sock:connect("127.0.0.1", $TEST_NGINX_STUCK_PORT))
            assert(sock:connect("127.0.0.1", $TEST_NGINX_DEAF_PORT))
            ngx.say(sock:send(string.rep("y", 32 * 1024 * 1024)))
        }
    }
--- request
GET /t
--- response_body
niltimeout
niltimeout
--- error_log
lua tcp socket connect timed out
lua tcp socket write timed out



=== TEST 6: reset by the peer
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RESET_PORT))
            assert(sock:send("hi\n"))
            local data, err, partial = sock:receive()
            ngx.say(data, " ", err, " [", partial, "]")
            ngx.say(sock:close())
        }
    }
--- request
GET /t
--- response_body
nil connection reset by peer []
1
--- error_log
recv() failed (104: Connection reset by peer)



=== TEST 7: the peer closes mid-response: partial data
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_CUT_PORT))
            assert(sock:send("hi\n"))
            local data, err, partial = sock:receive(100)
            ngx.say(data, " ", err, " [", partial, "]")
            ngx.say(sock:receive())
            assert(sock:connect("127.0.0.1", $TEST_NGINX_CUT_PORT))
            assert(sock:send("hi\n"))
            ngx.say(sock:receive())
            assert(sock:connect("127.0.0.1", $TEST_NGINX_CUT_PORT))
            assert(sock:send("hi\n"))
            local r = sock:receiveuntil("--")
            ngx.say(r())
        }
    }
--- request
GET /t
--- response_body
nil closed [partial da]
nilclosed
nilclosedpartial da
nilclosedpartial da
--- error_log
attempt to receive data on a closed socket



=== TEST 8: a reply in pieces: *l, size and receiveuntil across reads
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_PIECES_PORT))
            assert(sock:send("go\n"))
            ngx.say(sock:receive())
            ngx.say(sock:receive(3))
            ngx.say(sock:receive(1))
            assert(sock:connect("127.0.0.1", $TEST_NGINX_PIECES_PORT))
            assert(sock:send("go\n"))
            local r = sock:receiveuntil("pieces\r\n")
            ngx.say(r())
            ngx.say(sock:receive(20))
        }
    }
--- request
GET /t
--- response_body eval
"a line in pieces\nnex\nt\na line in \nnilclosednext\n\n"
--- no_error_log
[error]



=== TEST 9: 1 MiB in with *a, 1 MiB out with one send
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_SOURCE_PORT))
            assert(sock:send("go\n"))
            local data = assert(sock:receive("*a"))
            ngx.say(#data, " ", ngx.md5(data) == ngx.md5(string.rep("0123456789abcdef", 65536)))
            assert(sock:connect("127.0.0.1", $TEST_NGINX_SOURCE_PORT))
            assert(sock:send("go\n"))
            local n = assert(sock:receive(1048576))
            ngx.say(#n)
            local out = {}
            for i = 1, 1024 do out[i] = string.rep(string.char(65 + i % 26), 1024) end
            assert(sock:connect("127.0.0.1", $TEST_NGINX_SINK_PORT))
            ngx.say(sock:send(out))
            local line = sock:receive()
            ngx.say(line == "1048576 " .. ngx.md5(table.concat(out)))
        }
    }
--- request
GET /t
--- response_body
1048576 true
1048576
1048576
true
--- no_error_log
[error]



=== TEST 10: a collected socket closes its fd
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
            collectgarbage()
            local before = fds()
            for i = 1, 20 do
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", $TEST_NGINX_LATE_PORT))
            end
            local during = fds()
            collectgarbage()
            collectgarbage()
            ngx.sleep(0.05)
            ngx.say(during - before >= 20, " ", fds() - before)
        }
    }
--- request
GET /t
--- response_body
true 0
--- no_error_log
[error]



=== TEST 11: after a failed read: "closed" for I/O and keepalive, close() says 1 once
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            ngx.say("refused: ", sock:connect("127.0.0.1", 1))
            ngx.say("close: ", sock:close())
            assert(sock:connect("127.0.0.1", $TEST_NGINX_CUT_PORT))
            sock:send("x\n")
            ngx.say("receive: ", sock:receive())
            ngx.say("reused: ", sock:getreusedtimes())
            ngx.say("keepalive: ", sock:setkeepalive())
            ngx.say("close: ", sock:close())
            ngx.say("close: ", sock:close())
            assert(sock:connect("127.0.0.1", $TEST_NGINX_CUT_PORT))
            sock:send("x\n")
            ngx.say("*a: ", sock:receive("*a"))
            ngx.say("keepalive: ", sock:setkeepalive())
            ngx.say("*a: [", sock:receive("*a"), "]")
            ngx.say("*l: ", sock:receive())
            ngx.say("close: ", sock:close())
        }
    }
--- request
GET /t
--- response_body
refused: nilconnection refused
close: nilclosed
receive: nilclosedpartial da
reused: 0
keepalive: nilclosed
close: 1
close: nilclosed
*a: partial da
keepalive: nilclosed
*a: []
*l: nilclosed
close: 1
