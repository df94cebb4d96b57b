# Directives that used to be accepted and ignored: keepalive_timeout's
# header_timeout, msie_padding, underscores_in_headers /
# ignore_invalid_headers, worker_connections; and the hand-formatted ETag.
# worker_connections 4 for the whole file: the listening socket takes one
# slot (as in nginx), so three client connections fit; every other block
# uses one connection at a time.
use Test::Nginx::Socket 'no_plan';
use IO::Socket::INET;
use POSIX ();

worker_connections(4);

# Opens n connections to the server; with $line, sends it on each (a request
# line without the header's end: the connection is busy reading a header).
# The first $drop of them are closed again. The rest are held by a detached
# process for 1.5 s (long enough for the block's request, short enough for
# the server's graceful stop, which waits for busy connections).
sub hold_connections {
    my ($n, $line, $drop) = @_;
    my @held;
    for (1 .. $n) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort,
                                      Proto => 'tcp') or die "connect: $!";
        $s->autoflush(1);
        print $s $line if defined $line;
        push @held, $s;
    }
    close(shift @held) for 1 .. ($drop // 0);
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        POSIX::_exit(0) if fork();  # the grandchild holds them, detached
        select(undef, undef, undef, 1.5);
        POSIX::_exit(0);
    }
    waitpid($pid, 0);
    close($_) for @held;
    select(undef, undef, undef, 0.3);  # let the server accept and read them
}

run_tests();

__DATA__

=== TEST 1: keepalive_timeout header_timeout adds Keep-Alive: timeout=N
--- config
    keepalive_timeout 75s 30s;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- raw_response_headers_like eval
qr{Connection: keep-alive\r\nKeep-Alive: timeout=30\r\n}
--- response_body
ok



=== TEST 2: keepalive_timeout header_timeout in minutes, inherited by a location
--- config
    keepalive_timeout 75s 2m;
    location /t { keepalive_timeout 60s; return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- raw_response_headers_like eval
qr{\r\nKeep-Alive: timeout=120\r\n}
--- response_body
ok



=== TEST 3: no Keep-Alive header without header_timeout
--- config
    keepalive_timeout 75s;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- raw_response_headers_like eval
qr{\r\nConnection: keep-alive\r\n}
--- raw_response_headers_unlike eval
qr{Keep-Alive}
--- response_body
ok



=== TEST 4: no Keep-Alive header when the connection closes
--- config
    keepalive_timeout 75s 30s;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_headers
Connection: close
!Keep-Alive
--- response_body
ok



=== TEST 5: keepalive_timeout header_timeout is in seconds: "ms" is refused
--- config
    keepalive_timeout 75s 500ms;
--- must_die
--- error_log
"keepalive_timeout" directive invalid value



=== TEST 6: msie_padding on (default): MSIE gets the padding on error pages
--- config
    location /t { return 404; }
--- request
GET /t
--- more_headers
User-Agent: Mozilla/4.0 (compatible; MSIE 6.0)
--- error_code: 404
--- response_body_like eval
qr{<h1>404 Not Found</h1></center>\r\n<hr><center>[^<]+</center>\r\n</body>\r\n</html>\r\n(?:<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n){6}\z}



=== TEST 7: msie_padding: Chrome too
--- config
    location /t { return 403; }
--- request
GET /t
--- more_headers
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36
--- error_code: 403
--- response_body_like eval
qr{</html>\r\n(?:<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n){6}\z}



=== TEST 8: msie_padding: not for Firefox, nor without User-Agent
--- config
    location /t { return 404; }
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", ""]
--- error_code eval
[404, 404]
--- response_body_like eval
[qr{</html>\r\n\z}, qr{</html>\r\n\z}]



=== TEST 9: msie_padding off
--- config
    msie_padding off;
    location /t { return 404; }
--- request
GET /t
--- more_headers
User-Agent: Mozilla/4.0 (compatible; MSIE 6.0)
--- error_code: 404
--- response_body_like eval
qr{</html>\r\n\z}



=== TEST 10: msie_padding: not below 400
--- config
    location /t { return 301 /x; }
--- request
GET /t
--- more_headers
User-Agent: Mozilla/4.0 (compatible; MSIE 6.0)
--- error_code: 301
--- response_body_like eval
qr{</html>\r\n\z}



=== TEST 11: underscores_in_headers off (default): the header is ignored and logged
--- config
    location /t { return 200 "[$http_x_foo][$http_x_bar]\n"; }
--- request
GET /t
--- more_headers
X_Foo: one
X-Bar: two
--- response_body
[][two]
--- log_level: info
--- error_log
client sent invalid header line: "X_Foo: one"



=== TEST 12: other invalid characters are ignored too
--- config
    location /t { return 200 "[$http_x_bar]\n"; }
--- request
GET /t
--- more_headers
X.Bar: one
X-Bar: two
--- response_body
[two]
--- log_level: info
--- error_log
client sent invalid header line: "X.Bar: one"



=== TEST 13: underscores_in_headers on
--- config
    underscores_in_headers on;
    location /t { return 200 "[$http_x_foo]\n"; }
--- request
GET /t
--- more_headers
X_Foo: one
--- response_body
[one]
--- log_level: info
--- no_error_log
invalid header line



=== TEST 14: ignore_invalid_headers off keeps them
--- config
    ignore_invalid_headers off;
    location /t { return 200 "[$http_x_foo]\n"; }
--- request
GET /t
--- more_headers
X_Foo: one
--- response_body
[one]
--- log_level: info
--- no_error_log
invalid header line



=== TEST 15: ETag is hex mtime - hex size
--- config
    location / { root html; }
--- user_files eval
[["e.txt", "x" x 300, 1700000000]]
--- request
GET /e.txt
--- response_headers
ETag: "6553f100-12c"
Content-Length: 300



=== TEST 16: ETag of an empty file at mtime 0
--- config
    location / { root html; }
--- user_files eval
[["z.txt", "", 0]]
--- request
GET /z.txt
--- response_headers
ETag: "0-0"
Content-Length: 0
--- response_body



=== TEST 17: worker_connections: a full worker closes a new connection with an alert
--- config
    location /t { return 200 "ok\n"; }
--- request_eval
hold_connections(3, "GET /t HTTP/1.1\r\n");
"GET /t"
--- error_code
--- abort
--- error_log
4 worker_connections are not enough



=== TEST 18: worker_connections: a slot freed is used again
--- config
    location /t { return 200 "ok\n"; }
--- request_eval
hold_connections(3, "GET /t HTTP/1.1\r\n", 1);
"GET /t"
--- response_body
ok
--- no_error_log
worker_connections are not enough



=== TEST 19: worker_connections: idle connections are reused (closed) for a new one
--- config
    location /t { return 200 "ok\n"; }
--- request_eval
hold_connections(3);
"GET /t"
--- response_body
ok
--- error_log
4 worker_connections are not enough, reusing connections
--- no_error_log
[alert]
