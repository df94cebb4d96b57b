# The proxied response (ngx_http_proxy_module + ngx_http_upstream): status
# line and headers passed on (hop-by-hop ones and nginx's hidden ones
# dropped, proxy_hide_header / proxy_pass_header), bodies sized, chunked
# and until close, big bodies, proxy_redirect default; the failures with
# nginx's status and log wording: connection refused (502), timeouts
# (504), a backend closing or resetting early, invalid / too big heads.
# The backend is t/lib/Lunet/Backend.pm. Passes against Debian's nginx too.
use Test::Nginx::Socket::Lua 'no_plan';
use Lunet::Backend qw(backend);
use Lunet::Proc qw(free_port);

$ENV{TEST_NGINX_BACKEND_PORT} = backend(name => 'A');
$ENV{TEST_NGINX_CLOSED_PORT} = free_port();
$ENV{TEST_NGINX_BACKEND_SOCK} = backend(name => 'U', unix => "/tmp/lunet-t401-$$.sock");

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a sized response: status line, headers, body
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /code/201
--- response_body
code 201 from A
--- error_code: 201
--- response_headers
Content-Length: 16



=== TEST 2: hop-by-hop and hidden headers stay behind; Server and Date are ours
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /hdr
--- response_body
hdr
--- response_headers
X-Foo: foo
X-Bar: bar
X-Pad:
Keep-Alive:
--- response_headers_like
Server: (nginx|lunet).*



