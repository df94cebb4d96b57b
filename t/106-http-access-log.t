# access_log / log_format, variables.
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: custom log format line
--- http_config
    log_format t '$request_method $uri $status $body_bytes_sent $args';
--- config
    location /l { access_log logs/t.log t; return 200 "ok\n"; }
    location /read { return 200 "read\n"; }
--- request
GET /l?x=1
--- response_body
ok



=== TEST 2: variables
--- config
    location /v { return 200 "$request_method|$scheme|$server_name|$host|$request|$content_length|$nginx_version\n"; }
--- request
GET /v
--- response_body
GET|http|localhost|localhost|GET /v HTTP/1.1||1.27.0



=== TEST 3: $http_ and $cookie_
--- config
    location /h { return 200 "$http_x_foo|$cookie_a|$cookie_b\n"; }
--- request
GET /h
--- more_headers
X-Foo: bar
Cookie: a=1; b=2
--- response_body
bar|1|2



=== TEST 4: access_log off is accepted
--- config
    location /o { access_log off; return 204; }
--- request
GET /o
--- error_code: 204



=== TEST 5: unknown directive fails loudly
--- config
    location /u { no_such_directive on; }
--- request
GET /u
--- must_die
--- error_log
unknown directive "no_such_directive"
