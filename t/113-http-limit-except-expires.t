# limit_except (allow/deny all), expires.
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: limit_except GET: GET allowed
--- config
    location /t {
        limit_except GET { deny all; }
        echo ok;
    }
--- request
GET /t
--- response_body
ok



=== TEST 2: limit_except GET: HEAD allowed too
--- config
    location /t {
        limit_except GET { deny all; }
        echo ok;
    }
--- request
HEAD /t
--- error_code: 200



=== TEST 3: limit_except GET: POST → 403
--- config
    location /t {
        limit_except GET { deny all; }
        echo ok;
    }
--- request
POST /t
hello
--- error_code: 403
--- error_log
access forbidden by rule



=== TEST 4: limit_except with allow all does not refuse
--- config
    location /t {
        limit_except GET { allow all; }
        return 200 "ok\n";
    }
--- request
DELETE /t
--- response_body
ok



=== TEST 5: a denied method runs nothing of the location (nginx: 403 before return)
--- config
    location /t {
        limit_except GET { deny all; }
        return 200 "rewrite phase\n";
    }
--- request
POST /t
--- error_code: 403



=== TEST 6: limit_except with an unsupported access directive fails loudly
--- config
    location /t {
        limit_except GET { deny 10.0.0.1; }
    }
--- must_die
--- error_log
is not supported inside "limit_except"



=== TEST 7: expires 1h
--- config
    location /t {
        expires 1h;
        echo ok;
    }
--- request
GET /t
--- response_headers
Cache-Control: max-age=3600
--- response_headers_like
Expires: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT



=== TEST 8: expires epoch / max / negative / off
--- config
    location /epoch { expires epoch; echo ok; }
    location /max { expires max; echo ok; }
    location /neg { expires -1; echo ok; }
    location /off { expires off; echo ok; }
--- pipelined_requests eval
["GET /epoch", "GET /max", "GET /neg", "GET /off"]
--- response_headers eval
["Expires: Thu, 01 Jan 1970 00:00:01 GMT\nCache-Control: no-cache",
 "Expires: Thu, 31 Dec 2037 23:55:55 GMT\nCache-Control: max-age=315360000",
 "Cache-Control: no-cache",
 "Cache-Control:\nExpires:"]



=== TEST 9: expires only for 2xx/3xx answers
--- config
    location /t { expires 1h; return 404; }
--- request
GET /t
--- error_code: 404
--- response_headers
Cache-Control:
Expires:



=== TEST 10: expires modified: from Last-Modified of a file
--- config
    location / { root html; expires modified 1d; }
--- user_files
>>> a.txt
x
--- request
GET /a.txt
--- response_headers_like
Cache-Control: max-age=\d+
