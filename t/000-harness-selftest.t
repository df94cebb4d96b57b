# Self-test of the Test::Nginx-format harness (t/lib/Test/Nginx/Socket.pm).
# Uses only nginx core directives (no Lua), so it runs against both Debian's
# nginx and Lunet's HTTP server.
use Test::Nginx::Socket 'no_plan';

# --- direct checks of the HTTP response parser (no server needed) ---------
{
    my @r = Test::Nginx::Socket::parse_responses(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nX-A: 2\r\n\r\n"
        . "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n"
        . "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc"
        . "HTTP/1.0 200 OK\r\n\r\nclose-delimited",
        ['GET', 'GET', 'GET'], 1);
    is(scalar @r, 3, 'parser: three pipelined responses');
    is($r[0]{body}, 'hello, world', 'parser: chunked body decoded');
    ok($r[0]{complete}, 'parser: chunked response complete');
    is($r[0]{header_map}{'x-a'}, '1, 2', 'parser: repeated headers joined');
    is($r[1]{code}, 404, 'parser: second status');
    is($r[1]{body}, 'abc', 'parser: content-length body');
    is($r[2]{body}, 'close-delimited', 'parser: close-delimited body');
    my @h = Test::Nginx::Socket::parse_responses(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
        ['HEAD'], 1);
    is($h[0]{code}, 200, 'parser: 1xx skipped');
    is($h[0]{body}, '', 'parser: HEAD has no body');
    my @p = Test::Nginx::Socket::parse_responses(
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", ['GET'], 0);
    ok(!$p[0]{complete}, 'parser: short body is incomplete');
    my ($req) = Test::Nginx::Socket::build_request("POST /p?a=1\nhello\n", "X-Foo: bar", 'close');
    is($req, "POST /p?a=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
             . "X-Foo: bar\r\nContent-Length: 5\r\n\r\nhello", 'request builder');
}

# blocks without a request get "GET /t" (exercises add_block_preprocessor)
add_block_preprocessor(sub {
    my $block = shift;
    if (!defined $block->request && !defined $block->raw_request
        && !defined $block->pipelined_requests)
    {
        $block->set_value('request', 'GET /t');
    }
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: plain request and body
--- config
    location = /t {
        return 200 "hello\n";
    }
--- response_body
hello
--- no_error_log
[error]



=== TEST 2: more_headers reach the server
--- config
    location = /t {
        return 200 "foo=$http_x_foo bar=$http_x_bar\n";
    }
--- more_headers
X-Foo: foo value
X-Bar: 42
--- response_body
foo=foo value bar=42



=== TEST 3: request body gets a Content-Length
--- config
    location = /t {
        return 200 "$request_method $content_length\n";
    }
--- request
POST /t
hello world
--- response_body
POST 11



=== TEST 4: pipelined requests on one connection
--- config
    location = /a { return 200 "a\n"; }
    location = /b { return 201 "b\n"; }
--- pipelined_requests eval
["GET /a", "GET /b", "GET /a"]
--- error_code eval
[200, 201, 200]
--- response_body eval
["a\n", "b\n", "a\n"]



=== TEST 5: an eval array of requests (one connection each)
--- config
    location = /a { return 200 "a\n"; }
    location = /b { return 404; }
--- request eval
["GET /a", "GET /b"]
--- error_code eval
[200, 404]
--- response_body_like eval
[qr/^a$/, qr/404 Not Found/]



=== TEST 6: raw_request
--- config
    location = /t {
        return 200 "raw $server_protocol\n";
    }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
raw HTTP/1.0



=== TEST 7: raw_request sent in pieces
--- config
    location = /t {
        return 200 "pieces\n";
    }
--- raw_request eval
["GET /t HT", "TP/1.1\r\nHost: localhost\r\n", "Connection: close\r\n\r\n"]
--- raw_request_middle_delay: 0.01
--- response_body
pieces



=== TEST 8: response_headers, absent header, headers_like
--- config
    location = /t {
        default_type text/html;
        return 200 "hello";
    }
--- response_headers
Content-Type: text/html
Content-Length: 5
!X-Not-There
--- response_headers_like
Content-Type: text/ht.*
--- raw_response_headers_like: ^HTTP/1\.1 200 OK\r\n
--- response_body chomp
hello



=== TEST 9: error_code
--- config
    location = /t {
        return 403;
    }
--- error_code: 403
--- response_body_like: 403 Forbidden



=== TEST 10: eval filter on response_body, chomp filter
--- config
    location = /t {
        return 200 "aaaaaaaaaa\n";
    }
--- response_body eval
"a" x 10 . "\n"



=== TEST 11: $TEST_NGINX_* variables are substituted into the config
--- config
    location = /t {
        return 200 "$TEST_NGINX_SERVER_PORT $TEST_NGINX_HTML_DIR\n";
    }
--- response_body eval
"$ENV{TEST_NGINX_SERVER_PORT} $ENV{TEST_NGINX_HTML_DIR}\n"



=== TEST 12: user_files, with a subdirectory
--- user_files
>>> foo.html
<p>foo</p>
>>> sub/bar.txt
bar
--- request eval
["GET /foo.html", "GET /sub/bar.txt"]
--- response_body eval
["<p>foo</p>\n", "bar\n"]



=== TEST 13: user_files from the previous block are gone
--- request
GET /foo.html
--- error_code: 404



=== TEST 14: error_log and no_error_log, plain lines
--- request
GET /missing.html
--- error_code: 404
--- error_log
No such file or directory
missing.html
--- no_error_log
[alert]
[emerg]



=== TEST 15: error_log with eval'd regexes
--- request
GET /missing2.html
--- error_code: 404
--- error_log eval
[qr/open\(\) "\Q$ENV{TEST_NGINX_HTML_DIR}\E\/missing2\.html" failed/, qr/\(2: No such file or directory\)/]
--- no_error_log eval
[qr/missing\.html/]



=== TEST 16: grep_error_log
--- request eval
["GET /x1.html", "GET /x2.html", "GET /x1.html"]
--- error_code eval
[404, 404, 404]
--- grep_error_log eval: qr/x\d\.html(?=" failed)/
--- grep_error_log_out
x1.html
x2.html
x1.html



=== TEST 17: grep_error_log with a plain string
--- request
GET /nothing.html
--- error_code: 404
--- grep_error_log chop
No such file or directory
--- grep_error_log_out
No such file or directory



=== TEST 18: log_level section
--- log_level: warn
--- request
GET /missing3.html
--- error_code: 404
--- error_log
No such file or directory
--- no_error_log
[debug]
[info]



=== TEST 19: timeout + abort: the server never sees the end of the header
--- config
    location = /t {
        return 200 "never\n";
    }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\n"
--- timeout: 0.2
--- abort
--- ignore_response
--- no_error_log
[alert]



=== TEST 20: SKIP removes a block (this would fail)
--- SKIP
--- config
    location = /t { return 200 "x"; }
--- response_body
not x



=== TEST 21: HEAD request has no body
--- config
    location = /t {
        return 200 "hello\n";
    }
--- request
HEAD /t
--- response_headers
Content-Length: 6
--- response_body



=== TEST 22: wait section
--- config
    location = /t {
        return 200 "ok\n";
    }
--- wait: 0.01
--- response_body
ok



=== TEST 23: empty error_code: the server sends no response at all
--- config
    location = /t {
        return 444;
    }
--- error_code:
--- response_body:
