# upstream {} (ngx_http_upstream + round robin + keepalive): weights, backup
# and down peers, max_fails / fail_timeout and "no live upstreams",
# proxy_next_upstream with its tries, timeout and idempotence rules,
# $upstream_* over retries, keepalive reuse counted at the backend. The
# backends are t/lib/Lunet/Backend.pm. Passes against Debian's nginx too.
use Test::Nginx::Socket::Lua 'no_plan';
use Lunet::Backend qw(backend);
use Lunet::Proc qw(free_port);

$ENV{TEST_NGINX_A_PORT} = backend(name => 'A');
$ENV{TEST_NGINX_B_PORT} = backend(name => 'B');
$ENV{TEST_NGINX_C_PORT} = backend(name => 'C');
$ENV{TEST_NGINX_K_PORT} = backend(name => 'K');
$ENV{TEST_NGINX_CLOSED_PORT} = free_port();

no_shuffle();
run_tests();

__DATA__

=== TEST 1: weights: smooth weighted round robin (5:1:1 gives a a b a c a a)
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT weight=5;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT;
    }
--- config
    location /p/ {
        proxy_pass http://u/;
    }
--- pipelined_requests eval
["GET /p/id", "GET /p/id", "GET /p/id", "GET /p/id", "GET /p/id", "GET /p/id", "GET /p/id"]
--- response_body eval
["A\n", "A\n", "B\n", "A\n", "C\n", "A\n", "A\n"]



=== TEST 2: a backup peer serves only when the primary ones fail; a down one never
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_CLOSED_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT down;
        server 127.0.0.1:$TEST_NGINX_B_PORT backup;
    }
--- config
    location /p/ {
        proxy_pass http://u/;
        log_by_lua_block { ngx.log(ngx.WARN, "ups: ", ngx.var.upstream_addr, " | ", ngx.var.upstream_status) }
    }
--- request
GET /p/id
--- response_body
B
--- error_log eval
[qr/connect\(\) failed \(111: Connection refused\) while connecting to upstream/,
 qr/ups: 127.0.0.1:\d+, 127.0.0.1:\d+ \| 502, 200/]



=== TEST 3: max_fails: a failed peer is skipped for fail_timeout, all failed: no live upstreams
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_CLOSED_PORT max_fails=1 fail_timeout=10s;
        server 127.0.0.1:$TEST_NGINX_CLOSED_PORT max_fails=1 fail_timeout=10s;
    }
--- config
    location /p/ {
        proxy_pass http://u/;
    }
--- pipelined_requests eval
["GET /p/id", "GET /p/id"]
--- error_code eval
[502, 502]
--- error_log
no live upstreams while connecting to upstream
upstream server temporarily disabled



=== TEST 4: a lone server is never counted out
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_CLOSED_PORT max_fails=1;
    }
--- config
    location /p/ {
        proxy_pass http://u/;
    }
--- pipelined_requests eval
["GET /p/id", "GET /p/id"]
--- error_code eval
[502, 502]
--- no_error_log
no live upstreams



=== TEST 5: proxy_next_upstream http_503: the next peer answers; $upstream_status lists both
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /p/ {
        proxy_next_upstream error timeout http_503;
        proxy_pass http://u/;
        log_by_lua_block { ngx.log(ngx.WARN, "ups: ", ngx.var.upstream_status) }
    }
--- request
GET /p/code/503
--- error_code: 503
--- response_body_like: code 503 from [AB]
--- error_log
ups: 503, 503



=== TEST 6: without it in proxy_next_upstream, a 503 is passed on at once
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /p/ {
        proxy_pass http://u/;
        log_by_lua_block { ngx.log(ngx.WARN, "ups: ", ngx.var.upstream_status) }
    }
--- request
GET /p/code/503
--- error_code: 503
--- grep_error_log eval: qr/ups: \d+(, \d+)*/
--- grep_error_log_out
ups: 503



=== TEST 7: a POST is not retried after it was sent, unless non_idempotent
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /p/ {
        proxy_next_upstream error http_500;
        proxy_pass http://u/;
        log_by_lua_block { ngx.log(ngx.WARN, "ups: ", ngx.var.upstream_status) }
    }
    location /q/ {
        proxy_next_upstream error http_500 non_idempotent;
        proxy_pass http://u/;
        log_by_lua_block { ngx.log(ngx.WARN, "ups: ", ngx.var.upstream_status) }
    }
--- pipelined_requests eval
["POST /p/code/500\r\nContent-Length: 1\r\n\r\nx", "POST /q/code/500\r\nContent-Length: 1\r\n\r\nx"]
--- error_code eval
[500, 500]
--- grep_error_log eval: qr/ups: \d+(, \d+)*/
--- grep_error_log_out
ups: 500
ups: 500, 500



=== TEST 8: proxy_next_upstream_tries 1: no second try
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_CLOSED_PORT max_fails=0;
        server 127.0.0.1:$TEST_NGINX_CLOSED_PORT max_fails=0;
        server 127.0.0.1:$TEST_NGINX_CLOSED_PORT max_fails=0;
    }
--- config
    location /p/ {
        proxy_next_upstream_tries 1;
        proxy_pass http://u/;
    }
    location /q/ {
        proxy_pass http://u/;
    }
--- pipelined_requests eval
["GET /p/id", "GET /q/id"]
--- error_code eval
[502, 502]
--- grep_error_log eval: qr/connect\(\) failed .*?request: "GET \/\w/
--- grep_error_log_out
connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: localhost, request: "GET /p
connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: localhost, request: "GET /q
connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: localhost, request: "GET /q
connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: localhost, request: "GET /q



=== TEST 9: a read timeout goes to the next peer with "timeout"; $upstream_* times
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /p/ {
        proxy_read_timeout 200ms;
        proxy_pass http://u/;
        log_by_lua_block {
            ngx.log(ngx.WARN, "ups: ", ngx.var.upstream_status, " | ",
                    ngx.var.upstream_response_time:match("^%d+%.%d%d%d, %d+%.%d%d%d$") and "times ok")
        }
    }
--- request
GET /p/delay/1000
--- error_code: 504
--- error_log
upstream timed out (110: Connection timed out) while reading response header from upstream
ups: 504, 504 | times ok



=== TEST 10: keepalive: ten requests over one upstream connection
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_K_PORT;
        keepalive 4;
    }
--- config
    location /k/ {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k/;
    }
--- pipelined_requests eval
["GET /k/id", "GET /k/id", "GET /k/id", "GET /k/id", "GET /k/id", "GET /k/id", "GET /k/id", "GET /k/id", "GET /k/id", "GET /k/conns"]
--- response_body eval
["K\n", "K\n", "K\n", "K\n", "K\n", "K\n", "K\n", "K\n", "K\n", "1\n"]



=== TEST 11: keepalive_requests 2: a new connection every second request; Connection: close from upstream is not kept
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_K_PORT;
        keepalive 4;
        keepalive_requests 2;
    }
--- config
    location /k/ {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k/;
    }
--- pipelined_requests eval
["GET /k/conns", "GET /k/conns", "GET /k/conns", "GET /k/conns"]
--- response_body eval
["2\n", "2\n", "3\n", "3\n"]



=== TEST 12: no keepalive with Connection: close (the default)
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_K_PORT;
        keepalive 4;
    }
--- config
    location /k/ {
        proxy_http_version 1.1;
        proxy_pass http://k/;
    }
--- pipelined_requests eval
["GET /k/conns", "GET /k/conns"]
--- response_body eval
["4\n", "5\n"]
