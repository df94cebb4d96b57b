# Location matching precedence (=, ^~, longest prefix, regex in config
# order, nested, named). server_name precedence is in t/119-http-server-name.t.
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: exact beats prefix and regex
--- config
    location = /a { return 200 "exact\n"; }
    location /a { return 200 "prefix\n"; }
    location ~ ^/a { return 200 "regex\n"; }
--- request
GET /a
--- response_body
exact



=== TEST 2: regex beats plain prefix
--- config
    location /a { return 200 "prefix\n"; }
    location ~ ^/a { return 200 "regex\n"; }
--- request
GET /abc
--- response_body
regex



=== TEST 3: ^~ prefix stops regex search
--- config
    location ^~ /a { return 200 "noregex\n"; }
    location ~ ^/a { return 200 "regex\n"; }
--- request
GET /abc
--- response_body
noregex



=== TEST 4: longest prefix wins
--- config
    location /a { return 200 "a\n"; }
    location /a/b { return 200 "ab\n"; }
--- request
GET /a/b/c
--- response_body
ab



=== TEST 5: first regex in config order wins
--- config
    location ~ b { return 200 "first\n"; }
    location ~ bc { return 200 "second\n"; }
--- request
GET /abc
--- response_body
first



=== TEST 6: case-insensitive regex
--- config
    location ~* \.PNG$ { return 200 "png\n"; }
--- request
GET /x.png
--- response_body
png



=== TEST 7: nested regex inside prefix is checked first
--- config
    location /n {
        location ~ \.txt$ { return 200 "nested\n"; }
        return 200 "outer\n";
    }
    location ~ \.txt$ { return 200 "top\n"; }
--- request
GET /n/x.txt
--- response_body
nested



=== TEST 8: named location via error_page
--- config
    location /t { error_page 404 = @fb; return 404; }
    location @fb { return 200 "fallback\n"; }
--- request
GET /t
--- response_body
fallback



=== TEST 9: internal location is 404 from outside
--- config
    location /i { internal; return 200 "no\n"; }
--- request
GET /i
--- error_code: 404



=== TEST 10: regex captures in location
--- config
    location ~ ^/cap/(\w+)/(\d+)$ { return 200 "$1-$2\n"; }
--- request
GET /cap/foo/42
--- response_body
foo-42
