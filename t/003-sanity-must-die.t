# Sanity: a bad configuration makes the server refuse to start, and says why.
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: unknown directive in a server block
--- config
    foo;
--- must_die
--- error_log
unknown directive "foo"



=== TEST 2: unknown directive in the main context
--- main_config
bar baz;
--- must_die
--- error_log
unknown directive "bar"



=== TEST 3: unknown directive in the http block
--- http_config
    no_such_http_thing on;
--- must_die
--- error_log eval
qr/\[emerg\].*unknown directive "no_such_http_thing"/



=== TEST 4: a directive not terminated by ";"
--- main_config
worker_processes 2
--- must_die
--- error_log
directive "worker_processes" is not terminated by ";"



=== TEST 5: a good config after bad ones starts normally
--- config
    location = /t {
        return 200 "alive\n";
    }
--- request
GET /t
--- response_body
alive
