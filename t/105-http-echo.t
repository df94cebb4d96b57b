# echo directives and subrequests.
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: echo and echo -n
--- config
    location /e { echo hello world; echo -n a; echo b; }
--- request
GET /e
--- response_body
hello world
ab



=== TEST 2: echo_sleep and echo_flush
--- config
    location /s { echo a; echo_flush; echo_sleep 0.1; echo b; }
--- request
GET /s
--- response_body
a
b



=== TEST 3: echo_location in order
--- config
    location /main { echo start; echo_location /sub1; echo_location /sub2 x=2; echo end; }
    location /sub1 { echo one; }
    location /sub2 { echo "two $arg_x"; }
--- request
GET /main
--- response_body
start
one
two 2
end



=== TEST 4: echo_location_async keeps order
--- config
    location /main { echo_location_async /a; echo_location_async /b; echo end; }
    location /a { echo_sleep 0.1; echo a; }
    location /b { echo b; }
--- request
GET /main
--- response_body
a
b
end



=== TEST 5: echo_before_body / echo_after_body
--- config
    location /f { echo_before_body before; echo body; echo_after_body after; }
--- request
GET /f
--- response_body
before
body
after



=== TEST 6: echo_duplicate
--- config
    location /d { echo_duplicate 3 ab; }
--- request
GET /d
--- response_body chomp
ababab



=== TEST 7: echo_exec
--- config
    location /x { echo_exec /y a=1; }
    location /y { echo "y $arg_a"; }
--- request
GET /x
--- response_body
y 1



=== TEST 8: echo_status
--- config
    location /st { echo_status 404; echo hi; }
--- request
GET /st
--- error_code: 404
--- response_body
hi



=== TEST 9: echo_read_request_body and echo_request_body
--- config
    location /b { echo_read_request_body; echo_request_body; }
--- request
POST /b
hello body
--- response_body chomp
hello body



=== TEST 10: stub_status
--- config
    location /st { stub_status; }
--- request
GET /st
--- response_body_like: Active connections: \d+
