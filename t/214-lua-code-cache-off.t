# lua_code_cache off: each request sees fresh globals, freshly loaded
# modules and the effects of init_by_lua run again (OpenResty uses a fresh
# VM per request; see docs/lua-api/README.md).
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: globals do not survive the request
--- config
    lua_code_cache off;
    location /t {
        content_by_lua_block {
            ngx.say(tostring(counter))
            counter = (counter or 0) + 1
            ngx.say(counter)
        }
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- response_body eval
["nil\n1\n", "nil\n1\n"]



=== TEST 2: a module is loaded once per request, fresh in every request
--- http_config
    lua_package_path "$prefix/html/?.lua;;";
--- config
    lua_code_cache off;
    location /t {
        rewrite_by_lua_block {
            local m = require "cc_mod"
            m.n = m.n + 1
        }
        content_by_lua_block {
            local m = require "cc_mod"
            m.n = m.n + 1
            ngx.say(m.n, " ", tostring(cc_mod_loaded))
        }
    }
--- user_files
>>> cc_mod.lua
cc_mod_loaded = (cc_mod_loaded or 0) + 1
return { n = 0 }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- response_body eval
["2 1\n", "2 1\n"]



=== TEST 3: init_by_lua runs again for each request (its globals are fresh)
--- http_config
    init_by_lua_block { init_global = { hits = 0 } }
--- config
    lua_code_cache off;
    location /t {
        content_by_lua_block {
            init_global.hits = init_global.hits + 1
            ngx.say(init_global.hits)
        }
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- response_body eval
["1\n", "1\n"]



=== TEST 4: with the cache on, globals set in init_by_lua are shared
--- http_config
    init_by_lua_block { init_global2 = { hits = 0 } }
--- config
    location /t {
        content_by_lua_block {
            init_global2.hits = init_global2.hits + 1
            ngx.say(init_global2.hits)
        }
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- response_body eval
["1\n", "2\n"]
