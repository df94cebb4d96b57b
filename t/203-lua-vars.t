# ngx.var.* and set_by_lua*.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: read built-in variables
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.var.uri, " ", ngx.var.args, " ", ngx.var.arg_a, " ", ngx.var.request_method)
            ngx.say(ngx.var.http_x_foo, " ", ngx.var.HTTP_X_FOO, " ", tostring(ngx.var.nonexistent_var))
        }
    }
--- request
GET /t?a=1
--- more_headers
X-Foo: bar
--- response_body
/t a=1 1 GET
bar bar nil



=== TEST 2: write a variable defined by set
--- config
    location /t {
        set $foo "";
        content_by_lua_block {
            ngx.var.foo = "hello"
            ngx.say(ngx.var.foo)
            ngx.var.foo = 32
            ngx.say(ngx.var.foo)
        }
    }
--- request
GET /t
--- response_body
hello
32



=== TEST 3: write an undefined variable
--- config
    location /t {
        content_by_lua_block {
            ngx.var.nope = "x"
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
variable "nope" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set $nope '';" in the config file to define it first



=== TEST 4: regex captures through ngx.var[N]
--- config
    location ~ ^/t/(\w+)/(\d+)$ {
        content_by_lua_block {
            ngx.say(ngx.var[1], " ", ngx.var[2], " ", tostring(ngx.var[3]))
        }
    }
--- request
GET /t/abc/42
--- response_body
abc 42 nil



=== TEST 5: set_by_lua_block
--- config
    location /t {
        set $a 21;
        set_by_lua_block $b { return tonumber(ngx.var.a) * 2 }
        content_by_lua_block {
            ngx.say(ngx.var.b)
        }
    }
--- request
GET /t
--- response_body
42



=== TEST 6: set_by_lua with arguments
--- config
    location /t {
        set_by_lua $sum 'return ngx.arg[1] + ngx.arg[2]' $arg_a $arg_b;
        content_by_lua_block {
            ngx.say(ngx.var.sum)
        }
    }
--- request
GET /t?a=3&b=4
--- response_body
7



=== TEST 7: set_by_lua value read by content_by_lua
--- config
    location /t {
        set_by_lua_block $v { return "from lua" }
        content_by_lua_block { ngx.say(ngx.var.v) }
    }
--- request
GET /t
--- response_body
from lua



=== TEST 8: ngx.sleep is disabled in set_by_lua
--- config
    location /t {
        set_by_lua_block $v { ngx.sleep(0.1) return 1 }
        content_by_lua_block { ngx.say(ngx.var.v) }
    }
--- request
GET /t
--- error_code: 500
--- error_log
API disabled in the context of set_by_lua*
