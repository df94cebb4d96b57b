# Lunet's timer extensions (not in OpenResty, so Lunet only):
# ngx.timer.cancel, require "lunet.timer" (every with name / overlap = false
# / jitter, stats), lua_timer_overflow queue.
use Test::Nginx::Socket::Lua 'no_plan';

run_tests();

__DATA__

=== TEST 1: cancel a pending timer; a fired, cancelled or bogus handle is not found
--- config
    location /t {
        content_by_lua_block {
            local h = ngx.timer.at(10, function() ngx.log(ngx.ERR, "cancelled timer ran") end)
            ngx.say("pending: ", ngx.timer.pending_count())
            ngx.say("cancel: ", ngx.timer.cancel(h))
            ngx.say("pending: ", ngx.timer.pending_count())
            ngx.say("again: ", select(2, ngx.timer.cancel(h)))
            local fired = ngx.timer.at(0, function() end)
            ngx.sleep(0.01)
            ngx.say("fired: ", select(2, ngx.timer.cancel(fired)))
            ngx.say("bogus: ", select(2, ngx.timer.cancel(12345)), " ",
                    select(2, ngx.timer.cancel(-1)), " ", select(2, ngx.timer.cancel(1.5)))
            -- the slot is reused by the next timer: the old handle stays dead
            local h2 = ngx.timer.at(10, function() end)
            ngx.say("old handle: ", select(2, ngx.timer.cancel(h)), " new: ", ngx.timer.cancel(h2))
            ngx.say(pcall(ngx.timer.cancel, "x"))
        }
    }
--- request
GET /t
--- response_body
pending: 1
cancel: true
pending: 0
again: not found
fired: not found
bogus: not found not found not found
old handle: not found new: true
falsebad argument #1 to '?' (number expected, got string)
--- no_error_log
cancelled timer ran



=== TEST 2: cancel an every timer: its later runs stop
--- config
    location /t {
        content_by_lua_block {
            local runs = 0
            local h = ngx.timer.every(0.02, function() runs = runs + 1 end)
            ngx.sleep(0.07)
            local ok = ngx.timer.cancel(h)
            local seen = runs
            ngx.sleep(0.08)
            ngx.say(ok, " ", seen >= 2, " ", runs == seen, " ", ngx.timer.pending_count())
        }
    }
--- request
GET /t
--- response_body
true true true 0



=== TEST 3: lunet.timer.every with overlap = false skips ticks instead of overlapping
--- config
    location /t {
        content_by_lua_block {
            local timer = require "lunet.timer"
            local running, max, runs = 0, 0, 0
            local h, err = timer.every(0.03, function(premature)
                running = running + 1
                runs = runs + 1
                if running > max then max = running end
                ngx.sleep(0.08)
                running = running - 1
            end, { name = "slow", overlap = false })
            ngx.sleep(0.4)
            local st = timer.stats().timers.slow
            ngx.say("handle: ", h ~= nil, " max parallel: ", max, " runs: ", runs >= 2,
                    " skipped: ", st.skipped > 0)
            ngx.timer.cancel(h)
        }
    }
--- request
GET /t
--- response_body
handle: true max parallel: 1 runs: true skipped: true



=== TEST 4: lunet.timer.stats: runs, failures, last error, durations, next run
--- config
    location /t {
        content_by_lua_block {
            local timer = require "lunet.timer"
            local n = 0
            local h = timer.every(0.02, function()
                n = n + 1
                ngx.sleep(0.005)
                if n == 2 then error("second run fails") end
            end, { name = "job" })
            timer.every(100, function() end)  -- unnamed: not in stats
            ngx.sleep(0.11)
            local s = timer.stats()
            local j = s.timers.job
            ngx.say("runs>=3: ", j.runs >= 3, " failures: ", j.failures)
            ngx.say("last_error: ", j.last_error:match("second run fails") ~= nil)
            ngx.say("durations: ", j.last_duration >= 0.004, " ", j.max_duration >= j.avg_duration,
                    " ", j.avg_duration > 0)
            ngx.say("next_run_in: ", j.next_run_in <= 0.02, " next_run: ",
                    math.abs(j.next_run - ngx.now()) < 1, " interval: ", j.interval)
            ngx.say("active: ", j.active, " pending: ", s.pending, " dropped: ", s.dropped)
            local count = 0
            for _ in pairs(s.timers) do count = count + 1 end
            ngx.say("named: ", count)
            ngx.timer.cancel(h)
            ngx.say("after cancel: ", timer.stats().timers.job.active)
        }
    }
