# split_clients (ngx_http_split_clients_module): MurmurHash2 buckets, so
# keys land where nginx puts them (expected buckets computed with nginx's
# hash; the file passes against Debian nginx too).
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: 47 keys land in nginx's buckets
--- http_config
    split_clients "k$arg_k" $bucket {
        12.5%   a;
        25%     b;
        0.5%    c;
        *       rest;
    }
--- config
    location /t {
        return 200 "$bucket\n";
    }
--- pipelined_requests eval
["GET /t?k=user0", "GET /t?k=user1", "GET /t?k=user2", "GET /t?k=user3", "GET /t?k=user4", "GET /t?k=user5", "GET /t?k=user6", "GET /t?k=user7", "GET /t?k=user8", "GET /t?k=user9", "GET /t?k=user10", "GET /t?k=user11", "GET /t?k=user12", "GET /t?k=user13", "GET /t?k=user14", "GET /t?k=user15", "GET /t?k=user16", "GET /t?k=user17", "GET /t?k=user18", "GET /t?k=user19", "GET /t?k=user20", "GET /t?k=user21", "GET /t?k=user22", "GET /t?k=user23", "GET /t?k=user24", "GET /t?k=user25", "GET /t?k=user26", "GET /t?k=user27", "GET /t?k=user28", "GET /t?k=user29", "GET /t?k=user30", "GET /t?k=user31", "GET /t?k=user32", "GET /t?k=user33", "GET /t?k=user34", "GET /t?k=user35", "GET /t?k=user36", "GET /t?k=user37", "GET /t?k=user38", "GET /t?k=user39", "GET /t?k=", "GET /t?k=x", "GET /t?k=ab", "GET /t?k=abc", "GET /t?k=abcd", "GET /t?k=abcde", "GET /t?k=127.0.0.1AAA"]
--- response_body eval
["rest\n", "rest\n", "b\n", "rest\n", "rest\n", "rest\n", "rest\n", "b\n", "b\n", "rest\n", "a\n", "rest\n", "rest\n", "a\n", "rest\n", "rest\n", "rest\n", "rest\n", "b\n", "rest\n", "c\n", "rest\n", "rest\n", "rest\n", "rest\n", "rest\n", "rest\n", "rest\n", "a\n", "rest\n", "b\n", "rest\n", "rest\n", "rest\n", "rest\n", "a\n", "b\n", "rest\n", "a\n", "rest\n", "rest\n", "rest\n", "b\n", "rest\n", "rest\n", "b\n", "rest\n"]



=== TEST 2: without "*" keys beyond the total get an empty value
--- http_config
    split_clients "$arg_k" $b {
        50%  half;
    }
--- config
    location /t {
        return 200 "[$b]\n";
    }
--- pipelined_requests eval
["GET /t?k=user1", "GET /t?k=user2", "GET /t?k=user3", "GET /t?k=user4", "GET /t?k=user5", "GET /t?k=user6"]
--- response_body eval
["[half]\n", "[half]\n", "[]\n", "[half]\n", "[]\n", "[]\n"]



=== TEST 3: the value is the same for every read in a request
--- http_config
    split_clients "$remote_port$msec" $b {
        50%  x;
        *    y;
    }
--- config
    location /t {
        return 200 "$b$b$b\n";
    }
--- request
GET /t
--- response_body_like: ^(xxx|yyy)$



=== TEST 4: percents above 100 fail the load
--- http_config
    split_clients "$arg_k" $b {
        60%  x;
        50%  y;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*percent total is greater than 100%/



=== TEST 5: a percent needs the % sign and at most two decimals
--- http_config
    split_clients "$arg_k" $b {
        10.125%  x;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid percent value "10\.125%"/



=== TEST 6: zero percent is invalid
--- http_config
    split_clients "$arg_k" $b {
        0%  x;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid percent value "0%"/
