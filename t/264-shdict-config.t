# lua_shared_dict configuration errors, in nginx + lua module's words.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a name declared twice
--- http_config
    lua_shared_dict dogs 1m;
    lua_shared_dict dogs 1m;
--- config
    location /t { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*lua_shared_dict "dogs" is already defined as "dogs"/



=== TEST 2: 8191 bytes is too small
--- http_config
    lua_shared_dict dogs 8191;
--- config
    location /t { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid lua shared dict size "8191"/



=== TEST 3: 12k is enough (nginx's slab needs more than 8192 bytes)
--- http_config
    lua_shared_dict dogs 12k;
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            ngx.say(d:set("k", "v"), " ", d:get("k"), " ", d:capacity())
        }
    }
--- request
GET /t
--- response_body
true v 12288
--- no_error_log
[error]



=== TEST 4: a size that is not a size
--- http_config
    lua_shared_dict dogs 10x;
--- config
    location /t { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid lua shared dict size "10x"/



=== TEST 5: k and m suffixes
--- http_config
    lua_shared_dict a 16k;
    lua_shared_dict b 1M;
    lua_shared_dict c 100000;
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.shared.a:capacity(), " ", ngx.shared.b:capacity(), " ",
                    ngx.shared.c:capacity())
        }
    }
--- request
GET /t
--- response_body
16384 1048576 100000
--- no_error_log
[error]



=== TEST 6: only in the http block
--- config
    lua_shared_dict dogs 1m;
    location /t { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"lua_shared_dict" directive is not allowed here/



=== TEST 7: two arguments
--- http_config
    lua_shared_dict dogs;
--- config
    location /t { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "lua_shared_dict" directive/
