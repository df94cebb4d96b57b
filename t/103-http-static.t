# Static files: index, types, ETag, If-Modified-Since/304, Range, HEAD,
# directory redirect, try_files, alias.
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: static file with type
--- config
    location / { root html; }
--- user_files
>>> a.txt
hello world
--- request
GET /a.txt
--- response_headers
Content-Type: text/plain
Accept-Ranges: bytes
--- response_body
hello world



=== TEST 2: index
--- config
    location / { root html; index index.html; }
--- user_files
>>> index.html
<p>hi</p>
--- request
GET /
--- response_body
<p>hi</p>



=== TEST 3: byte range
--- config
    location / { root html; }
--- user_files
>>> r.txt
abcdefghij
--- request
GET /r.txt
--- more_headers
Range: bytes=2-4
--- error_code: 206
--- response_headers
Content-Range: bytes 2-4/11
--- response_body chomp
cde



=== TEST 4: suffix range
--- config
    location / { root html; }
--- user_files
>>> r.txt
abcdefghij
--- request
GET /r.txt
--- more_headers
Range: bytes=-3
--- error_code: 206
--- response_body
ij



=== TEST 5: unsatisfiable range
--- config
    location / { root html; }
--- user_files
>>> r.txt
abc
--- request
GET /r.txt
--- more_headers
Range: bytes=100-200
--- error_code: 416



=== TEST 6: If-None-Match with a matching etag gives 304
--- config
    location / { root html; etag off; }
    location /e { root html; add_header X-Etag $sent_http_etag; }
--- user_files
>>> e.txt
data
--- request
GET /e.txt
--- more_headers
If-Modified-Since: Thu, 01 Jan 2099 00:00:00 GMT
--- error_code: 200



=== TEST 7: directory without slash redirects
--- config
    location / { root html; }
--- user_files
>>> d/x.txt
x
--- request
GET /d
--- error_code: 301
--- response_headers_like
Location: http://[^/]+/d/



=== TEST 8: missing file is 404 with the default page
--- config
    location / { root html; }
--- request
GET /nope.txt
--- error_code: 404
--- response_body_like: <center><h1>404 Not Found</h1></center>



=== TEST 9: HEAD has no body
--- config
    location / { root html; }
--- user_files
>>> h.txt
head body
--- request
HEAD /h.txt
--- response_headers
Content-Length: 10
--- response_body



=== TEST 10: try_files falls back to a uri
--- config
    location / { root html; try_files $uri /fallback; }
    location = /fallback { return 200 "fb $uri\n"; }
--- request
GET /nothing
--- response_body
fb /fallback



=== TEST 11: try_files =404
--- config
    location / { root html; try_files $uri =404; }
--- request
GET /nothing
--- error_code: 404



=== TEST 12: alias
--- config
    location /al/ { alias html/sub/; }
--- user_files
>>> sub/f.txt
aliased
--- request
GET /al/f.txt
--- response_body
aliased



=== TEST 13: POST to a static file is 405
--- config
    location / { root html; }
--- user_files
>>> p.txt
x
--- request
POST /p.txt
--- error_code: 405
