# realip (ngx_http_realip_module): set_real_ip_from, real_ip_header,
# real_ip_recursive, $realip_remote_addr / $realip_remote_port.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: X-Real-IP from a trusted address replaces $remote_addr
--- config
    location /t {
        set_real_ip_from 127.0.0.1;
        content_by_lua_block { ngx.say(ngx.var.remote_addr, " ", ngx.var.realip_remote_addr) }
    }
--- request
GET /t
--- more_headers
X-Real-IP: 192.0.2.7
--- response_body
192.0.2.7 127.0.0.1



=== TEST 2: an untrusted client's header is ignored
--- config
    location /t {
        set_real_ip_from 10.0.0.0/8;
        content_by_lua_block { ngx.say(ngx.var.remote_addr, " ", ngx.var.realip_remote_addr) }
    }
--- request
GET /t
--- more_headers
X-Real-IP: 192.0.2.7
--- response_body
127.0.0.1 127.0.0.1



=== TEST 3: X-Forwarded-For takes the last address
--- config
    location /t {
        set_real_ip_from 127.0.0.0/8;
        real_ip_header X-Forwarded-For;
        content_by_lua_block { ngx.say(ngx.var.remote_addr) }
    }
--- request
GET /t
--- more_headers
X-Forwarded-For: 203.0.113.9, 10.1.1.1
--- response_body
10.1.1.1



=== TEST 4: real_ip_recursive skips trusted addresses from the right
--- config
    location /t {
        set_real_ip_from 127.0.0.0/8;
        set_real_ip_from 10.0.0.0/8;
        real_ip_header X-Forwarded-For;
        real_ip_recursive on;
        content_by_lua_block { ngx.say(ngx.var.remote_addr) }
    }
--- request
GET /t
--- more_headers
X-Forwarded-For: 203.0.113.9, 10.1.1.1, 10.2.2.2
--- response_body
203.0.113.9



=== TEST 5: a custom header, IPv6
--- config
    location /t {
        set_real_ip_from 127.0.0.1;
        real_ip_header CF-Connecting-IP;
        content_by_lua_block { ngx.say(ngx.var.remote_addr) }
    }
--- request
GET /t
--- more_headers
CF-Connecting-IP: 2001:db8::5
--- response_body
2001:db8::5



=== TEST 6: an unparsable address leaves the client as it is
--- config
    location /t {
        set_real_ip_from 127.0.0.1;
        content_by_lua_block { ngx.say(ngx.var.remote_addr) }
    }
--- request
GET /t
--- more_headers
X-Real-IP: not-an-ip
--- response_body
127.0.0.1



=== TEST 7: access rules see the real address
--- config
    location /t {
        set_real_ip_from 127.0.0.1;
        deny 192.0.2.0/24;
        allow all;
        content_by_lua_block { ngx.say("in") }
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers
X-Real-IP: 192.0.2.7
--- error_code eval
[403, 403]
--- error_log eval
qr/access forbidden by rule, client: 192\.0\.2\.7/



=== TEST 8: the next request on the connection starts from the connection's address
--- config
    location /real {
        set_real_ip_from 127.0.0.1;
        content_by_lua_block { ngx.say(ngx.var.remote_addr) }
    }
    location /plain {
        content_by_lua_block { ngx.say(ngx.var.remote_addr) }
    }
--- pipelined_requests eval
["GET /real", "GET /plain"]
--- more_headers
X-Real-IP: 192.0.2.7
--- response_body eval
["192.0.2.7\n", "127.0.0.1\n"]



=== TEST 9: server-level settings apply from the start (geo sees them)
--- http_config
    geo $g {
        default      other;
        192.0.2.0/24 doc;
    }
--- config
    set_real_ip_from 127.0.0.1;
    location /t {
        content_by_lua_block { ngx.say(ngx.var.g, " ", ngx.var.remote_addr) }
    }
--- request
GET /t
--- more_headers
X-Real-IP: 192.0.2.9
--- response_body
doc 192.0.2.9



=== TEST 10: $realip_remote_port is the connection's port
--- config
    location /t {
        set_real_ip_from 127.0.0.1;
        content_by_lua_block { ngx.say(ngx.var.realip_remote_port, " ", ngx.var.remote_port) }
    }
--- request
GET /t
--- more_headers
X-Real-IP: 192.0.2.7
--- response_body_like: ^\d+ \n$
