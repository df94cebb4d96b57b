# Static files through sendfile: large files (partial sends, EAGAIN), ranges,
# HEAD, chunked, headers written before the file, filters that need the data
# in memory (Lua body_filter, echo_before/after_body), subrequests.
use Test::Nginx::Socket 'no_plan';

our $big = join '', map { sprintf "%07d\n", $_ } 0 .. 999_999;   # 8 MB
our $bigmd5 = do { require Digest::MD5; Digest::MD5::md5_hex($big) };

run_tests();

__DATA__

=== TEST 1: sendfile on: small file
--- config
    sendfile on;
    location / { root html; }
--- user_files
>>> a.txt
hello world
--- request
GET /a.txt
--- response_headers
Content-Length: 12
--- response_body
hello world
--- no_error_log
[error]



=== TEST 2: sendfile on: 8 MB file (many partial sends and EAGAIN)
--- config
    sendfile on;
    location / { root html; }
--- user_files eval
">>> big.txt\n$::big"
--- request
GET /big.txt
--- response_body eval
$::big
--- timeout: 20
--- no_error_log
[error]



=== TEST 3: sendfile on: range in the middle of a big file
--- config
    sendfile on;
    location / { root html; }
--- user_files eval
">>> big.txt\n$::big"
--- request
GET /big.txt
--- more_headers
Range: bytes=4000000-4000015
--- error_code: 206
--- response_headers
Content-Range: bytes 4000000-4000015/8000000
Content-Length: 16
--- response_body eval
substr($::big, 4000000, 16)



=== TEST 4: sendfile on: HEAD sends no body
--- config
    sendfile on;
    location / { root html; }
--- user_files
>>> a.txt
hello world
--- request
HEAD /a.txt
--- response_headers
Content-Length: 12
--- response_body



=== TEST 5: sendfile on: pipelined keep-alive requests stay in order
--- config
    sendfile on;
    location / { root html; }
    location = /e { echo "between"; }
--- user_files
>>> a.txt
hello world
--- pipelined_requests eval
["GET /a.txt", "GET /e", "GET /a.txt"]
--- response_body eval
["hello world\n", "between\n", "hello world\n"]



=== TEST 6: sendfile on: Lua body_filter sees the file data
--- config
    sendfile on;
    location / {
        root html;
        body_filter_by_lua_block { if ngx.arg[1] then ngx.arg[1] = string.upper(ngx.arg[1]) end }
    }
--- user_files
>>> a.txt
hello world
--- request
GET /a.txt
--- response_body
HELLO WORLD



=== TEST 7: sendfile on: echo_before_body / echo_after_body around a file
--- config
    sendfile on;
    location / {
        root html;
        echo_before_body before;
        echo_after_body after;
    }
--- user_files
>>> a.txt
hello world
--- request
GET /a.txt
--- response_body
before
hello world
after



=== TEST 8: sendfile on: a file captured by a subrequest
--- config
    sendfile on;
    location / { root html; }
    location = /main {
        echo_location /a.txt;
        echo_location /a.txt;
    }
--- user_files
>>> a.txt
hello world
--- request
GET /main
--- response_body
hello world
hello world



=== TEST 9: sendfile on: error_page served from a file
--- config
    sendfile on;
    error_page 404 /404.html;
    location / { root html; }
--- user_files
>>> 404.html
not here
--- request
GET /nothing
--- error_code: 404
--- response_body
not here



=== TEST 10: sendfile off: 8 MB file through the read path
--- config
    sendfile off;
    location / { root html; }
--- user_files eval
">>> big.txt\n$::big"
--- request
GET /big.txt
--- response_body eval
$::big
--- timeout: 20
