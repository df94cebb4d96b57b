# Request heads parsed as nginx does (issue 9, part 2): Host checks, unknown
# methods, TRACE, Transfer-Encoding, bare LF line ends,
# header lines without a colon, obs-fold, HTTP/1.2 .. 1.999 (Expect:
# 100-continue is t/121-http-expect.t). Each block was
# checked against Debian's nginx 1.22 (TEST_NGINX_BINARY=/usr/sbin/nginx
# with the Lua module loaded, see t/README.md).
use Test::Nginx::Socket 'no_plan';

no_shuffle();
log_level('info');
run_tests();

__DATA__

=== TEST 1: two Host headers are refused
--- config
    location /t { return 200 "host=$host\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nHost: other\r\n\r\n"
--- error_code: 400
--- error_log
client sent duplicate host header: "Host: other", previous value: "Host: localhost"



=== TEST 2: a Host of ".." is refused
--- config
    location /t { return 200 "host=$host\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: ..\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid host header



=== TEST 3: a host with a control character is refused
--- config
    location /t { return 200 "host=$host\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: a\x01b\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid host header



=== TEST 4: a host with a space is refused
--- config
    location /t { return 200 "host=$host\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: a b\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid host header



=== TEST 5: an empty Host is refused on HTTP/1.0 too
--- config
    location /t { return 200 "host=$host\n"; }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost:\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid host header



=== TEST 6: $host is the validated Host: lowercased, port and trailing dot gone, backslash kept
--- config
    location /t { return 200 "host=$host\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: Local\\Host.:8080\r\n\r\n"
--- response_body
host=local\host



=== TEST 7: an invalid host in an absolute request URI
--- config
    location /t { return 200 "host=$host\n"; }
--- raw_request eval
"GET http://../t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid host in request line



=== TEST 8: unknown methods of uppercase letters, '_' and '-' are accepted
--- config
    location /t { return 200 "$request_method\n"; }
--- raw_request eval
"FOO /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- response_body
FOO



=== TEST 9: PURGE
--- config
    location /t { return 200 "$request_method\n"; }
--- raw_request eval
"PURGE /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- response_body
PURGE



=== TEST 10: a method with "_" and "-" (MY_METH-OD)
--- config
    location /t { return 200 "$request_method\n"; }
--- raw_request eval
"MY_METH-OD /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- response_body
MY_METH-OD



=== TEST 11: a method with a lowercase letter or a digit is not
--- config
    location /t { return 200 "$request_method\n"; }
--- raw_request eval
"M1 /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid method



=== TEST 12: TRACE is 405
--- config
    location /t { return 200 "$request_method\n"; }
--- raw_request eval
"TRACE /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 405
--- error_log
client sent TRACE method



=== TEST 13: a Transfer-Encoding other than chunked is 501
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
--- error_code: 501
--- error_log
client sent unknown "Transfer-Encoding": "gzip, chunked"



=== TEST 14: Transfer-Encoding on HTTP/1.0 is 400
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"POST /t HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
--- error_code: 400
--- error_log
client sent HTTP/1.0 request with "Transfer-Encoding" header



=== TEST 15: bare LF ends the request line and the header lines
--- config
    location /t { return 200 "$request|$http_x_a\n"; }
--- raw_request eval
"GET /t HTTP/1.1\nHost: localhost\nX-A: 1\n\n"
--- response_body
GET /t HTTP/1.1|1



=== TEST 16: a header line without a colon is a header with an empty value
--- config
    location /t { return 200 "[$http_foo][$http_bar]\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nFoo\r\nBar: b\r\n\r\n"
--- response_body
[][b]
--- no_error_log
invalid header



=== TEST 17: a name with a space is an invalid header line
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nFoo bar\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid header line: "Foo\x20..."



=== TEST 18: an obs-fold continuation line is refused
--- config
    location /t { return 200 "[$http_foo]\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nFoo: a\r\n b\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid header line: "\x20..."



=== TEST 19: a space before the colon is refused too
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost : localhost\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid header line: "Host\x20..."



=== TEST 20: HTTP/1.2 is served as HTTP/1.1
--- config
    location /t { return 200 "$server_protocol\n"; }
--- raw_request eval
"GET /t HTTP/1.2\r\nHost: localhost\r\n\r\n"
--- raw_response_headers_like: ^HTTP/1.1 200 OK\r\n
--- response_body
HTTP/1.2



=== TEST 21: HTTP/1.99 keeps the connection alive by default, as 1.1
--- config
    location /t { return 200 "$server_protocol\n"; }
--- pipelined_requests eval
["GET /t HTTP/1.99\r\nHost: localhost\r\n\r\n", "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n"]
--- response_body eval
["HTTP/1.99\n", "HTTP/1.1\n"]



=== TEST 22: HTTP/1.1000 is too many digits
--- config
    location /t { return 200 "$server_protocol\n"; }
--- raw_request eval
"GET /t HTTP/1.1000\r\nHost: localhost\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid request