--- request
GET /t
--- response_body
runs>=3: true failures: 1
last_error: true
durations: true true true
next_run_in: true next_run: true interval: 0.02
active: true pending: 2 dropped: 0
named: 1
after cancel: false
--- error_log eval
qr/lua entry thread aborted: runtime error: .*second run fails/



=== TEST 5: lunet.timer.every arguments
--- config
    location /t {
        content_by_lua_block {
            local timer = require "lunet.timer"
            local f = function() end
            ngx.say(select(2, pcall(timer.every, 0, f)))
            ngx.say(select(2, pcall(timer.every, 1, "x")))
            ngx.say(select(2, pcall(timer.every, 1, f, { name = 1 })))
            ngx.say(select(2, pcall(timer.every, 1, f, { jitter = -1 })))
            ngx.say(select(2, pcall(timer.every, 1, f, { once_per_node = true })))
            ngx.say(select(2, pcall(timer.every, 1, f, { once_per_node = true, name = "x" })))
            ngx.say(select(2, pcall(timer.every, 1, f, { once_per_node = true, name = "x",
                                                         dict = "nope" })))
        }
    }
--- request
GET /t
--- response_body
bad argument #1 to '?' (interval must be > 0)
bad argument #2 to '?' (Lua function expected)
opts.name must be a string
opts.jitter must be a number >= 0
opts.once_per_node needs opts.name
opts.once_per_node needs opts.dict (a lua_shared_dict name)
opts.dict: no lua_shared_dict named "nope"



=== TEST 6: jitter spreads the first run within [interval, interval + jitter)
--- config
    location /t {
        content_by_lua_block {
            local timer = require "lunet.timer"
            local t0 = ngx.now()
            local first
            local h = timer.every(0.01, function()
                if not first then ngx.update_time() first = ngx.now() - t0 end
            end, { jitter = 0.1 })
            ngx.sleep(0.2)
            ngx.timer.cancel(h)
            ngx.say(first ~= nil and first >= 0.005 and first < 0.15)
        }
    }
--- request
GET /t
--- response_body
true



=== TEST 7: lua_timer_overflow queue: runs over the running limit wait instead of being dropped
--- http_config
    lua_max_running_timers 2;
    lua_timer_overflow queue;
--- config
    location /t {
        content_by_lua_block {
            local done, max = 0, 0
            for i = 1, 6 do
                ngx.timer.at(0, function()
                    local n = ngx.timer.running_count()
                    if n > max then max = n end
                    ngx.sleep(0.02)
                    done = done + 1
                end)
            end
            ngx.sleep(0.01)
            local queued = ngx.timer.pending_count()
            ngx.sleep(0.2)
            ngx.say("done: ", done, " max running: ", max, " queued seen: ", queued)
        }
    }
--- request
GET /t
--- response_body
done: 6 max running: 2 queued seen: 4
--- no_error_log
lua_max_running_timers are not enough



=== TEST 8: lua_timer_overflow takes drop or queue
--- http_config
    lua_timer_overflow sometimes;
--- config
--- must_die
--- error_log
invalid value "sometimes" in "lua_timer_overflow" directive, it must be "drop" or "queue"



=== TEST 9: an every timer running for a long time grows nothing
--- config
    location /t {
        content_by_lua_block {
            local runs = 0
            local h = ngx.timer.every(0.001, function() runs = runs + 1 end)
            ngx.sleep(0.05)
            collectgarbage()
            local before = collectgarbage("count")
            ngx.sleep(0.3)
            collectgarbage()
            local after = collectgarbage("count")
            ngx.timer.cancel(h)
            ngx.say(runs > 50, " ", after - before < 16)
        }
    }
--- request
GET /t
--- response_body
true true
