# The HTTP version in the request line, as ngx_http_parse_request_line
# judges it: major > 1 is 505, "HTTP/0.x" is 400, a line without a version
# is an HTTP/0.9 simple request (GET only, answered without a header).
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: HTTP/2.0 is 505 HTTP Version Not Supported
--- config
    location / { return 200 "ok\n"; }
--- raw_request eval
"GET / HTTP/2.0\r\nHost: localhost\r\n\r\n"
--- error_code: 505
--- response_body_like: 505 HTTP Version Not Supported
--- error_log
client sent invalid version while reading client request line



=== TEST 2: HTTP/3.1 and HTTP/10.0 are 505 too
--- config
    location / { return 200 "ok\n"; }
--- raw_request eval
["GET / HTTP/3.1\r\nHost: localhost\r\n\r\n", "GET / HTTP/10.0\r\n\r\n"]
--- error_code eval
[505, 505]



=== TEST 3: a multi-digit major version that starts with 1 is 505
--- config
    location / { return 200 "ok\n"; }
--- raw_request eval
"GET / HTTP/1000.0\r\nHost: localhost\r\n\r\n"
--- error_code: 505



=== TEST 4: HTTP/0.9 in the request line is 400
--- config
    location / { return 200 "ok\n"; }
--- raw_request eval
"GET / HTTP/0.9\r\nHost: localhost\r\n\r\n"
--- error_code: 400



=== TEST 5: HTTP/0.9 simple request: body only, no header
--- config
    location / { return 200 "ok\n"; }
--- raw_request eval
"GET /\r\n"
--- error_code:
--- response_body
ok



=== TEST 6: HTTP/0.9 simple request with another method: 400 page without header
--- config
    location / { return 200 "ok\n"; }
--- raw_request eval
"POST /\r\n"
--- error_code:
--- response_body_like: 400 Bad Request
--- error_log
client sent invalid method in HTTP/0.9 request



=== TEST 7: HTTP/1.0 and HTTP/1.1 still work
--- config
    location / { return 200 "ok\n"; }
--- raw_request eval
["GET / HTTP/1.0\r\n\r\n", "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"]
--- response_body eval
["ok\n", "ok\n"]
