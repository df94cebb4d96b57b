# Every worker sees the same dict: two workers write into it from
# init_worker_by_lua and from timers, requests read and write what both wrote.
# Passes against nginx.
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



=== TEST 3: a timer in each worker and a request update the same keys at once
Each worker's periodic timer adds to a shared total and to its own count; a
request adds to the total too, between sleeps. Once both timers ran at least
50 times, the request stops them and the total must be the exact sum.
--- http_config
    lua_shared_dict dogs 1m;
    init_worker_by_lua_block {
        local d = ngx.shared.dogs
        local id = ngx.worker.id()
        ngx.timer.every(0.005, function(premature)
            if premature or d:get("stopped" .. id) then return end
            if d:get("stop") then
                d:set("stopped" .. id, true)
                return
            end
            d:incr("total", 1, 0)
            d:incr("w" .. id, 1, 0)
            local v = d:get("last")
            d:set("last", (v or 0) + 1)  -- read-modify-write that may race: not counted
        end)
    }
--- config
    location /t {
        content_by_lua_block {
            local d = ngx.shared.dogs
            local mine = 0
            for i = 1, 100000 do  -- bounded: at most 5000 sleeps of 1 ms
                d:incr("total", 1, 0)
                mine = mine + 1
                if i % 20 == 0 then ngx.sleep(0.001) end
                if (d:get("w0") or 0) >= 50 and (d:get("w1") or 0) >= 50 and i >= 200 then
                    break
                end
            end
            d:set("stop", true)
            for i = 1, 2000 do
                if d:get("stopped0") and d:get("stopped1") then break end
                ngx.sleep(0.005)
            end
            local w0, w1 = d:get("w0") or 0, d:get("w1") or 0
            ngx.say("both stopped: ", tostring(d:get("stopped0") and d:get("stopped1")))
            ngx.say("both ran 50+: ", tostring(w0 >= 50 and w1 >= 50))
            ngx.say("sum holds: ", tostring(d:get("total") == w0 + w1 + mine))
        }
    }
--- request
GET /t
--- response_body
both stopped: true
both ran 50+: true
sum holds: true
--- no_error_log
[error]
--- timeout: 20
