# The FFI-backed API allocates nothing on the C++ heap once warmed up: debug
# and ASan builds count operator new calls made while content_by_lua handlers
# run (lunet_ffi_debug_lua_heap_allocs); release builds report -1 and the
# check passes trivially, as it does on servers without the counter.
# (ngx.errlog.raw_log is left out: writing a log line with a request's
# context allocates in core::Log, as ngx.log does, whatever the FFI does.)
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no C++ heap allocation in a handler calling the FFI API, after warm-up
--- config
    location /t {
        set $foo '';
        content_by_lua_block {
            local base = require "resty.core.base"
            local t = require "resty.core.time"
            local r = base.get_request()
            local v = ngx.now() + ngx.time() + t.monotonic_msec() + ngx.req.start_time()
            ngx.update_time()
            v = ngx.today() .. ngx.localtime() .. ngx.utctime() .. ngx.http_time(1290079655)
                .. ngx.cookie_time(1290079655)
            v = ngx.parse_http_time("Thu, 18 Nov 2010 11:27:35 GMT")
            v = ngx.worker.id() or ngx.worker.pid()
            v = ngx.worker.count()
            v = ngx.worker.exiting()
            ngx.ctx.a = 1
            v = ngx.ctx.a
            ngx.status = 200
            v = ngx.status
            v = ngx.req.get_method()
            ngx.req.set_method(ngx.HTTP_GET)
            v = ngx.req.get_uri_args()
            v = ngx.req.get_headers()
            ngx.req.set_header("X-Foo", "bar")
            ngx.req.clear_header("X-Foo")
            v = ngx.req.is_internal()
            ngx.header["X-A"] = "a"
            v = ngx.header["X-A"]
            v = ngx.var.uri
            ngx.var.foo = "x"
            v = ngx.escape_uri("a b") .. ngx.unescape_uri("a%20b")
            v = ngx.md5("a") .. ngx.md5_bin("a") .. ngx.sha1_bin("a")
            v = ngx.crc32_short("a") + ngx.crc32_long("a")
            v = ngx.encode_base64("ab") .. ngx.decode_base64("YWI=")
            if ngx.decode_base64mime then  -- (not in Debian's lua-resty-core)
                v = ngx.decode_base64mime("YW\nI=")
            end
            v = ngx.get_phase()
            ngx.say("ok")
        }
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
[("GET /t?a=1&b=2") x 30, "GET /allocs", ("GET /t?a=1&b=2") x 100, "GET /allocs"]
--- response_body eval
[("ok\n") x 30, "base\n", ("ok\n") x 100, "0\n"]
--- no_error_log
[error]
