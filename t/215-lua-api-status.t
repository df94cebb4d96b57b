# Spot checks of docs/lua-api/README.md: what it lists as done works as in
# lua-nginx-module, what it lists as not yet raises a clear error.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: request info APIs listed as done
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.req.http_version())
            ngx.say(ngx.req.get_method())
            ngx.say(ngx.req.is_internal())
            ngx.say(type(ngx.req.start_time()))
            ngx.say(ngx.is_subrequest)
            ngx.say((ngx.req.raw_header(true):gsub("\r", "")))
        }
    }
--- request
GET /t
--- more_headers
X-Foo: bar
--- response_body_like eval
qr/^1.1\nGET\nfalse\nnumber\nfalse\nHost: localhost\n.*X-Foo: bar\n\n\n\z/s



=== TEST 2: strings and hashes listed as done
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.quote_sql_str("a'b"))
            ngx.say(ngx.crc32_short("hello"), " ", ngx.crc32_long("hello"))
            ngx.say(ngx.md5("hello"))
            ngx.say(ngx.encode_base64(ngx.sha1_bin("abc")))
            ngx.say(ngx.encode_base64(ngx.hmac_sha1("k", "v")))
            ngx.say(ngx.encode_args({a = 1}))
            ngx.say(ngx.escape_uri("a b"), " ", ngx.unescape_uri("a%20b"))
        }
    }
--- request
GET /t
--- response_body
'a\'b'
907060870 907060870
5d41402abc4b2a76b9719d911017c592
qZk+NkcGgWq6PiVxeFDCbJzQ2J0=
lPxqL36JuBls904QeajBHrZ5pVI=
a=1
a%20b a b



=== TEST 3: worker and config fields listed as done
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.worker.count(), " ", type(ngx.worker.pid()), " ", ngx.worker.exiting())
            ngx.say(ngx.config.subsystem, " ", type(ngx.config.nginx_version))
            ngx.say(type(ngx.config.prefix()), " ", type(ngx.config.ngx_lua_version))
            ngx.say(ngx.get_phase())
        }
    }
--- request
GET /t
--- response_body
1 number false
http number
string number
content



=== TEST 4: ngx.resp.get_headers and ngx.header listed as done
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-A"] = {"1", "2"}
            ngx.header.X_B = "b"
            local h = ngx.resp.get_headers()
            ngx.say(table.concat(h["x-a"], ","), " ", h["x-b"])
        }
    }
--- request
GET /t
--- response_body
1,2 b



=== TEST 5: lua_need_request_body listed as done
--- config
    location /t {
        lua_need_request_body on;
        content_by_lua_block { ngx.say(ngx.req.get_body_data()) }
    }
--- request
POST /t
hello body
--- response_body
hello body



=== TEST 6: ngx.req.set_uri(uri, true) outside rewrite_by_lua is refused
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.req.set_uri, "/x", true)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body_like
^false .*API disabled in the context of content_by_lua\*



=== TEST 7: ngx.on_abort in log_by_lua: the directive is checked first, then the phase
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        log_by_lua_block {
            local ok, a, b = pcall(ngx.on_abort, function () end)
            ngx.log(ngx.ERR, "on_abort in log: ", ok, " ", a, " ", b)
        }
    }
    location /on {
        lua_check_client_abort on;
        content_by_lua_block { ngx.say("ok") }
        log_by_lua_block {
            local ok, a = pcall(ngx.on_abort, function () end)
            ngx.log(ngx.ERR, "on_abort in log (on): ", ok, " ", a)
        }
    }
--- request eval
["GET /t", "GET /on"]
--- response_body eval
["ok\n", "ok\n"]
--- error_log
on_abort in log: true nil lua_check_client_abort is off
on_abort in log (on): false API disabled in the context of log_by_lua*



=== TEST 8: APIs listed as not yet raise a clear error
--- config
    location /t {
        content_by_lua_block {
            for _, f in ipairs({ ngx.run_worker_thread, ngx.req.set_body_file,
                                 ngx.thread.spawn, ngx.req.socket }) do
                local ok, err = pcall(f)
                ngx.say(ok, " ", err)
            end
        }
    }
--- request
GET /t
--- response_body_like eval
qr/\Afalse .*ngx.run_worker_thread is not yet implemented in Lunet
false .*ngx.req.set_body_file is not yet implemented in Lunet
false .*ngx.thread.spawn is not yet implemented in Lunet
false .*ngx.req.socket is not yet implemented in Lunet
\z/
