# Directives that used to be accepted and ignored: keepalive_timeout's
# header_timeout, msie_padding, underscores_in_headers /
# ignore_invalid_headers, worker_connections; and the hand-formatted ETag.
use Test::Nginx::Socket 'no_plan';

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
