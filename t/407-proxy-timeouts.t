# Proxy timeouts against a backend that stalls at that step:
# proxy_send_timeout (a backend that never reads a big body),
# proxy_read_timeout mid-body (the head came, the body stalls: the client
# connection is closed); the head's read timeout is t/401 TEST 10.
# (proxy_connect_timeout needs a peer that drops SYNs, which loopback does
# not give reliably.) Passes against Debian's nginx too.
use Test::Nginx::Socket::Lua 'no_plan';
use Lunet::Backend qw(backend);
use Lunet::TestServer qw(tcp_server);

# Reads the head only, then sits on the connection without reading.
$ENV{TEST_NGINX_DEAF_PORT} = tcp_server(sub {
    my ($c) = @_;
    my $buf = '';
    while ($buf !~ /\r\n\r\n/) { sysread($c, $buf, 1, length $buf) or return }
    sleep 5;
});
$ENV{TEST_NGINX_BACKEND_PORT} = backend(name => 'A');

no_shuffle();
run_tests();

__DATA__

=== TEST 1: proxy_send_timeout: a backend that does not read a 4 MiB body
--- config
    location / {
        client_max_body_size 10m;
        proxy_send_timeout 200ms;
        proxy_pass http://127.0.0.1:$TEST_NGINX_DEAF_PORT;
    }
--- request eval
"POST /x\n" . ("b" x (4 * 1024 * 1024))
--- error_code: 504
--- error_log
upstream timed out (110: Connection timed out) while sending request to upstream
--- timeout: 10



=== TEST 2: proxy_read_timeout in the body: the client connection is closed after what came
--- config
    location / {
        proxy_read_timeout 200ms;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /slowbody/1000
--- ignore_response
--- error_log
upstream timed out (110: Connection timed out) while reading upstream
