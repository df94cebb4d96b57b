# ngx.say / ngx.print / ngx.flush / ngx.eof / ngx.exit / ngx.status /
# ngx.redirect / ngx.exec / ngx.send_headers / ngx.headers_sent
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: ngx.say and ngx.print with scalars and nested tables
--- config
    location /t {
        content_by_lua_block {
            ngx.say("hello", " ", 1, " ", 2.5, " ", true, " ", false, " ", nil, " ", ngx.null)
            ngx.print({"a", {"b", {"c"}}, 3}, "\n")
            ngx.say()
        }
    }
--- request
GET /t
--- response_body eval
"hello 1 2.5 true false nil null\nabc3\n\n"


=== TEST 2: ngx.say rejects hash tables
--- config
    location /t {
        content_by_lua_block {
            ngx.say({a = 1})
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
bad argument #1 to 'say' (non-array table found)



=== TEST 3: ngx.say returns 1
--- config
    location /t {
        content_by_lua_block {
            local ok = ngx.say("x")
            ngx.say(ok)
        }
    }
--- request
GET /t
--- response_body
x
1



=== TEST 4: ngx.exit with an error status
--- config
    location /t {
        content_by_lua_block {
            ngx.exit(403)
            ngx.say("not reached")
        }
    }
--- request
GET /t
--- error_code: 403
--- response_body_like: 403 Forbidden



=== TEST 5: ngx.exit(ngx.OK) after output ends the response
--- config
    location /t {
        content_by_lua_block {
            ngx.say("before")
            ngx.exit(ngx.OK)
            ngx.say("after")
        }
    }
--- request
GET /t
--- response_body
before



=== TEST 6: ngx.status
--- config
    location /t {
        content_by_lua_block {
            ngx.status = 201
            ngx.say(ngx.status)
        }
    }
--- request
GET /t
--- error_code: 201
--- response_body
201



=== TEST 7: setting ngx.status after the headers were sent logs an error
--- config
    location /t {
        content_by_lua_block {
            ngx.say("x")
            ngx.status = 404
        }
    }
--- request
GET /t
--- response_body
x
--- error_log
attempt to set ngx.status after sending out response headers



=== TEST 8: ngx.redirect
--- config
    location /t {
        content_by_lua_block {
            ngx.redirect("/foo?a=1", 301)
        }
    }
--- request
GET /t
--- error_code: 301
--- response_headers_like
Location: .*/foo\?a=1$



=== TEST 9: ngx.redirect defaults to 302
--- config
    location /t {
        content_by_lua_block {
            return ngx.redirect("http://example.com/")
        }
    }
--- request
GET /t
--- error_code: 302
--- response_headers
Location: http://example.com/



=== TEST 10: ngx.redirect with a bad status
--- config
    location /t {
        content_by_lua_block {
            ngx.redirect("/foo", 200)
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, ngx.HTTP_PERMANENT_REDIRECT, ngx.HTTP_SEE_OTHER, and ngx.HTTP_TEMPORARY_REDIRECT are allowed



=== TEST 11: ngx.exec to a location with args
--- config
    location /t {
        content_by_lua_block {
            ngx.exec("/target", {a = "b c"})
        }
    }
    location /target {
        content_by_lua_block {
            ngx.say("target: ", ngx.var.uri, " ", ngx.var.args, " ", ngx.req.is_internal())
        }
    }
--- request
GET /t
--- response_body
target: /target a=b%20c true



=== TEST 12: ngx.exec with the args in the uri, from rewrite_by_lua
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.exec("/target?x=1")
        }
        content_by_lua_block { ngx.say("no") }
    }
    location /target {
        content_by_lua_block {
            ngx.say("args: ", ngx.var.args)
        }
    }
--- request
GET /t
--- response_body
args: x=1



=== TEST 13: ngx.exec to a named location
--- config
    location /t {
        content_by_lua_block {
            ngx.exec("@named")
        }
    }
    location @named {
        content_by_lua_block {
            ngx.say("named")
        }
    }
--- request
GET /t
--- response_body
named



=== TEST 14: ngx.send_headers and ngx.headers_sent
--- config
    location /t {
        content_by_lua_block {
            local before = ngx.headers_sent
            ngx.send_headers()
            ngx.say(before, " ", ngx.headers_sent)
        }
    }
--- request
GET /t
--- response_body
false true



=== TEST 15: ngx.flush and ngx.flush(true)
--- config
    location /t {
        content_by_lua_block {
            ngx.say("a")
            ngx.flush()
            ngx.say("b")
            ngx.flush(true)
            ngx.say("c")
        }
    }
--- request
GET /t
--- response_body
a
b
c



=== TEST 16: ngx.eof ends the response, later output is refused
--- config
    location /t {
        content_by_lua_block {
            ngx.say("a")
            ngx.eof()
            local ok, err = ngx.say("b")
            ngx.log(ngx.WARN, "say after eof: ", ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
a
--- error_log
say after eof: nil seen eof



=== TEST 17: empty content handler gives an empty 200
--- config
    location /t {
        content_by_lua_block { }
    }
--- request
GET /t
--- response_body:



=== TEST 18: output from rewrite_by_lua ends the request
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.say("from rewrite")
            ngx.exit(200)
        }
        content_by_lua_block { ngx.say("content") }
    }
--- request
GET /t
--- response_body
from rewrite



=== TEST 19: ngx.exit(ngx.OK) in access_by_lua continues to content
--- config
    location /t {
        access_by_lua_block {
            ngx.exit(ngx.OK)
        }
        content_by_lua_block { ngx.say("content") }
    }
--- request
GET /t
--- response_body
content



=== TEST 20: HEAD request gets no body
--- config
    location /t {
        content_by_lua_block { ngx.say("body") }
    }
--- request
HEAD /t
--- response_body
