# Built-in response headers set from Lua behave as in nginx: Content-Length,
# Connection, Transfer-Encoding, clearing Content-Type, a Location without a
# host, and Last-Modified answering 304 to a matching If-Modified-Since.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: Content-Length set from Lua: no chunked encoding
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_length = 6
            ngx.say("hello")
        }
    }
--- request
GET /t
--- response_headers
Content-Length: 6
!Transfer-Encoding
--- response_body
hello



=== TEST 2: Content-Length read back as a string
--- config
    location /t {
        content_by_lua_block {
            ngx.header["Content-Length"] = 3
            local v = ngx.header["Content-Length"]
            ngx.header.content_length = nil
            ngx.say(type(v), " ", v, " ", tostring(ngx.header["Content-Length"]))
        }
    }
--- request
GET /t
--- response_body
string 3 nil



=== TEST 3: Connection set from Lua
--- config
    location /t {
        content_by_lua_block {
            ngx.header["Connection"] = "keep-alive"
            ngx.say(tostring(ngx.header["Connection"]))
        }
    }
--- request
GET /t
--- response_headers
Connection: close, keep-alive
--- response_body
keep-alive



=== TEST 4: Transfer-Encoding set from Lua
--- config
    location /t {
        content_by_lua_block {
            ngx.header["Transfer-Encoding"] = "gzip"
            ngx.say(tostring(ngx.header["Transfer-Encoding"]))
        }
    }
--- request
GET /t
--- response_headers
Transfer-Encoding: chunked, gzip
--- response_body
gzip



=== TEST 5: clearing Content-Type adds no default
--- config
    location /t {
        default_type text/html;
        content_by_lua_block {
            ngx.header.content_type = nil
            ngx.say("hi")
        }
    }
--- request
GET /t
--- response_headers
!Content-Type
--- response_body
hi



=== TEST 6: Content-Type set to an empty string is dropped too
--- config
    location /t {
        content_by_lua_block {
            ngx.header["Content-Type"] = ""
            ngx.say("hi")
        }
    }
--- request
GET /t
--- response_headers
!Content-Type
--- response_body
hi



=== TEST 7: Location without a host
--- config
    location /t {
        content_by_lua_block {
            ngx.header.Location = "/foo/bar"
            ngx.status = 301
            ngx.say(ngx.header.Location)
        }
    }
--- request
GET /t
--- error_code: 301
--- response_headers
Location: /foo/bar
--- response_body
/foo/bar



=== TEST 8: Location without a host, with ngx.exit
--- config
    location /t {
        content_by_lua_block {
            ngx.header.Location = "/foo"
            ngx.exit(302)
        }
    }
--- request
GET /t
--- error_code: 302
--- response_headers
Location: /foo



=== TEST 9: Last-Modified from Lua answers 304 to a matching If-Modified-Since
--- config
    location /t {
        content_by_lua_block {
            ngx.header.last_modified = "Thu, 18 Nov 2010 11:27:35 GMT"
            ngx.say("body")
        }
    }
--- request
GET /t
--- more_headers
If-Modified-Since: Thu, 18 Nov 2010 11:27:35 GMT
--- error_code: 304
--- response_headers
Last-Modified: Thu, 18 Nov 2010 11:27:35 GMT
--- response_body



=== TEST 10: Last-Modified from Lua, older If-Modified-Since: 200
--- config
    location /t {
        content_by_lua_block {
            ngx.header["Last-Modified"] = ngx.http_time(1290079655)
            ngx.say("body")
        }
    }
--- request
GET /t
--- more_headers
If-Modified-Since: Thu, 18 Nov 2010 11:27:34 GMT
--- response_headers
Last-Modified: Thu, 18 Nov 2010 11:27:35 GMT
--- response_body
body



=== TEST 11: a Content-Length that is not a number: 500
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_length = "abc"
            ngx.say("hello")
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
failed to set header



=== TEST 12: ngx.redirect to a uri without a host sends it as given
--- config
    location /t {
        content_by_lua_block {
            ngx.redirect("/foo?a=1")
        }
    }
--- request
GET /t
--- error_code: 302
--- response_headers_like
Location: /foo\?a=1



=== TEST 13: Last-Modified from Lua and If-Unmodified-Since older: 412
--- config
    location /t {
        content_by_lua_block {
            ngx.header.last_modified = "Thu, 18 Nov 2010 11:27:35 GMT"
            ngx.say("body")
        }
    }
--- request
GET /t
--- more_headers
If-Unmodified-Since: Thu, 18 Nov 2010 11:27:34 GMT
--- error_code: 412
--- response_body_like: 412 Precondition Failed



=== TEST 14: Last-Modified cleared from Lua: no 304
--- config
    location /t {
        content_by_lua_block {
            ngx.header.last_modified = "Thu, 18 Nov 2010 11:27:35 GMT"
            ngx.header.last_modified = nil
            ngx.say("body")
        }
    }
--- request
GET /t
--- more_headers
If-Modified-Since: Thu, 18 Nov 2010 11:27:35 GMT
--- response_headers
!Last-Modified
--- response_body
body



=== TEST 15: ETag from Lua answers 304 to a matching If-None-Match
--- config
    location /t {
        content_by_lua_block {
            ngx.header.ETag = '"abc"'
            ngx.say("body")
        }
    }
--- request
GET /t
--- more_headers
If-None-Match: "abc"
--- error_code: 304
--- response_body



=== TEST 16: If-Unmodified-Since without Last-Modified: 412 as nginx
--- config
    location /t {
        content_by_lua_block {
            ngx.say("body")
        }
    }
--- request
GET /t
--- more_headers
If-Unmodified-Since: Thu, 18 Nov 2010 11:27:34 GMT
--- error_code: 412
--- response_body_like: 412 Precondition Failed



=== TEST 17: a static file's 304 keeps Last-Modified
--- config
    location /s { root html; }
--- user_files
>>> s.txt 20101118112735
data
--- request
GET /s.txt
--- more_headers
If-Modified-Since: Thu, 18 Nov 2010 11:27:35 GMT
--- error_code: 304
--- response_headers
Last-Modified: Thu, 18 Nov 2010 11:27:35 GMT
--- response_body
