# Acceptance: a Redis client written the way lua-resty-redis is
# (t/lib/lua/lunet_redis.lua: nested-table sends, receive("*l") / (n),
# pipelines, keepalive) against a real redis-server started by this file.
# Passes against nginx + lua-nginx-module too.
use Test::Nginx::Socket::Lua 'no_plan';
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Lunet::TestServer qw(redis_server);

$ENV{TEST_NGINX_REDIS_PORT} = redis_server();
$ENV{TEST_NGINX_LUA_LIB} = abs_path(dirname(__FILE__) . "/lib/lua");

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", 'lua_package_path "$TEST_NGINX_LUA_LIB/?.lua;;";'
                      . ($block->http_config // ''));
});

worker_connections(1024);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: set, get, incr, a missing key, an error reply
--- config
    location /t {
        content_by_lua_block {
            local redis = require "lunet_redis"
            local red = redis.new()
            red:set_timeout(1000)
            assert(red:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT))
            ngx.say("set: ", red:set("dog", "an animal"))
            ngx.say("get: ", red:get("dog"))
            ngx.say("missing: ", red:get("no-such-key") == ngx.null)
            red:del("n")
            ngx.say("incr: ", red:incr("n"), " ", red:incr("n"))
            ngx.say("error: ", select(2, red:incr("dog")))
            ngx.say("lists: ", red:rpush("l", "a", "b", "c"))
            ngx.say("lrange: ", table.concat(red:lrange("l", 0, -1), ","))
            red:del("l")
            red:close()
        }
    }
--- request
GET /t
--- response_body
set: OK
get: an animal
missing: true
incr: 1 2
error: ERR value is not an integer or out of range
lists: 3
lrange: a,b,c
--- no_error_log
[error]



=== TEST 2: a pipeline sent as one nested table
--- config
    location /t {
        content_by_lua_block {
            local redis = require "lunet_redis"
            local red = redis.new()
            assert(red:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT))
            red:init_pipeline()
            red:set("cat", "Marry")
            red:set("horse", "Bob")
            red:get("cat")
            red:get("horse")
            red:get("nothing")
            local res = assert(red:commit_pipeline())
            for i, v in ipairs(res) do
                ngx.say(i, ": ", v == ngx.null and "null" or v)
            end
        }
    }
--- request
GET /t
--- response_body
1: OK
2: OK
3: Marry
4: Bob
5: null
--- no_error_log
[error]



=== TEST 3: keepalive: the same connection serves later requests
--- config
    location /t {
        content_by_lua_block {
            local redis = require "lunet_redis"
            local red = redis.new()
            assert(red:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT))
            local times = red:get_reused_times()
            assert(red:set("visits", "x"))
            assert(red:set_keepalive(10000, 10))
            ngx.say(times > 0 and "reused" or "new")
        }
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_body eval
["new\n", "reused\n", "reused\n"]
--- no_error_log
[error]



=== TEST 4: 1 MiB value in and out
--- config
    location /t {
        content_by_lua_block {
            local redis = require "lunet_redis"
            local red = redis.new()
            red:set_timeout(5000)
            assert(red:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT))
            local big = string.rep("0123456789abcdef", 65536)
            ngx.say(red:set("big", big))
            local got = red:get("big")
            ngx.say(#got, " ", got == big)
            red:del("big")
            red:set_keepalive()
        }
    }
--- request
GET /t
--- response_body
OK
1048576 true
--- no_error_log
[error]



=== TEST 5: 100 timers on a pool of 10 (backlog queue), all answered
--- config
    location /t {
        content_by_lua_block {
            local redis = require "lunet_redis"
            local n, ok_count, bad = 100, 0, 0
            local opts = {pool = "redis-bl", pool_size = 10, backlog = 100}
            local function job(premature, i)
                local red = redis.new()
                red:set_timeout(5000)
                local ok, err = red:connect("127.0.0.1", $TEST_NGINX_REDIS_PORT, opts)
                if not ok then bad = bad + 1 ngx.log(ngx.ERR, "connect: ", err) return end
                red:set("k" .. i, i)
                if red:get("k" .. i) == tostring(i) then ok_count = ok_count + 1 end
                red:del("k" .. i)
                red:set_keepalive(10000, 10)
            end
            for i = 1, n do ngx.timer.at(0, job, i) end
            for _ = 1, 500 do
                if ok_count + bad >= n then break end
                ngx.sleep(0.01)
            end
            ngx.say(ok_count, " ok, ", bad, " failed")
        }
    }
--- request
GET /t
--- timeout: 10
--- response_body
100 ok, 0 failed
--- no_error_log
[error]
