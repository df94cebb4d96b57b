# A warmed-up hello-world content_by_lua handler allocates nothing on the
# C++ heap: debug builds count operator new calls made while content_by_lua
# handlers run (lunet_ffi_debug_lua_heap_allocs); release builds report -1
# and the check passes trivially, as it does on servers without the counter.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no C++ heap allocation in content_by_lua after warm-up
--- config
    location /t {
        content_by_lua_block { ngx.say("hello") }
    }
    location /allocs {
        content_by_lua_block {
            local ffi = require "ffi"
            local state = package.loaded.alloc_state
            if not state then
                state = {}
                package.loaded.alloc_state = state
                pcall(ffi.cdef, "int64_t lunet_ffi_debug_lua_heap_allocs(void);")
            end
            local ok, n = pcall(function() return tonumber(ffi.C.lunet_ffi_debug_lua_heap_allocs()) end)
            if not ok then n = -1 end
            if not state.base then
                state.base = n
                ngx.say("base")
            else
                ngx.say(n - state.base)
            end
        }
    }
--- pipelined_requests eval
[("GET /t") x 30, "GET /allocs", ("GET /t") x 100, "GET /allocs"]
--- response_body eval
[("hello\n") x 30, "base\n", ("hello\n") x 100, "0\n"]
--- no_error_log
[error]
