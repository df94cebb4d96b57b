# gzip (ngx_http_gzip_filter_module): gzip, gzip_types, gzip_comp_level,
# gzip_min_length, gzip_buffers, gzip_proxied, gzip_vary,
# gzip_http_version, gzip_disable, $gzip_ratio. Responses are fetched by a
# cosocket client in the same server and decompressed with zlib through
# LuaJIT's FFI, so the checks hold for nginx + lua-nginx-module too.
use Test::Nginx::Socket::Lua 'no_plan';
use File::Temp qw(tempdir);
use Compress::Zlib ();

# A 100 MiB text file (random words, so it compresses as text does) for the
# streaming checks, outside the html dir the harness empties.
our $BigDir = tempdir(CLEANUP => 1);
our ($BigLen, $BigCrc);
{
    srand(7);
    my @w = qw(alpha beta gamma delta lunet nginx gzip stream buffer memory);
    my $block = '';
    for my $i (1 .. 16000) {
        $block .= join(' ', map { $w[int(rand(@w))] } 1 .. 11) . " $i\n";
    }
    open(my $fh, '>', "$BigDir/big.txt") or die $!;
    my $crc = 0;
    my $len = 0;
    while ($len < 100 * 1024 * 1024) {
        print $fh $block;
        $crc = Compress::Zlib::crc32($block, $crc);
        $len += length $block;
    }
    close $fh;
    ($BigLen, $BigCrc) = ($len, $crc);
}

