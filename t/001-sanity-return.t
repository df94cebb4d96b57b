# Sanity: the "return" directive, redirects and the default 404 for a
# missing static file.  nginx core directives only.
use Test::Nginx::Socket;

repeat_each(2);
plan tests => repeat_each() * (blocks() * 2 + 3);

run_tests();

__DATA__

=== TEST 1: return 200 with a text
--- config
    location = /t {
        return 200 "hello";
    }
--- request
GET /t
--- response_body chomp
hello



=== TEST 2: return 404 uses the default error page
--- config
    location = /t {
        return 404;
    }
--- request
GET /t
--- error_code: 404
--- response_body_like: 404 Not Found



=== TEST 3: return 302 with a relative URI makes an absolute Location
--- config
    location = /t {
        return 302 /x;
    }
--- request
GET /t
--- error_code: 302
--- response_headers
Location: http://localhost:$TEST_NGINX_SERVER_PORT/x



=== TEST 4: missing static file gives the default 404
--- request
GET /no-such-file.html
--- error_code: 404
--- response_body_like: <center><h1>404 Not Found</h1></center>



=== TEST 5: static file and index from html/
--- user_files
>>> index.html
<h1>index</h1>
--- request
GET /
--- response_headers
Content-Type: text/html
Content-Length: 15
--- response_body
<h1>index</h1>



=== TEST 6: return with a variable, default_type text/plain
--- config
    location = /t {
        return 200 "uri=$uri args=$args\n";
    }
--- request
GET /t?a=1&b=2
--- response_headers
Content-Type: text/plain
--- response_body
uri=/t args=a=1&b=2
