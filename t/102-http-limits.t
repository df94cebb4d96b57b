# Limits, smuggling defences, keep-alive and pipelining.
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: too long URI is 414
--- config
    location / { return 200 "ok\n"; }
--- request eval
"GET /" . ("a" x 10000)
--- error_code: 414



=== TEST 2: too long header line is 400 Request Header Or Cookie Too Large
--- config
    location / { return 200 "ok\n"; }
--- more_headers eval
"X-Big: " . ("b" x 10000)
--- request
GET /
--- error_code: 400
--- response_body_like: Request Header Or Cookie Too Large



=== TEST 3: client_max_body_size gives 413
--- config
    location / { client_max_body_size 10; echo_read_request_body; echo_request_body; }
--- request eval
"POST /\n" . ("x" x 100)
--- error_code: 413



=== TEST 4: Content-Length with Transfer-Encoding is 400
--- config
    location / { return 200 "ok\n"; }
--- raw_request eval
"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
--- error_code: 400



=== TEST 5: duplicate Content-Length is 400
--- config
    location / { return 200 "ok\n"; }
--- raw_request eval
"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na"
--- error_code: 400



=== TEST 6: bad chunk size is 400
--- config
    location / { echo_read_request_body; echo_request_body; }
--- raw_request eval
"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
--- error_code: 400



=== TEST 7: chunked request body
--- config
    location / { echo_read_request_body; echo_request_body; }
--- raw_request eval
"POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
--- response_body chomp
abcde



=== TEST 8: pipelined requests answered in order
--- config
    location /p { return 200 "$arg_n\n"; }
--- pipelined_requests eval
["GET /p?n=1", "GET /p?n=2", "GET /p?n=3"]
--- response_body eval
["1\n", "2\n", "3\n"]



=== TEST 9: HTTP/1.1 without Host is 400
--- config
    location / { return 200 "ok\n"; }
--- raw_request eval
"GET / HTTP/1.1\r\n\r\n"
--- error_code: 400



=== TEST 10: HTTP/1.0 closes by default
--- config
    location / { return 200 "ok\n"; }
--- raw_request eval
"GET / HTTP/1.0\r\n\r\n"
--- response_headers
Connection: close
--- response_body
ok



=== TEST 11: client_body_timeout: 408, the connection is closed without a response (as nginx)
--- config
    client_body_timeout 200ms;
    location / { echo_read_request_body; echo_request_body; }
--- raw_request eval
"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc"
--- error_code:
--- timeout: 3



=== TEST 12: keepalive_requests 1 closes after the first response
--- config
    keepalive_requests 1;
    location / { return 200 "ok\n"; }
--- request
GET /
--- response_headers
Connection: close
