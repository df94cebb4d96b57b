# Time, encoding, hashing and query-string helpers.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: ngx.now / ngx.time / ngx.update_time
--- config
    location /t {
        content_by_lua_block {
            local now, t = ngx.now(), ngx.time()
            ngx.update_time()
            ngx.say(type(now), " ", type(t), " ", math.abs(now - t) < 1.01, " ", ngx.now() >= now)
        }
    }
--- request
GET /t
--- response_body
number number true true



=== TEST 2: ngx.today / ngx.localtime / ngx.utctime formats
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.today():match("^%d%d%d%d%-%d%d%-%d%d$") ~= nil)
            ngx.say(ngx.localtime():match("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$") ~= nil)
            ngx.say(ngx.utctime():match("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$") ~= nil)
        }
    }
--- request
GET /t
--- response_body
true
true
true



=== TEST 3: http_time, cookie_time, parse_http_time
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.http_time(1290079655))
            ngx.say(ngx.cookie_time(1290079655))
            ngx.say(ngx.parse_http_time("Thu, 18 Nov 2010 11:27:35 GMT"))
            ngx.say(ngx.parse_http_time("bad"))
        }
    }
--- request
GET /t
--- response_body
Thu, 18 Nov 2010 11:27:35 GMT
Thu, 18-Nov-10 11:27:35 GMT
1290079655
nil



=== TEST 4: escape_uri / unescape_uri
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.escape_uri("a b&c=d/é"))
            ngx.say(ngx.unescape_uri("a%20b+c%zz"))
            ngx.say(ngx.escape_uri(nil), "|", ngx.unescape_uri(nil))
        }
    }
--- request
GET /t
--- response_body
a%20b%26c%3Dd%2F%C3%A9
a b c%zz
|



=== TEST 5: encode_args / decode_args
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.encode_args({foo = 3, ["b r"] = "hello world"}) ==
                    "foo=3&b%20r=hello%20world" or
                    ngx.encode_args({foo = 3, ["b r"] = "hello world"}) ==
                    "b%20r=hello%20world&foo=3")
            ngx.say(ngx.encode_args({a = {1, 2}}))
            ngx.say(ngx.encode_args({t = true, f = false}))
            local args = ngx.decode_args("a=1&b=2&a=3&c", 0)
            ngx.say(table.concat(args.a, ","), " ", args.b, " ", args.c)
        }
    }
--- request
GET /t
--- response_body
true
a=1&a=2
t
1,3 2 true



=== TEST 6: base64
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.encode_base64("hello"), " ", ngx.encode_base64("hello", true))
            ngx.say(ngx.decode_base64("aGVsbG8="), " ", ngx.decode_base64("aGVsbG8"))
            ngx.say(ngx.decode_base64("!!!"))
            ngx.say("[", ngx.encode_base64(""), "]")
        }
    }
--- request
GET /t
--- response_body
aGVsbG8= aGVsbG8
hello hello
nil
[]



=== TEST 7: hashes and crc32
--- config
    location /t {
        content_by_lua_block {
            local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
            ngx.say(ngx.md5("hello"))
            ngx.say(hex(ngx.md5_bin("hello")))
            ngx.say(hex(ngx.sha1_bin("hello")))
            ngx.say(hex(ngx.hmac_sha1("secret", "hello")))
            ngx.say(ngx.crc32_short("hello"), " ", ngx.crc32_long("hello"))
        }
    }
--- request
GET /t
--- response_body
5d41402abc4b2a76b9719d911017c592
5d41402abc4b2a76b9719d911017c592
aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d
5112055c05f944f85755efc5cd8970e194e9f45b
907060870 907060870



=== TEST 8: quote_sql_str
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.quote_sql_str("a'b\"c\\d\ne\0f"))
        }
    }
--- request
GET /t
--- response_body
'a\'b\"c\\d\ne\0f'



=== TEST 9: ngx.null, constants, config, worker
--- config
    location /t {
        content_by_lua_block {
            ngx.say(type(ngx.null), " ", ngx.null == ngx.null)
            ngx.say(ngx.OK, " ", ngx.ERROR, " ", ngx.AGAIN, " ", ngx.DONE, " ", ngx.DECLINED)
            ngx.say(ngx.HTTP_OK, " ", ngx.HTTP_NOT_FOUND, " ", ngx.HTTP_GET, " ", ngx.HTTP_POST)
            ngx.say(ngx.config.subsystem, " ", type(ngx.config.nginx_version), " ",
                    type(ngx.config.ngx_lua_version), " ", type(ngx.config.debug))
            ngx.say(ngx.config.prefix() ~= nil, " ", ngx.worker.id(), " ", ngx.worker.count(), " ",
                    type(ngx.worker.pid()), " ", ngx.worker.exiting())
            ngx.say(ngx.get_phase())
        }
    }
--- request
GET /t
--- response_body
userdata true
0 -1 -2 -4 -5
200 404 2 8
http number number boolean
true 0 1 number false
content



=== TEST 10: require "resty.core" is a no-op and cjson loads
--- config
    location /t {
        content_by_lua_block {
            require "resty.core"
            local cjson = require "cjson"
            ngx.say(cjson.encode({1, 2}))
        }
    }
--- request
GET /t
--- response_body
[1,2]
