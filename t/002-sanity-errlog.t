# Sanity: what lands in the error log, and that each block sees only its own
# lines.  nginx core directives only.
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a missing file logs open() failed (2: No such file or directory)
--- request
GET /missing.html
--- error_code: 404
--- error_log eval
qr{\[error\] .*open\(\) "\Q$ENV{TEST_NGINX_HTML_DIR}\E/missing\.html" failed \(2: No such file or directory\)}
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 2: the previous block's lines are not visible here
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
missing.html
[error]



=== TEST 3: the error line names client, server, request and host
--- request
GET /missing.html?x=1
--- error_code: 404
--- error_log
client: 127.0.0.1, server: localhost, request: "GET /missing.html?x=1 HTTP/1.1", host: "localhost"



=== TEST 4: grep_error_log collects every match of this block
--- request eval
["GET /a.html", "GET /b.html", "GET /a.html"]
--- error_code eval
[404, 404, 404]
--- grep_error_log eval: qr/\/[ab]\.html(?=" failed)/
--- grep_error_log_out
/a.html
/b.html
/a.html



=== TEST 5: log_level error hides notice/info/debug lines
--- log_level: error
--- request
GET /missing.html
--- error_code: 404
--- error_log
No such file or directory
--- no_error_log
[debug]
[info]
[notice]



=== TEST 6: error_log directive at debug level produces debug lines
--- log_level: debug
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- error_log
[debug]
