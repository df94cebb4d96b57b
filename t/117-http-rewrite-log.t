# rewrite_log and uninitialized_variable_warn (rewrite module).
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: rewrite_log on logs the regex test and the rewritten URI
--- config
    rewrite_log on;
    location /old {
        rewrite ^/old(.*)$ /new$1?a=1 last;
    }
    location /new { return 200 "$uri $args"; }
--- request
GET /old/x?b=2
--- response_body chomp
/new/x a=1&b=2
--- error_log
"^/old(.*)$" matches "/old/x"
rewritten data: "/new/x", args: "a=1&b=2"



=== TEST 2: a regex that does not match, and a redirect
--- config
    rewrite_log on;
    location /r {
        rewrite ^/nomatch /elsewhere;
        rewrite ^/r/(.*)$ http://example.com/$1 redirect;
    }
--- request
GET /r/y
--- error_code: 302
--- response_headers
Location: http://example.com/y
--- error_log
"^/nomatch" does not match "/r/y"
rewritten redirect: "http://example.com/y"



=== TEST 3: rewrite_log applies to regex conditions of if
--- config
    location /if {
        rewrite_log on;
        if ($arg_q ~ ^ab) { return 200 "yes"; }
        return 200 "no";
    }
--- request
GET /if?q=xyz
--- response_body chomp
no
--- error_log
"^ab" does not match "xyz"



=== TEST 4: rewrite_log is off by default (below debug level)
--- log_level: notice
--- config
    location /old {
        rewrite ^/old(.*)$ /new$1 last;
    }
    location /new { return 200 "$uri"; }
--- request
GET /old/x
--- response_body chomp
/new/x
--- no_error_log
matches
rewritten data



=== TEST 5: a set variable read before it is set warns
--- config
    location /t { return 200 "[$foo]"; }
    location /s { set $foo 1; return 200 "$foo"; }
--- request
GET /t
--- response_body chomp
[]
--- error_log
using uninitialized "foo" variable



=== TEST 6: uninitialized_variable_warn off
--- config
    uninitialized_variable_warn off;
    location /t { return 200 "[$foo]"; }
    location /s { set $foo 1; return 200 "$foo"; }
--- request
GET /t
--- response_body chomp
[]
--- no_error_log
using uninitialized



=== TEST 7: no warning once the variable is set
--- config
    location /s { set $foo 1; return 200 "$foo"; }
--- request
GET /s
--- response_body chomp
1
--- no_error_log
using uninitialized



=== TEST 8: a variable no set defines is still unknown
--- config
    location /t { return 200 "[$nosuchvar]"; }
--- must_die
--- error_log
unknown "nosuchvar" variable
