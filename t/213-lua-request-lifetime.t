# A request closed from inside one of its own Lua handler calls is never
# destroyed under the handler (http::holdRequest; see request_ctx.h).
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: error_page to a 444 location from ngx.exit in header_filter, inside ngx.say
--- config
    log_by_lua_block { ngx.log(ngx.NOTICE, "log phase: ", ngx.var.uri) }
    location /t {
        error_page 404 = /close;
        content_by_lua_block {
            ngx.say("first")
            ngx.log(ngx.NOTICE, "after first say")
            local ok, err = pcall(ngx.say, "second")
            ngx.log(ngx.NOTICE, "second say: ", ok, " ", err)
        }
        header_filter_by_lua_block {
            if ngx.var.uri == "/t" then ngx.exit(404) end
        }
    }
    location = /close { return 444; }
--- request
GET /t
--- error_code:
--- ignore_response
--- error_log
after first say
log phase: /close
second say: false request closed
--- no_error_log
[alert]
[crit]



=== TEST 2: the same from rewrite_by_lua, then the next request on a new connection works
--- config
    location /t {
        error_page 404 = /close;
        rewrite_by_lua_block {
            ngx.say("first")
            ngx.say("second")
        }
        header_filter_by_lua_block {
            if ngx.var.uri == "/t" then ngx.exit(404) end
        }
    }
    location = /close { return 444; }
    location = /ok { content_by_lua_block { ngx.say("ok") } }
--- request eval
["GET /t", "GET /ok"]
--- error_code eval
["", 200]
--- response_body eval
["", "ok\n"]
--- error_log
request closed
--- no_error_log
[alert]
[crit]
