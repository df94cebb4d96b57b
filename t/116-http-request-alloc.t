# A warmed-up keep-alive request allocates nothing on the C++ heap — the
# whole request: connection (reading, parsing, header buffer, timers, write
# requests), HTTP layer (Request, arena blocks, filters) and the Lua
# content handler. Debug builds count every operator new
# (lunet_ffi_debug_heap_allocs); the connection and HTTP layers take their
# memory through operator new (core::FreeList), so their warm-up shows up
# there too. Release builds report -1 and the check passes trivially.
# Debug-level logging formats strings on the heap, so the level is info.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no C++ heap allocation per request after warm-up (pipelined keep-alive)
--- config
    location /t {
        content_by_lua_block { ngx.say("hello") }
    }
    location /r {
        return 200 "hello";
    }
    location /allocs {
        content_by_lua_block {
            local ffi = require "ffi"
            local state = package.loaded.req_alloc_state
            if not state then
                state = {}
                package.loaded.req_alloc_state = state
                pcall(ffi.cdef, "int64_t lunet_ffi_debug_heap_allocs(void);")
            end
            local ok, n = pcall(function() return tonumber(ffi.C.lunet_ffi_debug_heap_allocs()) end)
            if not ok then n = -1 end
            if not state.base then
                state.base = n
                ngx.say("base")
            else
                ngx.say(n - state.base)
            end
        }
    }
--- log_level: info
--- pipelined_requests eval
[("GET /t", "GET /r") x 30, "GET /allocs", ("GET /t", "GET /r") x 100, "GET /allocs"]
--- response_body eval
[("hello\n", "hello") x 30, "base\n", ("hello\n", "hello") x 100, "0\n"]
--- no_error_log
[error]
