# Byte ranges as nginx's range filter: several ranges → 206
# multipart/byteranges (20-digit boundary, exact framing), overlapping ranges
# larger than the file → 200, syntax errors / nothing inside → 416 with
# Content-Range: bytes */LEN, If-Range (entity tag or date), HEAD, sendfile.
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: two ranges → multipart/byteranges
--- config
    location / { root html; }
--- user_files
>>> r.txt
abcdefghij
--- request
GET /r.txt
--- more_headers
Range: bytes=0-1,4-5
--- error_code: 206
--- response_headers_like
Content-Type: multipart/byteranges; boundary=\d{20}
--- response_headers
Content-Length: 198
Accept-Ranges:
--- response_body_like chomp
\A\r\n--(\d{20})\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/11\r\n\r\nab\r\n--\1\r\nContent-Type: text/plain\r\nContent-Range: bytes 4-5/11\r\n\r\nef\r\n--\1--\r\n\z



=== TEST 2: three ranges with a suffix range, sendfile on
--- config
    sendfile on;
    location / { root html; }
--- user_files
>>> r.txt
abcdefghij
--- request
GET /r.txt
--- more_headers
Range: bytes=1-2, 5-, -3
--- error_code: 206
--- response_body_like chomp
\A\r\n--(\d{20})\r\nContent-Type: text/plain\r\nContent-Range: bytes 1-2/11\r\n\r\nbc\r\n--\1\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-10/11\r\n\r\nfghij\n\r\n--\1\r\nContent-Type: text/plain\r\nContent-Range: bytes 8-10/11\r\n\r\nij\n\r\n--\1--\r\n\z



=== TEST 3: one satisfiable range among several → single 206
--- config
    location / { root html; }
--- user_files
>>> r.txt
abcdefghij
--- request
GET /r.txt
--- more_headers
Range: bytes=0-1,100-200
--- error_code: 206
--- response_headers
Content-Range: bytes 0-1/11
Content-Length: 2
Accept-Ranges:
--- response_body chomp
ab



=== TEST 4: overlapping ranges larger than the file → 200
--- config
    location / { root html; }
--- user_files
>>> r.txt
abcdefghij
--- request
GET /r.txt
--- more_headers
Range: bytes=0-5,3-10
--- error_code: 200
--- response_headers
Accept-Ranges: bytes
--- response_body
abcdefghij



=== TEST 5: syntax error → 416 with Content-Range
--- config
    location / { root html; }
--- user_files
>>> r.txt
abcdefghij
--- request
GET /r.txt
--- more_headers
Range: bytes=5-2
--- error_code: 416
--- response_headers
Content-Range: bytes */11



=== TEST 6: not "bytes=" → 200
--- config
    location / { root html; }
--- user_files
>>> r.txt
abcdefghij
--- request
GET /r.txt
--- more_headers
Range: items=1-2
--- error_code: 200
--- response_body
abcdefghij



=== TEST 7: If-Range with another entity tag → 200
--- config
    location / { root html; }
--- user_files
>>> r.txt
abcdefghij
--- request
GET /r.txt
--- more_headers
Range: bytes=0-1,4-5
If-Range: "nope"
--- error_code: 200
--- response_body
abcdefghij



=== TEST 8: If-Range with an old date → 200
--- config
    location / { root html; }
--- user_files
>>> r.txt
abcdefghij
--- request
GET /r.txt
--- more_headers
Range: bytes=0-1,4-5
If-Range: Thu, 01 Jan 1970 00:00:01 GMT
--- error_code: 200
--- response_body
abcdefghij



=== TEST 9: HEAD with two ranges: headers only
--- config
    location / { root html; }
--- user_files
>>> r.txt
abcdefghij
--- request
HEAD /r.txt
--- more_headers
Range: bytes=0-1,4-5
--- error_code: 206
--- response_headers
Content-Length: 198
--- response_body