=== TEST 3: proxy_hide_header, proxy_pass_header
--- config
    location / {
        proxy_hide_header X-Foo;
        proxy_pass_header Server;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /hdr
--- response_body
hdr
--- response_headers
X-Foo:
X-Bar: bar
Server: perl



=== TEST 4: a chunked response is passed de-chunked and chunked again
--- config
    location / {
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /chunked
--- response_body
hello, world
--- response_headers
Transfer-Encoding: chunked



=== TEST 5: a response ended by the close
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /eof
--- response_body
until the end



=== TEST 6: a 3 MiB sized body arrives whole
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /big/3145728
--- response_body eval
substr(join('', 'a' .. 'z') x 120990, 0, 3145728)
--- timeout: 10



=== TEST 7: a 1 MiB chunked body (16 KiB chunks) arrives whole
--- config
    location / {
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /bigchunked/1048576
--- response_body eval
substr(join('', 'a' .. 'z') x 631, 0, 16384) x 64
--- timeout: 10



=== TEST 8: HEAD: no body is read
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
HEAD /big/100
--- response_body
--- response_headers
Content-Length: 100



=== TEST 9: connection refused: 502 and nginx's line
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CLOSED_PORT;
    }
--- request
GET /x
--- error_code: 502
--- response_body_like: 502 Bad Gateway
--- error_log eval
qr/\[error\] .*connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127.0.0.1, server: localhost, request: "GET \/x HTTP\/1.1", upstream: "http:\/\/127.0.0.1:\d+\/x", host: "localhost"/



=== TEST 10: proxy_read_timeout: 504
--- config
    location / {
        proxy_read_timeout 100ms;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /delay/1000
--- error_code: 504
--- response_body_like: 504 Gateway Time-out
--- error_log
upstream timed out (110: Connection timed out) while reading response header from upstream



=== TEST 11: the backend closes before answering: 502
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /close
--- error_code: 502
--- error_log
upstream prematurely closed connection while reading response header from upstream



=== TEST 12: the backend resets: 502
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /reset
--- error_code: 502
--- error_log
recv() failed (104: Connection reset by peer) while reading response header from upstream



=== TEST 13: an invalid header line: 502
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /badhdr
--- error_code: 502
--- error_log
upstream sent invalid header



=== TEST 14: a head bigger than proxy_buffer_size: 502
--- config
    location / {
        proxy_buffer_size 4k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /bighdr
--- error_code: 502
--- error_log
upstream sent too big header while reading response header from upstream



=== TEST 15: ... and fits a bigger proxy_buffer_size
--- config
    location / {
        proxy_buffer_size 16k;
        proxy_buffers 8 16k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /bighdr
--- response_body
big



=== TEST 16: no status line: logged (nginx then passes the bytes on as an HTTP/0.9 response, Lunet answers 502)
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /nostatus
--- ignore_response
--- error_log
upstream sent no valid HTTP/1.0 header while reading response header from upstream



=== TEST 17: the body ends early: the client connection is closed, the log says why
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /trunc
--- ignore_response
--- error_log
upstream prematurely closed connection while reading upstream



=== TEST 18: proxy_redirect default rewrites the backend's own Location
--- config
    location /p/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/;
    }
--- request
GET /p/redirect
--- error_code: 302
--- response_headers_like
Location: http://localhost(:\d+)?/p/echo/here



=== TEST 19: proxy_redirect off keeps it, a from/to pair replaces it
--- config
    location /p/ {
        proxy_redirect off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/;
    }
    location /q/ {
        proxy_redirect http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/echo/ /other/;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/;
    }
--- pipelined_requests eval
["GET /p/redirect", "GET /q/redirect"]
--- error_code eval
[302, 302]
--- response_headers_like eval
["Location: http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT}/echo/here",
 "Location: http://localhost(:\\d+)?/other/here"]



=== TEST 20: $upstream_addr, $upstream_status, $upstream_http_* in the log phase
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
        log_by_lua_block {
            ngx.log(ngx.WARN, "ups: ", ngx.var.upstream_addr, " ", ngx.var.upstream_status,
                    " ", ngx.var.upstream_http_x_foo, " ", ngx.var.upstream_bytes_received > "0")
        }
    }
--- request
GET /hdr
--- response_body
hdr
--- error_log eval
qr/ups: 127.0.0.1:\d+ 200 foo true/



=== TEST 21: header_filter_by_lua and body_filter_by_lua see the proxied response
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
        header_filter_by_lua_block {
            ngx.header["X-Status"] = ngx.status .. " " .. ngx.var.upstream_status
            ngx.header.content_length = nil
        }
        body_filter_by_lua_block {
            ngx.arg[1] = string.upper(ngx.arg[1])
        }
    }
--- request
GET /id
--- response_body
A
--- response_headers
X-Status: 200 200



=== TEST 21: proxy_intercept_errors: an upstream status with an error_page gets that page
--- config
    location /p/ {
        proxy_intercept_errors on;
        error_page 404 /err404;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/;
    }
    location = /err404 {
        return 200 "our own 404 page\n";
    }
--- pipelined_requests eval
["GET /p/code/404", "GET /p/code/500"]
--- error_code eval
[404, 500]
--- response_body eval
["our own 404 page\n", "code 500 from A\n"]



=== TEST 22: proxy_pass http://unix:/path:/uri
--- config
    location /p/ {
        proxy_pass http://unix:$TEST_NGINX_BACKEND_SOCK:/;
    }
--- request
GET /p/id
--- response_body
U



=== TEST 23: an upstream block with a unix: server; $upstream_addr names it
--- http_config
    upstream us {
        server unix:$TEST_NGINX_BACKEND_SOCK;
    }
--- config
    location /p/ {
        proxy_pass http://us/;
        add_header X-Addr $upstream_addr;
    }
--- request
GET /p/id
--- response_body
U
--- response_headers
X-Addr: unix:$TEST_NGINX_BACKEND_SOCK



=== TEST 24: X-Accel-Redirect: the request goes on, as a GET, at that URI; proxy_ignore_headers X-Accel-Redirect passes the answer on
--- config
    location /p/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/;
    }
    location /q/ {
        proxy_ignore_headers X-Accel-Redirect;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/;
    }
    location /internal/ {
        internal;
        return 200 "internal $uri $args $request_method\n";
    }
    location @named {
        return 200 "named $uri\n";
    }
--- pipelined_requests eval
["POST /p/accel/internal/a?x=1\r\nContent-Length: 0\r\n\r\n", "GET /p/accel\@named", "GET /q/accel/internal/a"]
--- response_body eval
["internal /internal/a x=1 GET\n", "named /p/accel\@named\n", "the backend's own body\n"]
