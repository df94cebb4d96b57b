# Error messages worded as lua-nginx-module words them: *_by_lua_file that is
# missing or unreadable, Lua syntax errors (chunk names, including long
# config file names), init_by_lua errors, ngx.var misuse.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: content_by_lua_file that does not exist
--- config
    location /t {
        content_by_lua_file html/missing.lua;
    }
--- request
GET /t
--- error_code: 404
--- error_log eval
qr{\[error\] .*failed to load external Lua file ".*?html/missing\.lua": cannot open .*?html/missing\.lua}



=== TEST 2: rewrite_by_lua_file that does not exist
--- config
    location /t {
        rewrite_by_lua_file html/nope.lua;
        content_by_lua_block { ngx.say("unreached") }
    }
--- request
GET /t
--- error_code: 404
--- error_log eval
qr{failed to load external Lua file ".*?html/nope\.lua": cannot open .*?html/nope\.lua}



=== TEST 3: content_by_lua_file that is a directory
--- config
    location /t {
        content_by_lua_file html/dir;
    }
--- user_files
>>> dir/x.lua
ngx.say("x")
--- request
GET /t
--- error_code: 503
--- error_log eval
qr{failed to load external Lua file ".*?html/dir": cannot read .*?html/dir}



=== TEST 4: syntax error in a Lua file
--- config
    location /t {
        content_by_lua_file html/bad.lua;
    }
--- user_files
>>> bad.lua
ngx.say("a"
--- request
GET /t
--- error_code: 500
--- error_log eval
qr{failed to load external Lua file ".*?html/bad\.lua": .*?html/bad\.lua:2: '\)' expected \(to close '\(' at line 1\) near '<eof>'}



=== TEST 5: syntax error in an inlined block
--- config
    location /t {
        content_by_lua_block {
            ngx.say("a"
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log eval
qr{failed to load inlined Lua code: content_by_lua\(nginx\.conf:\d+\):3: '\)' expected \(to close '\(' at line 2\) near '<eof>'}



=== TEST 6: syntax error in an included config file with a long name (only its end is kept)
--- config
    include ../html/a_very_long_configuration_file_name_that_goes_on_and_on_and_on.conf;
--- user_files
>>> a_very_long_configuration_file_name_that_goes_on_and_on_and_on.conf
location /t {
    content_by_lua_block {
        ngx.say("a"
    }
}
--- request
GET /t
--- error_code: 500
--- error_log eval
qr{failed to load inlined Lua code: content_by_lua\(\.\.\.e_name_that_goes_on_and_on_and_on\.conf:2\):3: '\)' expected}



=== TEST 7: runtime error in an included config file with a short name
--- config
    include ../html/short.conf;
--- user_files
>>> short.conf
location /t {
    content_by_lua_block {
        error("boom")
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
content_by_lua(../html/short.conf:2):2: boom



=== TEST 8: init_by_lua error stops the server
--- http_config
    init_by_lua_block {
        error("init failed")
    }
--- config
--- must_die
--- error_log eval
qr{init_by_lua error: init_by_lua\(nginx\.conf:\d+\):2: init failed}



=== TEST 9: init_by_lua_file that does not exist
--- http_config
    init_by_lua_file html/no_init.lua;
--- config
--- must_die
--- error_log eval
qr{init_by_lua_file error: cannot open .*?html/no_init\.lua}



=== TEST 10: writing a variable that is not defined
--- config
    location /t {
        content_by_lua_block {
            ngx.var.nosuch = "1"
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
variable "nosuch" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set $nosuch '';" in the config file to define it first



=== TEST 11: writing a variable that is not changeable
--- config
    location /t {
        content_by_lua_block {
            ngx.var.uri = "/x"
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
variable "uri" not changeable



=== TEST 12: bad variable names
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function() return ngx.var[1] end)
            ngx.say(ok, " ", err)
            ok, err = pcall(function() return ngx.var[true] end)
            ngx.say(ok, " ", err)
            ok, err = pcall(function() ngx.var[{}] = 1 end)
            ngx.say(ok, " ", err)
            ngx.say(tostring(ngx.var.nosuch_var))
        }
    }
--- request
GET /t
--- response_body_like chomp
\Atrue nil
false content_by_lua\(nginx\.conf:\d+\):4: bad variable name
false content_by_lua\(nginx\.conf:\d+\):6: bad variable name
nil
\z



=== TEST 13: writing a prefix variable: not found for writing
--- config
    location /t {
        content_by_lua_block {
            ngx.var.http_foo = "1"
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
variable "http_foo" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set $http_foo '';" in the config file to define it first



=== TEST 14: ngx.log in an included file: the source's base name, as lua-nginx-module cuts it
--- config
    include ../html/logging.conf;
--- user_files
>>> logging.conf
location /t {
    content_by_lua_block {
        ngx.log(ngx.WARN, "from include")
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_body
ok
--- error_log
[lua] logging.conf:2):2: from include



=== TEST 15: a config syntax error in an included file names that file
--- config
    include ../html/broken.conf;
--- user_files
>>> broken.conf
location /t {
    content_by_lua_block {
        ngx.say("x")
    }
}}
--- must_die
--- error_log eval
qr{\[emerg\] .*unexpected "\}" in .*html/broken\.conf:5}



=== TEST 16: an unknown directive in an included file names that file
--- config
    include ../html/unknown.conf;
--- user_files
>>> unknown.conf
location /t {
    no_such_directive on;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*unknown directive "no_such_directive" in .*html/unknown\.conf:2}
