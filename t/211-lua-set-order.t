# set_by_lua* is an op of the rewrite module's script, as in nginx: it runs
# in config order among set, rewrite, return and if.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: set_by_lua sees an earlier set, a later set sees its result
--- config
    location /t {
        set $a 1;
        set_by_lua_block $b { return ngx.var.a .. "+lua" }
        set $a 2;
        set $c "$b/$a";
        return 200 "$a $b $c\n";
    }
--- request
GET /t
--- response_body
2 1+lua 1+lua/2



=== TEST 2: set_by_lua after return does not run
--- config
    location /t {
        set_by_lua_block $x { ngx.log(ngx.ERR, "first set_by_lua") return 1 }
        return 200 "x=$x\n";
        set_by_lua_block $y { ngx.log(ngx.ERR, "second set_by_lua") return 2 }
    }
--- request
GET /t
--- response_body
x=1
--- error_log
first set_by_lua
--- no_error_log
second set_by_lua



=== TEST 3: set_by_lua inside if, interleaved with rewrite
--- config
    location /t {
        set $v start;
        if ($arg_x) {
            set_by_lua_block $v { return ngx.var.v .. "-if" }
            set $w "$v!";
        }
        rewrite ^/t$ /u;
        set_by_lua_block $u { return ngx.var.uri }
        return 200 "$v $w $u\n";
    }
--- request
GET /t?x=1
--- response_body
start-if start-if! /u



=== TEST 4: server-level set_by_lua runs in server rewrite, in order
--- config
    set $s 1;
    set_by_lua_block $s2 { return ngx.var.s * 10 }
    set $s 3;
    location /t {
        return 200 "$s $s2\n";
    }
--- request
GET /t
--- response_body
3 10



=== TEST 5: set_by_lua error: 500 and the rest of the script does not run
--- config
    location /t {
        set_by_lua_block $x { error("boom") }
        set_by_lua_block $y { ngx.log(ngx.ERR, "after error") return 1 }
        return 200 "x=$x\n";
    }
--- request
GET /t
--- error_code: 500
--- error_log
failed to run set_by_lua*
boom
--- no_error_log
after error
