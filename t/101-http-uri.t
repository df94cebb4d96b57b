# URI normalisation exactly as nginx: %XX, . and .., merge_slashes, $uri vs
# $request_uri, $args and $arg_NAME.
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: .. resolution
--- config
    location / { return 200 "$uri\n"; }
--- request
GET /aaa/../bbb
--- response_body
/bbb



=== TEST 2: .. above root is 400
--- config
    location / { return 200 "$uri\n"; }
--- request
GET /../a
--- error_code: 400



=== TEST 3: dot segments and merged slashes
--- config
    location / { return 200 "$uri\n"; }
--- request
GET //a/./b//c/.
--- response_body
/a/b/c/



=== TEST 4: percent decoding, encoded dots resolve
--- config
    location / { return 200 "$uri\n"; }
--- request
GET /a%20b/%2e%2e/c
--- response_body
/c



=== TEST 5: $request_uri keeps the raw form
--- config
    location / { return 200 "$request_uri $uri $args\n"; }
--- request
GET /x%41/../y?a=1&b=2
--- response_body
/x%41/../y?a=1&b=2 /y a=1&b=2



=== TEST 6: $arg_NAME
--- config
    location / { return 200 "[$arg_foo][$arg_bar][$arg_none]\n"; }
--- request
GET /t?foo=hello&bar=
--- response_body
[hello][][]



=== TEST 7: bad percent escape is 400
--- config
    location / { return 200 "$uri\n"; }
--- request
GET /a%zz
--- error_code: 400



=== TEST 8: merge_slashes off
--- config
    merge_slashes off;
    location / { return 200 "$uri\n"; }
--- request
GET //a//b
--- response_body
//a//b



=== TEST 9: trailing .. goes to parent
--- config
    location / { return 200 "$uri\n"; }
--- request
GET /a/b/..
--- response_body
/a/
