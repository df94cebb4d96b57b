# What the FFI-backed API answers, as lua-resty-core: argument errors, the
# init_worker context (OpenResty's fake request), escaping tables, base64
# edge cases, headers_sent in header_filter. Passes against nginx +
# lua-nginx-module + lua-resty-core too.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: argument errors
--- config
    location /t {
        content_by_lua_block {
            local function try(f, ...)
                local ok, err = pcall(f, ...)
                ngx.say(ok and "ok" or err)
            end
            try(ngx.http_time, "x")
            try(ngx.cookie_time, "12")
            try(ngx.parse_http_time, 1)
            try(ngx.req.set_method, "GET")
            try(ngx.req.set_method, 12345)
            try(ngx.req.set_header, nil, "v")
            try(ngx.encode_base64, "ab", 1)
            try(ngx.decode_base64, 1)
            try(function () return ngx.escape_uri("a", "x") end)
            try(function () return ngx.escape_uri("a", 7) end)
            try(function () return ngx.var[{}] end)
            try(require("ngx.errlog").raw_log, "x", "y")
            try(require("ngx.errlog").raw_log, ngx.ERR, 1)
            try(require("ngx.errlog").raw_log, 100, "m")
        }
    }
--- request
GET /t
--- response_body_like chomp
\Anumber argument only
number argument only
string argument only
bad method number
unsupported HTTP method: 12345
bad 'name' argument: string expected, got nil
bad no_padding: boolean expected, got number
string argument only
.*: "type" is not a number
.*: "type" 7 out of range
.*: bad variable name
bad argument #1 to 'raw_log' \(must be a number\)
bad argument #2 to 'raw_log' \(must be a string\)
bad log level
\z
--- no_error_log
[error]



