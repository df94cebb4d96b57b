# Every worker sees the same dict: two workers write into it from
# init_worker_by_lua, requests read what both wrote. Passes against nginx.
use Test::Nginx::Socket::Lua 'no_plan';

master_on();
workers(2);
run_tests();

__DATA__

=== TEST 1: two workers count into one key and see each other's keys
--- http_config
    lua_shared_dict dogs 1m;
    init_worker_by_lua_block {
        local d = ngx.shared.dogs
        for i = 1, 1000 do d:incr("counter", 1, 0) end
        d:set("worker" .. ngx.worker.id(), "seen")
        d:rpush("joined", ngx.worker.id())
    }
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            -- both workers have run init_worker_by_lua before this answers
            for i = 1, 1000 do
                if d:get("worker0") and d:get("worker1") then break end
                ngx.sleep(0.01)
            end
            ngx.say(d:get("worker0"), " ", d:get("worker1"))
            ngx.say(d:get("counter"), " ", d:llen("joined"))
            local a, b = d:lpop("joined"), d:lpop("joined")
            ngx.say(a + b)
        }
    }
--- request
GET /t
--- response_body
seen seen
2000 2
1
--- no_error_log
[error]



=== TEST 2: writes from requests are seen by later requests (whichever worker)
--- http_config
    lua_shared_dict dogs 1m;
--- config
    location /write {
        content_by_lua_block {
            local d = ngx.shared.dogs
            local n = d:incr("hits", 1, 0)
            d:set("by" .. ngx.worker.id(), n)
            ngx.say(n)
        }
    }
    location /read {
        content_by_lua_block {
            local d = ngx.shared.dogs
            ngx.say(d:get("hits"), " ", (d:get("by0") or 0) + (d:get("by1") or 0) > 0)
        }
    }
--- pipelined_requests eval
["GET /write", "GET /write", "GET /write", "GET /read"]
--- response_body eval
["1\n", "2\n", "3\n", "3 true\n"]
--- no_error_log
[error]
