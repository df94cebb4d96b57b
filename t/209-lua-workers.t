# init_worker_by_lua / exit_worker_by_lua with a master and workers.
use Test::Nginx::Socket::Lua 'no_plan';

master_on();
workers(2);
run_tests();

__DATA__

=== TEST 1: init_worker_by_lua runs in every worker, after init_by_lua
--- http_config
    lua_shared_dict started 1m;
    init_by_lua_block { package.loaded.from_init = "init" }
    init_worker_by_lua_block {
        ngx.log(ngx.WARN, "init_worker: ", package.loaded.from_init, " id=", ngx.worker.id(),
                " count=", ngx.worker.count())
        ngx.shared.started:incr("n", 1, 0)
    }
--- config
    location /t {
        content_by_lua_block {
            -- The server is ready once it listens, which may be before the
            -- second worker has run init_worker: wait (bounded) until both
            -- have counted themselves, so the log check below sees both.
            local dict = ngx.shared.started
            for _ = 1, 500 do
                if dict:get("n") == 2 then break end
                ngx.sleep(0.01)
            end
            ngx.say(package.loaded.from_init, " ", ngx.worker.count(), " ", ngx.worker.id() < 2,
                    " ", dict:get("n"))
        }
    }
--- request
GET /t
--- response_body
init 2 true 2
--- grep_error_log eval: qr/init_worker: init id=\d count=2/
--- grep_error_log_out eval
qr/init_worker: init id=[01] count=2\ninit_worker: init id=[01] count=2\n/



=== TEST 2: exit_worker_by_lua runs when workers exit
--- http_config
    exit_worker_by_lua_block {
        ngx.log(ngx.WARN, "exit_worker phase: ", ngx.get_phase())
    }
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
    }
--- request
GET /t
--- response_body
ok
--- shutdown_error_log
exit_worker phase: exit_worker
