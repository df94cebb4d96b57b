# allow / deny and satisfy (ngx_http_access_module, core's satisfy): first
# match wins, per address family; 403 with "access forbidden by rule".
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: deny all refuses with 403 and logs the rule
--- config
    location /t {
        deny all;
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- error_code: 403
--- error_log
access forbidden by rule



=== TEST 2: the first matching rule wins (allow before deny all)
--- config
    location /t {
        allow 127.0.0.1;
        deny all;
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 3: a CIDR deny before allow all
--- config
    location /t {
        deny 127.0.0.0/8;
        allow all;
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- error_code: 403
--- error_log
access forbidden by rule



=== TEST 4: rules that do not match fall through to the next
--- config
    location /t {
        allow 10.0.0.0/8;
        allow 192.168.1.7;
        deny all;
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- error_code: 403



=== TEST 5: no rule matches: access is allowed
--- config
    location /t {
        deny 10.1.2.0/24;
        deny 127.0.0.2;
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_body
ok



=== TEST 6: IPv6 rules do not apply to an IPv4 client
--- config
    location /t {
        deny ::/0;
        deny 2001:db8::/32;
        deny unix:;
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_body
ok



=== TEST 7: a location without rules inherits the server's; its own rules replace them
--- config
    deny all;
    location /open {
        allow 127.0.0.1;
        content_by_lua_block { ngx.say("open") }
    }
    location /closed {
        content_by_lua_block { ngx.say("closed") }
    }
--- pipelined_requests eval
["GET /open", "GET /closed"]
--- error_code eval
[200, 403]



=== TEST 8: rules from http{} reach every server
--- http_config
    deny 127.0.0.1;
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- error_code: 403



=== TEST 9: an invalid address fails the load
--- config
    location /t {
        allow 127.0.0.256;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "127\.0\.0\.256"/



=== TEST 10: a mask beyond 32 bits fails the load
--- config
    location /t {
        deny 127.0.0.1/33;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "127\.0\.0\.1\/33"/



=== TEST 11: satisfy any: one allowing module is enough
--- config
    location /t {
        satisfy any;
        deny 127.0.0.0/24;
        allow 127.0.0.1;
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- error_code: 403



=== TEST 12: satisfy any with an allow rule lets the request through
--- config
    location /t {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_body
ok



=== TEST 13: satisfy any and only a denial: 403, logged after the phase
--- config
    location /t {
        satisfy any;
        deny all;
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- error_code: 403
--- error_log
access forbidden by rule



=== TEST 14: satisfy takes only all or any
--- config
    location /t {
        satisfy some;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "some"/



=== TEST 15: allow/deny in limit_except
--- config
    location /t {
        limit_except GET {
            deny all;
        }
        content_by_lua_block { ngx.say("ok") }
    }
--- pipelined_requests eval
["GET /t", "POST /t"]
--- error_code eval
[200, 403]



=== TEST 16: access runs before content handlers, also for Lua
--- config
    location /t {
        deny all;
        content_by_lua_block { ngx.say("never") }
    }
--- request
GET /t
--- error_code: 403
--- response_body_like: 403 Forbidden



=== TEST 17: access_by_lua runs after allow/deny and can still refuse
--- config
    location /t {
        allow all;
        access_by_lua_block { ngx.exit(ngx.HTTP_FORBIDDEN) }
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- error_code: 403
--- no_error_log
access forbidden by rule



=== TEST 18: satisfy any: an allow rule skips access_by_lua
--- config
    location /t {
        satisfy any;
        allow 127.0.0.1;
        access_by_lua_block { ngx.exit(ngx.HTTP_FORBIDDEN) }
        content_by_lua_block { ngx.say("in") }
    }
--- request
GET /t
--- response_body
in
