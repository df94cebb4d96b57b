# rewrite flags, return, set, if, error_page, add_header.
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: rewrite last re-matches locations
--- config
    location /old { rewrite ^/old/(.*)$ /new/$1 last; }
    location /new { return 200 "new $uri\n"; }
--- request
GET /old/x
--- response_body
new /new/x



=== TEST 2: rewrite break stays in the location
--- config
    location /b { rewrite ^ /other break; echo "here $uri"; }
--- request
GET /b
--- response_body
here /other



=== TEST 3: rewrite redirect
--- config
    location /r { rewrite ^ /dest redirect; }
--- request
GET /r
--- error_code: 302
--- response_headers_like
Location: http://[^/]+/dest



=== TEST 4: rewrite permanent keeps args
--- config
    location /r { rewrite ^ /dest permanent; }
--- request
GET /r?a=1
--- error_code: 301
--- response_headers_like
Location: http://[^/]+/dest\?a=1



=== TEST 5: set and if
--- config
    location /s {
        set $v "x$arg_a";
        if ($v = xyes) { return 200 "matched\n"; }
        return 200 "nope $v\n";
    }
--- request
GET /s?a=yes
--- response_body
matched



=== TEST 6: if with regex captures
--- config
    location /c {
        if ($arg_q ~ ^(\d+)-(\w+)$) { return 200 "$2 $1\n"; }
        return 200 "none\n";
    }
--- request
GET /c?q=12-ab
--- response_body
ab 12



=== TEST 7: error_page with =code
--- config
    location /e { error_page 404 =200 /ok; return 404; }
    location = /ok { return 201 "ok\n"; }
--- request
GET /e
--- error_code: 200
--- response_body
ok



=== TEST 8: error_page keeps the original status
--- config
    location /e { error_page 404 /page; return 404; }
    location = /page { return 200 "page\n"; }
--- request
GET /e
--- error_code: 404
--- response_body
page



=== TEST 9: add_header and always
--- config
    location /h { add_header X-A 1; add_header X-B 2 always; return 404; }
--- request
GET /h
--- error_code: 404
--- response_headers
X-A:
X-B: 2



=== TEST 10: return with a URL
--- config
    location /u { return https://example.com/x; }
--- request
GET /u
--- error_code: 302
--- response_headers
Location: https://example.com/x



=== TEST 11: rewrite cycle is 500
--- config
    location /loop { rewrite ^ /loop last; }
--- request
GET /loop
--- error_code: 500



=== TEST 12: break stops rewrite directives
--- config
    location /br { set $a 1; break; set $a 2; echo $a; }
--- request
GET /br
--- response_body
1
