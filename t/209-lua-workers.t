# init_worker_by_lua / exit_worker_by_lua with a master and workers.
use Test::Nginx::Socket::Lua 'no_plan';

master_on();
workers(2);
run_tests();

__DATA__

=== TEST 1: init_worker_by_lua runs in every worker, after init_by_lua
--- http_config
    init_by_lua_block { package.loaded.from_init = "init" }
    init_worker_by_lua_block {
        ngx.log(ngx.WARN, "init_worker: ", package.loaded.from_init, " id=", ngx.worker.id(),
                " count=", ngx.worker.count())
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say(package.loaded.from_init, " ", ngx.worker.count(), " ", ngx.worker.id() < 2)
        }
    }
--- request
GET /t
--- response_body
init 2 true
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