=== TEST 2: values and conversions
--- config
    location /t {
        content_by_lua_block {
            local out = {}
            local function say(...) out[#out + 1] = table.concat({...}) end
            say(ngx.escape_uri("a b/c?#!*'()~"), " ", ngx.escape_uri("a b/c?#\"", 0),
                " ", ngx.escape_uri(nil), "|", ngx.escape_uri(12))
            say(ngx.unescape_uri("a%20b+c%zz%2"), "|", ngx.unescape_uri(nil))
            say(ngx.md5(nil), " ", ngx.md5(1), " ", ngx.crc32_short(""), " ",
                ngx.crc32_long("hello"))
            say(ngx.encode_base64("ab"), " ", ngx.encode_base64("ab", true), " ",
                ngx.encode_base64(nil), "|", ngx.encode_base64("ab", false))
            say(ngx.decode_base64("YWI="), " ", ngx.decode_base64("YWI"), " ",
                tostring(ngx.decode_base64("!!")), " ", tostring(ngx.decode_base64("YW I=")),
                " ", tostring(ngx.decode_base64("Y")), " ", ngx.decode_base64("YQ==xx"))
            say(ngx.http_time(1290079655), " | ", ngx.cookie_time(1290079655), " | ",
                ngx.parse_http_time("Thu, 18 Nov 2010 11:27:35 GMT"), " ",
                tostring(ngx.parse_http_time("bad")))
            say(#ngx.today(), " ", #ngx.localtime(), " ", #ngx.utctime())
            ngx.status = "201"
            say(ngx.status, " ", ngx.req.get_method(), " ", tostring(ngx.req.is_internal()))
            ngx.req.set_method(ngx.HTTP_MKCOL)
            say(ngx.req.get_method())
            ngx.req.set_header("X-P", {"a", 2})
            ngx.req.set_header(12, true)
            local h = ngx.req.get_headers()
            say(table.concat(h["x-p"], ","), " ", h["12"], " ", h.X_P[2])
            ngx.header["X-B"] = {"1", 2}
            ngx.header["X-C"] = true
            say(table.concat(ngx.header["X-B"], ","), " ", ngx.header["X-C"], " ",
                tostring(ngx.header[12]), " ", ngx.header.x_c)
            local args = ngx.req.get_uri_args()
            say(args.a, " ", tostring(args.flag), " ", args.c)
            local tab = { stale = 1 }
            local same = ngx.req.get_uri_args(1, tab)
            say(tostring(same == tab), " ", tostring(tab.stale), " ",
                select(2, ngx.req.get_uri_args(1)))
            ngx.say(table.concat(out, "\n"))
        }
    }
--- request
GET /t?a=1&flag&c=x+y
--- response_body
a%20b%2Fc%3F%23!*'()~ a%20b/c%3F%23" |12
a b c%zz%2|
d41d8cd98f00b204e9800998ecf8427e c4ca4238a0b923820dcc509a6f75849b 0 907060870
YWI= YWI |YWI=
ab ab nil nil nil a
Thu, 18 Nov 2010 11:27:35 GMT | Thu, 18-Nov-10 11:27:35 GMT | 1290079655 nil
10 19 19
201 GET false
MKCOL
a,2 true 2
1,2 true nil true
1 true x y
true nil truncated
--- error_code: 201
--- no_error_log
[error]



=== TEST 3: in init_worker (a fake request): ctx works, request APIs are disabled
--- http_config
    init_worker_by_lua_block {
        local out = {}
        local function try(name, f)
            local ok, err = pcall(f)
            out[#out + 1] = name .. ": " .. (ok and "ok" or (tostring(err):gsub("^.*:%d+: ", "")))
        end
        try("ctx", function () ngx.ctx.a = 1 assert(ngx.ctx.a == 1) end)
        try("get_method", ngx.req.get_method)
        try("get_headers", ngx.req.get_headers)
        try("set_header", function () ngx.req.set_header("X", "y") end)
        try("start_time", function () assert(type(ngx.req.start_time()) == "number") end)
        try("now", function () assert(ngx.now() > 0) end)
        local pids, err = ngx.worker.pids()
        out[#out + 1] = "pids: " .. tostring(pids) .. " " .. tostring(err)
        out[#out + 1] = "phase: " .. ngx.get_phase()
        package.loaded.init_worker_out = table.concat(out, "\n")
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say(package.loaded.init_worker_out)
        }
    }
--- request
GET /t
--- response_body
ctx: ok
get_method: API disabled in the current context
get_headers: API disabled in the current context
set_header: API disabled in the current context
start_time: ok
now: ok
pids: nil API disabled in the current context
phase: init_worker



=== TEST 4: ngx.ctx in init_by_lua: no request found
--- http_config
    init_by_lua_block {
        local ok, err = pcall(function () return ngx.ctx end)
        package.loaded.init_ctx = tostring(ok) .. " " .. tostring(err)
        package.loaded.init_phase = ngx.get_phase()
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say((package.loaded.init_ctx:gsub("[^ ]*%.lua:%d+: ", "")), " ",
                    package.loaded.init_phase)
        }
    }
--- request
GET /t
--- response_body
false no request found init



=== TEST 5: headers_sent is false in header_filter, true in body_filter and log
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        header_filter_by_lua_block {
            ngx.log(ngx.WARN, "hf headers_sent=", tostring(ngx.headers_sent))
        }
        body_filter_by_lua_block {
            if ngx.arg[2] then
                ngx.log(ngx.WARN, "bf headers_sent=", tostring(ngx.headers_sent))
            end
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "log headers_sent=", tostring(ngx.headers_sent),
                    " status=", ngx.status)
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
hf headers_sent=false
bf headers_sent=true
log headers_sent=true status=200



=== TEST 6: ngx.ctx per request, replaceable, freed with the request
--- config
    location /t {
        content_by_lua_block {
            local n = ngx.ctx.n
            ngx.ctx.n = (n or 0) + 1
            ngx.ctx = { n = 42 }
            ngx.say(tostring(n), " ", ngx.ctx.n)
        }
    }
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t"]
--- response_body eval
["nil 42\n", "nil 42\n", "nil 42\n"]



=== TEST 7: get_method follows set_method within one handler, across a yield and in later phases; a timer has none
--- config
    location /t {
        rewrite_by_lua_block {
            ngx.ctx.m = { ngx.req.get_method() }
            ngx.req.set_method(ngx.HTTP_DELETE)
            ngx.ctx.m[2] = ngx.req.get_method()
            ngx.sleep(0.001)
            ngx.ctx.m[3] = ngx.req.get_method()
        }
        content_by_lua_block {
            local m = ngx.ctx.m
            ngx.req.set_method(ngx.HTTP_OPTIONS)
            ngx.say(m[1], " ", m[2], " ", m[3], " ", ngx.req.get_method(), " ", ngx.get_phase())
            local ok, err
            ngx.timer.at(0, function()
                ok, err = pcall(ngx.req.get_method)
            end)
            ngx.sleep(0.01)
            ngx.say(ok, " ", err)
            ngx.say(ngx.md5("hello"), " ", ngx.md5(""), " ", #ngx.sha1_bin("abc"))
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "log phase: ", ngx.req.get_method(), " ", ngx.get_phase())
        }
    }
--- request
PATCH /t
--- response_body
PATCH DELETE DELETE OPTIONS content
false API disabled in the current context
5d41402abc4b2a76b9719d911017c592 d41d8cd98f00b204e9800998ecf8427e 20
--- error_log
log phase: OPTIONS log



=== TEST 8: ngx.now/ngx.time read the cached clock: a compiled loop sees ngx.update_time(), and ngx.ctx follows the running request across a yield
--- config
    location /t {
        content_by_lua_block {
            local t0 = ngx.now()
            local changed
            -- the loop compiles; each update_time() must be seen by the next now()
            for i = 1, 2e7 do
                ngx.update_time()
                if ngx.now() ~= t0 then
                    changed = i
                    break
                end
            end
            ngx.say("now changed: ", changed ~= nil)
            ngx.say("time is now floored: ", ngx.time() == math.floor(ngx.now()))
            ngx.ctx.a = ngx.var.arg_v
            ngx.sleep(0.01)
            ngx.say("ctx after yield: ", ngx.ctx.a)
        }
    }
--- pipelined_requests eval
["GET /t?v=one", "GET /t?v=two"]
--- response_body eval
["now changed: true\ntime is now floored: true\nctx after yield: one\n",
"now changed: true\ntime is now floored: true\nctx after yield: two\n"]
--- no_error_log
[error]