our $Client = <<'_EOC_';
    init_by_lua_block {
        local ffi = require "ffi"
        ffi.cdef[[
        typedef struct {
            const unsigned char *next_in; unsigned avail_in; unsigned long total_in;
            unsigned char *next_out; unsigned avail_out; unsigned long total_out;
            const char *msg; void *state; void *zalloc; void *zfree; void *opaque;
            int data_type; unsigned long adler; unsigned long reserved;
        } t_z_stream;
        int inflateInit2_(t_z_stream *s, int wbits, const char *ver, int size);
        int inflate(t_z_stream *s, int flush);
        int inflateEnd(t_z_stream *s);
        const char *zlibVersion(void);
        unsigned long crc32(unsigned long crc, const unsigned char *buf, unsigned len);
        ]]
        local z = ffi.load("libz.so.1")
        local outbuf = ffi.new("unsigned char[65536]")
        local M = {}
        -- GET path from this server; returns status, the header lines (one
        -- string, lower-case names), the decoded body (or its length and
        -- crc32 when keep is false) and whether it was gzipped
        function M.get(path, hdrs, opts)
            opts = opts or {}
            local sock = ngx.socket.tcp()
            sock:settimeout(20000)
            assert(sock:connect("127.0.0.1", tonumber(ngx.var.server_port)))
            assert(sock:send((opts.method or "GET") .. " " .. path .. " "
                             .. (opts.version or "HTTP/1.1")
                             .. "\r\nHost: localhost\r\nConnection: close\r\n"
                             .. (hdrs or "") .. "\r\n"))
            local status = assert(sock:receive("*l"))
            local head, chunked, gz = {}, false, false
            while true do
                local l = assert(sock:receive("*l"))
                if l == "" then break end
                local k, v = l:match("^([^:]+):%s*(.*)$")
                k = k:lower()
                head[#head + 1] = k .. ": " .. v
                if k == "transfer-encoding" and v == "chunked" then chunked = true end
                if k == "content-encoding" and v == "gzip" then gz = true end
            end
            local parts, len, crc, raw, ended = {}, 0, 0, 0, not gz
            local function piece(p, n)
                len = len + n
                crc = z.crc32(crc, p, n)
                if opts.keep ~= false then parts[#parts + 1] = ffi.string(p, n) end
            end
            local zs
            if gz then
                zs = ffi.new("t_z_stream")
                assert(z.inflateInit2_(zs, 31, z.zlibVersion(), ffi.sizeof(zs)) == 0)
            end
            local function feed(data)
                raw = raw + #data
                if not gz then
                    piece(data, #data)
                    return
                end
                zs.next_in = data
                zs.avail_in = #data
                repeat
                    zs.next_out = outbuf
                    zs.avail_out = 65536
                    local rc = z.inflate(zs, 0)
                    assert(rc == 0 or rc == 1 or rc == -5, "inflate: " .. rc)
                    local n = 65536 - zs.avail_out
                    if n > 0 then piece(outbuf, n) end
                    if rc == 1 then ended = true end
                until zs.avail_out ~= 0
            end
            if chunked then
                while true do
                    local l = assert(sock:receive("*l"))
                    local size = tonumber(l, 16)
                    if size == 0 then
                        assert(sock:receive("*l"))
                        break
                    end
                    while size > 0 do
                        local want = size > 65536 and 65536 or size
                        feed(assert(sock:receive(want)))
                        size = size - want
                    end
                    assert(sock:receive(2))
                end
            else
                while true do
                    local data, err, partial = sock:receive(65536)
                    if data then feed(data) else feed(partial) break end
                end
            end
            if zs then z.inflateEnd(zs) end
            if opts.wait_close and chunked then sock:receive("*a") end
            sock:close()
            return {status = status, head = table.concat(head, "\n"),
                    body = table.concat(parts), len = len, crc = tonumber(crc),
                    raw = raw, gz = gz, ended = ended}
        end
        function M.hwm()
            local f = io.open("/proc/self/status")
            local s = f:read("*a")
            f:close()
            return tonumber(s:match("VmHWM:%s*(%d+)"))
        end
        function M.header(res, name)
            return res.head:match("\n?" .. name .. ": ([^\n]*)")
        end
        package.loaded.t_gz = M
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', $::Client . ($block->http_config // ''));
    $block->set_value('request', 'GET /t') unless defined $block->request;
});

no_shuffle();
no_long_string();
run_tests();

__DATA__

=== TEST 1: a static file decompresses to the original; Content-Length and Accept-Ranges go, the ETag is weak, Vary
--- user_files
>>> a.html
<html><body>hello, hello, hello, hello, hello, hello, hello, hello, hello</body></html>
--- config
    gzip on;
    gzip_vary on;
    location /t {
        content_by_lua_block {
            local gz = require "t_gz"
            local res = gz.get("/a.html", "Accept-Encoding: gzip, deflate\r\n")
            local f = io.open(ngx.config.prefix() .. "html/a.html")
            local orig = f:read("*a")
            f:close()
            ngx.say(res.status, " gz=", tostring(res.gz), " ended=", tostring(res.ended),
                    " same=", tostring(res.body == orig), " smaller=", tostring(res.raw < #orig))
            ngx.say("content-length: ", gz.header(res, "content%-length") or "none")
            ngx.say("accept-ranges: ", gz.header(res, "accept%-ranges") or "none")
            ngx.say("etag: ", (gz.header(res, "etag") or "none"):match("^W/\"") and "weak" or "strong")
            ngx.say("vary: ", gz.header(res, "vary"))
            ngx.say("transfer-encoding: ", gz.header(res, "transfer%-encoding"))
        }
    }
--- response_body
HTTP/1.1 200 OK gz=true ended=true same=true smaller=true
content-length: none
accept-ranges: none
etag: weak
vary: Accept-Encoding
transfer-encoding: chunked



=== TEST 2: a client without Accept-Encoding (or q=0, or another coding) gets the plain file, with Vary
--- user_files
>>> a.html
<html><body>hello, hello, hello, hello, hello, hello, hello, hello, hello</body></html>
--- config
    gzip on;
    gzip_vary on;
    location /t {
        content_by_lua_block {
            local gz = require "t_gz"
            for _, ae in ipairs{"", "Accept-Encoding: deflate\r\n", "Accept-Encoding: gzip;q=0\r\n",
                                "Accept-Encoding: x-gzip\r\n", "Accept-Encoding: br, gzip;q=0.5\r\n",
                                "Accept-Encoding: GZIP\r\n"} do
                local res = gz.get("/a.html", ae)
                ngx.say(ae:gsub("\r\n", ""), ": gz=", tostring(res.gz), " cl=",
                        gz.header(res, "content%-length") or "none", " vary=",
                        gz.header(res, "vary") or "none")
            end
        }
    }
--- response_body
: gz=false cl=88 vary=Accept-Encoding
Accept-Encoding: deflate: gz=false cl=88 vary=Accept-Encoding
Accept-Encoding: gzip;q=0: gz=false cl=88 vary=Accept-Encoding
Accept-Encoding: x-gzip: gz=false cl=88 vary=Accept-Encoding
Accept-Encoding: br, gzip;q=0.5: gz=true cl=none vary=Accept-Encoding
Accept-Encoding: GZIP: gz=true cl=none vary=Accept-Encoding



=== TEST 3: gzip_types (text/html always, * for any) and gzip_min_length
--- user_files
>>> a.txt
plain text plain text plain text plain text plain text plain text
>>> a.css
body { color: red; } body { color: red; } body { color: red; }
>>> small.html
<p>hi</p>
--- config
    gzip on;
    types { text/html html; text/plain txt; text/css css; }
    location /t {
        content_by_lua_block {
            local gz = require "t_gz"
            local ae = "Accept-Encoding: gzip\r\n"
            for _, p in ipairs{"/d/a.txt", "/d/a.css", "/d/small.html", "/s/a.txt", "/s/a.css",
                               "/any/a.css", "/min/a.txt", "/min/small.html"} do
                local res = gz.get(p, ae)
                ngx.say(p, " ", tostring(res.gz))
            end
        }
    }
    location /d/ { alias html/; }
    location /s/ { alias html/; gzip_types text/plain; }
    location /any/ { alias html/; gzip_types *; }
    location /min/ { alias html/; gzip_types text/plain; gzip_min_length 1k; }
--- response_body
/d/a.txt false
/d/a.css false
/d/small.html false
/s/a.txt true
/s/a.css false
/any/a.css true
/min/a.txt false
/min/small.html false



=== TEST 4: Lua output (ngx.print, ngx.say, ngx.flush) is compressed as it streams, chunked
--- config
    gzip on;
    gzip_types text/plain;
    location /lua {
        default_type text/plain;
        content_by_lua_block {
            for i = 1, 300 do
                ngx.print(string.rep("line " .. i .. " ", i % 17), "\n")
                if i % 50 == 0 then ngx.flush(true) end
                if i % 77 == 0 then ngx.flush() end
            end
            ngx.say("end")
        }
    }
    location /t {
        content_by_lua_block {
            local gz = require "t_gz"
            local res = gz.get("/lua", "Accept-Encoding: gzip\r\n")
            local want = {}
            for i = 1, 300 do want[#want + 1] = string.rep("line " .. i .. " ", i % 17) .. "\n" end
            want[#want + 1] = "end\n"
            want = table.concat(want)
            ngx.say(res.status, " gz=", tostring(res.gz), " ended=", tostring(res.ended),
                    " same=", tostring(res.body == want), " te=",
                    gz.header(res, "transfer%-encoding"))
        }
    }
--- response_body
HTTP/1.1 200 OK gz=true ended=true same=true te=chunked



=== TEST 5: body_filter_by_lua sees the plain body; gzip compresses what it passes on
--- config
    gzip on;
    gzip_types text/plain;
    location /lua {
        default_type text/plain;
        content_by_lua_block { ngx.say(string.rep("abc", 100)) }
        body_filter_by_lua_block {
            if ngx.arg[1] ~= "" then ngx.arg[1] = ngx.arg[1]:upper() end
        }
    }
    location /t {
        content_by_lua_block {
            local gz = require "t_gz"
            local res = gz.get("/lua", "Accept-Encoding: gzip\r\n")
            ngx.say(tostring(res.gz), " ", res.body == string.rep("ABC", 100) .. "\n")
        }
    }
--- response_body
true true



=== TEST 6: gzip_http_version: HTTP/1.0 is compressed only with 1.0 (the body ends with the connection)
--- user_files
>>> a.html
<html><body>hello, hello, hello, hello, hello, hello, hello, hello, hello</body></html>
--- config
    gzip on;
    location /t {
        content_by_lua_block {
            local gz = require "t_gz"
            local ae = "Accept-Encoding: gzip\r\n"
            local a = gz.get("/a.html", ae, {version = "HTTP/1.0"})
            local b = gz.get("/v10/a.html", ae, {version = "HTTP/1.0"})
            ngx.say(tostring(a.gz), " ", tostring(b.gz), " ", tostring(b.ended), " ",
                    gz.header(b, "connection"), " ", #b.body)
        }
    }
    location /v10/ { alias html/; gzip_http_version 1.0; }
--- response_body
false true true close 88



=== TEST 7: gzip_proxied: a request with Via is compressed as the response's headers allow
--- user_files
>>> a.html
<html><body>hello, hello, hello, hello, hello, hello, hello, hello, hello</body></html>
--- config
    gzip on;
    etag off;
    location /t {
        content_by_lua_block {
            local gz = require "t_gz"
            local h = "Accept-Encoding: gzip\r\nVia: 1.1 proxy\r\n"
            for _, p in ipairs{"/off/a.html", "/any/a.html", "/exp/a.html", "/expfut/a.html",
                               "/nc/a.html", "/nc2/a.html", "/auth/a.html", "/nolm/a.html",
                               "/noetag/a.html", "/etag/a.html"} do
                ngx.say(p, " ", tostring(gz.get(p, h).gz))
            end
            ngx.say("auth+ ", tostring(gz.get("/auth/a.html", h .. "Authorization: Basic eDp5\r\n").gz))
        }
    }
    location /off/ { alias html/; }
    location /any/ { alias html/; gzip_proxied any; }
    location /exp/ { alias html/; gzip_proxied expired; expires -1h; }
    location /expfut/ { alias html/; gzip_proxied expired; expires 1h; }
    location /nc/ { alias html/; gzip_proxied no-cache; add_header Cache-Control "private, no-cache"; }
    location /nc2/ { alias html/; gzip_proxied no-store; add_header Cache-Control "no-cache"; }
    location /auth/ { alias html/; gzip_proxied auth; }
    location /nolm/ { alias html/; gzip_proxied no_last_modified; }
    location /noetag/ { alias html/; gzip_proxied no_etag; }
    location /etag/ { alias html/; gzip_proxied no_etag; etag on; }
--- response_body
/off/a.html false
/any/a.html true
/exp/a.html true
/expfut/a.html false
/nc/a.html true
/nc2/a.html false
/auth/a.html true
/nolm/a.html true
/noetag/a.html true
/etag/a.html false
auth+ true



=== TEST 8: gzip_disable: msie6 and regexes (case-insensitive) on User-Agent
--- user_files
>>> a.html
<html><body>hello, hello, hello, hello, hello, hello, hello, hello, hello</body></html>
--- config
    gzip on;
    gzip_disable msie6 "^curl/";
    location /t {
        content_by_lua_block {
            local gz = require "t_gz"
            for _, ua in ipairs{"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)",
                                "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)",
                                "Mozilla/4.0 (compatible; MSIE 5.5; Windows 98)",
                                "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)",
                                "CURL/8.0", "Wget/1.21"} do
                local res = gz.get("/a.html", "Accept-Encoding: gzip\r\nUser-Agent: " .. ua .. "\r\n")
                ngx.say(ua, ": ", tostring(res.gz))
            end
        }
    }
--- response_body
Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1): false
Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1): true
Mozilla/4.0 (compatible; MSIE 5.5; Windows 98): false
Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0): true
CURL/8.0: false
Wget/1.21: true



=== TEST 9: status codes: 404 and 403 pages are compressed, 301 and 304 and HEAD are not bodies to compress
--- user_files
>>> a.html
<html><body>hello, hello, hello, hello, hello, hello, hello, hello, hello</body></html>
--- config
    gzip on;
    location /t {
        content_by_lua_block {
            local gz = require "t_gz"
            local ae = "Accept-Encoding: gzip\r\n"
            local r404 = gz.get("/nothing.html", ae)
            ngx.say(r404.status, " ", tostring(r404.gz), " ", r404.body:match("<title>(.-)</title>"))
            local r403 = gz.get("/forbidden", ae)
            ngx.say(r403.status, " ", tostring(r403.gz))
            local r301 = gz.get("/redir", ae)
            ngx.say(r301.status, " ", tostring(r301.gz))
            local a = gz.get("/a.html", ae)
            local r304 = gz.get("/a.html", ae .. "If-Modified-Since: " .. gz.header(a, "last%-modified") .. "\r\n")
            ngx.say(r304.status, " ", tostring(r304.gz), " ", r304.len)
            local head = gz.get("/a.html", ae, {method = "HEAD"})
            ngx.say("HEAD ", tostring(head.gz), " ", gz.header(head, "content%-length") or "none", " ", head.raw)
        }
    }
    location /forbidden { return 403; }
    location /redir { return 301 /a.html; }
--- response_body
HTTP/1.1 404 Not Found true 404 Not Found
HTTP/1.1 403 Forbidden true
HTTP/1.1 301 Moved Permanently false
HTTP/1.1 304 Not Modified false 0
HEAD true none 0



=== TEST 10: gzip_comp_level and small gzip_buffers still give the original (sendfile on)
--- config
    gzip on;
    gzip_types text/plain;
    sendfile on;
    location /t {
        content_by_lua_block {
            local gz = require "t_gz"
            local f = io.open(ngx.config.prefix() .. "html/x.txt", "w")
            local t = {}
            for i = 1, 20000 do t[#t + 1] = "row " .. i .. " " .. (i * 7919 % 1000) .. "\n" end
            local orig = table.concat(t)
            f:write(orig)
            f:close()
            for _, p in ipairs{"/l1/x.txt", "/l9/x.txt", "/b/x.txt"} do
                local res = gz.get(p, "Accept-Encoding: gzip\r\n")
                ngx.say(p, " ", tostring(res.gz), " ", tostring(res.body == orig))
            end
            local l1, l9 = gz.get("/l1/x.txt", "Accept-Encoding: gzip\r\n"), gz.get("/l9/x.txt", "Accept-Encoding: gzip\r\n")
            ngx.say("9 smaller than 1: ", tostring(l9.raw < l1.raw))
        }
    }
    location /l1/ { alias html/; gzip_comp_level 1; }
    location /l9/ { alias html/; gzip_comp_level 9; }
    location /b/ { alias html/; gzip_buffers 2 1k; }
--- response_body
/l1/x.txt true true
/l9/x.txt true true
/b/x.txt true true
9 smaller than 1: true



=== TEST 11: $gzip_ratio after a compressed response, "-" otherwise
--- user_files
>>> a.html
<html><body>hello, hello, hello, hello, hello, hello, hello, hello, hello</body></html>
--- http_config
    log_format ratio "ratio: [$gzip_ratio]";
--- config
    gzip on;
    location = /a.html {
        access_log logs/ratio.log ratio;
    }
    location /t {
        content_by_lua_block {
            local gz = require "t_gz"
            gz.get("/a.html", "Accept-Encoding: gzip\r\n", {wait_close = true})
            gz.get("/a.html", "", {wait_close = true})
            local f = io.open(ngx.config.prefix() .. "logs/ratio.log")
            ngx.print(f:read("*a"))
            f:close()
        }
    }
--- response_body_like eval
qr/^ratio: \[\d+\.\d\d\]\nratio: \[-\]\n$/



=== TEST 12: gzip in "if" and off in a nested location
--- user_files
>>> a.html
<html><body>hello, hello, hello, hello, hello, hello, hello, hello, hello</body></html>
--- config
    location /t {
        content_by_lua_block {
            local gz = require "t_gz"
            local ae = "Accept-Encoding: gzip\r\n"
            ngx.say(tostring(gz.get("/i/a.html", ae).gz), " ", tostring(gz.get("/i/a.html?z=1", ae).gz),
                    " ", tostring(gz.get("/n/off/a.html", ae).gz), " ", tostring(gz.get("/n/a.html", ae).gz))
        }
    }
    location /i/ {
        alias html/;
        if ($arg_z) { gzip on; }
    }
    location /n/ {
        gzip on;
        alias html/;
        location /n/off/ { alias html/; gzip off; }
    }
--- response_body
false true false true



=== TEST 13: a 100 MiB static file streams (sendfile on) with bounded worker memory
--- config eval
"
    gzip on;
    gzip_types text/plain;
    sendfile on;
    location /big { alias $::BigDir/big.txt; }
    location /t {
        content_by_lua_block {
            local gz = require 't_gz'
            collectgarbage()
            local before = gz.hwm()
            local res = gz.get('/big', 'Accept-Encoding: gzip\\r\\n', {keep = false})
            local grew = gz.hwm() - before
            ngx.say(tostring(res.gz), ' ', tostring(res.ended), ' ', res.len == $::BigLen,
                    ' ', res.crc == $::BigCrc, ' ', res.raw < res.len / 2)
            ngx.say(grew < 16 * 1024 and 'bounded' or ('grew ' .. grew .. ' kB'))
        }
    }
"
--- response_body
true true true true true
bounded
--- timeout: 60



=== TEST 14: 8 MiB of Lua output with ngx.flush(true) streams compressed (each ngx.print is kept by the request in Lunet, so memory is not checked here)
--- config
    gzip on;
    gzip_types text/plain;
    location /gen {
        default_type text/plain;
        content_by_lua_block {
            local t = {}
            for i = 1, 4096 do t[#t + 1] = string.format("%05d %s\n", i, string.rep(string.char(97 + i % 26), i % 9 + 1)) end
            local s = table.concat(t)
            local total = 0
            while total < 8 * 1024 * 1024 do
                ngx.print(s)
                total = total + #s
                ngx.flush(true)
            end
        }
    }
    location /t {
        content_by_lua_block {
            local gz = require "t_gz"
            local res = gz.get("/gen", "Accept-Encoding: gzip\r\n", {keep = false})
            local plain = gz.get("/gen", "", {keep = false})
            ngx.say(tostring(res.gz), " ", tostring(res.ended), " ", res.len == plain.len,
                    " ", res.crc == plain.crc, " ", res.len >= 8 * 1024 * 1024)
        }
    }
--- response_body
true true true true true
--- timeout: 60



=== TEST 15: configuration errors as nginx words them
--- config
    gzip_comp_level 10;
--- must_die
--- error_log
value must be between 1 and 9



=== TEST 16: gzip_buffers
--- config
    gzip_buffers 0 4k;
--- must_die
--- error_log
"gzip_buffers" directive invalid value



=== TEST 17: gzip_window
--- config
    gzip_window 1000;
--- must_die
--- error_log
"gzip_window" directive must be 512, 1k, 2k, 4k, 8k, 16k, or 32k



=== TEST 18: gzip_http_version and gzip_proxied values
--- config
    gzip_proxied expired foo;
--- must_die
--- error_log
invalid value "foo"
