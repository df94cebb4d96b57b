# Lunet only: the hot paths (get, set, incr) allocate nothing once warm —
# no Lua garbage (collectgarbage("count") stays put over 300 000 calls: the
# JIT compiles them, so the zone is passed as a cdata pointer) and,
# in debug builds, no C++ heap allocation (lunet_ffi_debug_lua_heap_allocs;
# release builds report -1 and that part passes trivially, as in t/208).
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: get / set / incr allocate nothing
--- http_config
    lua_shared_dict d 1m;
--- config
    location /t {
        content_by_lua_block {
            local ffi = require "ffi"
            pcall(ffi.cdef, "int64_t lunet_ffi_debug_lua_heap_allocs(void);")
            local function heap()
                local ok, n = pcall(function() return tonumber(ffi.C.lunet_ffi_debug_lua_heap_allocs()) end)
                return ok and n or -1
            end
            local d = ngx.shared.d
            d:set("s", "a short string value")
            local function run(n)
                local sum = 0
                for i = 1, n do
                    d:set("num", i)
                    sum = sum + d:incr("num", 1)
                    local v = d:get("num")
                    local s = d:get("s")
                    if #s ~= 20 then sum = -1e9 end
                    d:set("flag", true)
                    if d:get("flag") ~= true then sum = -1e9 end
                end
                return sum
            end
            run(20000)  -- warm up, JIT
            collectgarbage("collect")
            collectgarbage("stop")
            local kb0, h0 = collectgarbage("count"), heap()
            local sum = run(50000)
            local kb1, h1 = collectgarbage("count"), heap()
            collectgarbage("restart")
            -- a few KB go to trace compilation; one allocation per call would be > 1 MB
            ngx.say(sum > 0, " lua KB: ", kb1 - kb0 < 64, " heap: ", h1 - h0 <= 0)
        }
    }
--- request
GET /t
--- response_body
true lua KB: true heap: true
--- no_error_log
[error]
