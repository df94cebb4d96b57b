# balancer_by_lua_block with require "ngx.balancer": set_current_peer,
# set_more_tries (and its limit), get_last_failure after each kind of
# failure (the acceptance table of issue 17: 403/404 -> next, 5xx/429 and a
# refused connection -> failed), set_timeouts, errors outside the balancer.
# Passes against Debian's nginx + lua-nginx-module too.
use Test::Nginx::Socket::Lua 'no_plan';
use Lunet::Backend qw(backend);
use Lunet::Proc qw(free_port);

$ENV{TEST_NGINX_A_PORT} = backend(name => 'A');
$ENV{TEST_NGINX_B_PORT} = backend(name => 'B');
$ENV{TEST_NGINX_CLOSED_PORT} = free_port();

add_block_preprocessor(sub {
    my $block = shift;
    return if defined $block->http_config;
    $block->set_value("http_config", q{
    upstream b {
        server 0.0.0.1;
        balancer_by_lua_block {
            local balancer = require "ngx.balancer"
            local state, code = balancer.get_last_failure()
            ngx.log(ngx.WARN, "last failure: ", state, " ", code)
            local first = ngx.var.arg_first or "A"
            local port
            if not state then
                assert(balancer.set_more_tries(1))
                port = first == "closed" and $TEST_NGINX_CLOSED_PORT or $TEST_NGINX_A_PORT
            else
                port = $TEST_NGINX_B_PORT
            end
            assert(balancer.set_current_peer("127.0.0.1", port))
        }
    }
});
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the acceptance table: 403 and 404 report "next", 5xx and 429 "failed"
--- config
    location /p/ {
        proxy_next_upstream error timeout http_500 http_502 http_503 http_504 http_403 http_404 http_429 non_idempotent;
        proxy_pass http://b/;
    }
--- pipelined_requests eval
["GET /p/code/403", "GET /p/code/404", "GET /p/code/500", "GET /p/code/502", "GET /p/code/503", "GET /p/code/504", "GET /p/code/429"]
--- error_code eval
[403, 404, 500, 502, 503, 504, 429]
--- response_body eval
["code 403 from B\n", "code 404 from B\n", "code 500 from B\n", "code 502 from B\n",
 "code 503 from B\n", "code 504 from B\n", "code 429 from B\n"]
--- grep_error_log eval: qr/last failure: \w+ \d*/
--- grep_error_log_out
last failure: nil 
last failure: next 403
last failure: nil 
last failure: next 404
last failure: nil 
last failure: failed 500
last failure: nil 
last failure: failed 502
last failure: nil 
last failure: failed 503
last failure: nil 
last failure: failed 504
last failure: nil 
last failure: failed 429



=== TEST 2: a refused connection reports "failed" 502, and the next peer answers
--- config
    location /p/ {
        proxy_pass http://b/;
    }
--- request
GET /p/id?first=closed
--- response_body
B
--- grep_error_log eval: qr/last failure: \w+ \d*/
--- grep_error_log_out
last failure: nil 
last failure: failed 502
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 3: set_more_tries beyond proxy_next_upstream_tries is reduced
--- http_config
    upstream b {
        server 0.0.0.1;
        balancer_by_lua_block {
            local balancer = require "ngx.balancer"
            local ok, err = balancer.set_more_tries(5)
            ngx.log(ngx.WARN, "more tries: ", ok, " ", err)
            assert(balancer.set_current_peer("127.0.0.1", $TEST_NGINX_CLOSED_PORT))
        }
    }
--- config
    location /p/ {
        proxy_next_upstream_tries 3;
        proxy_pass http://b/;
    }
--- request
GET /p/id
--- error_code: 502
--- grep_error_log eval: qr/more tries: .*?limit|connect\(\) failed/
--- grep_error_log_out
more tries: true reduced tries due to limit
connect() failed
more tries: true reduced tries due to limit
connect() failed
more tries: true reduced tries due to limit
connect() failed



=== TEST 4: set_current_peer with a host name is refused; set_timeouts
--- http_config
    upstream b {
        server 0.0.0.1;
        balancer_by_lua_block {
            local balancer = require "ngx.balancer"
            ngx.log(ngx.WARN, "name: ", select(2, balancer.set_current_peer("localhost", 80)))
            assert(balancer.set_timeouts(1, 1, 0.1))
            assert(balancer.set_current_peer("127.0.0.1", $TEST_NGINX_A_PORT))
        }
    }
--- config
    location /p/ {
        proxy_pass http://b/;
    }
--- request
GET /p/delay/1000
--- error_code: 504
--- error_log
name: no host allowed
upstream timed out (110: Connection timed out) while reading response header from upstream



=== TEST 5: ngx.balancer outside balancer_by_lua
--- http_config
--- config
    location /t {
        content_by_lua_block {
            local balancer = require "ngx.balancer"
            ngx.say(balancer.set_current_peer("127.0.0.1", 80))
            ngx.say(balancer.get_last_failure())
        }
    }
--- request
GET /t
--- response_body
nilno upstream found
nilnilno upstream found



=== TEST 6: in the balancer: ngx.get_phase(), ngx.ctx from access, ngx.var; a Lua error is a 500
--- http_config
    upstream b {
        server 0.0.0.1;
        balancer_by_lua_block {
            local balancer = require "ngx.balancer"
            ngx.log(ngx.WARN, "phase: ", ngx.get_phase(), " ctx: ", ngx.ctx.from_access,
                    " uri: ", ngx.var.uri)
            if ngx.var.arg_fail then
                error("balancer failed on purpose")
            end
            assert(balancer.set_current_peer("127.0.0.1", $TEST_NGINX_A_PORT))
        }
    }
--- config
    location /p/ {
        access_by_lua_block { ngx.ctx.from_access = "yes" }
        proxy_pass http://b/;
    }
--- pipelined_requests eval
["GET /p/id", "GET /p/id?fail=1"]
--- error_code eval
[200, 500]
--- error_log
phase: balancer ctx: yes uri: /p/id
balancer failed on purpose
