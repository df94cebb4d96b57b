# Lunet only (Debian's nginx has no echo module): ngx.location.capture of
# echo locations, and of a location whose echo_location issues subrequests
# of its own.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: capture an echo location
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/e", {args = "a=1"})
            ngx.say(res.status, " [", res.body, "] ", res.truncated)
        }
    }
    location /e { echo "echo $arg_a"; echo_sleep 0.01; echo done; }
--- request
GET /t
--- response_body
200 [echo 1
done
] false



=== TEST 2: capture a location that uses echo_location and echo_location_async
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/e")
            ngx.say(res.status, " [", res.body, "]")
        }
    }
    location /e {
        echo start;
        echo_location /sub1;
        echo_location_async /sub2;
        echo end;
    }
    location /sub1 { echo_sleep 0.01; echo one; }
    location /sub2 { content_by_lua_block { ngx.sleep(0.005) ngx.say("two ", ngx.is_subrequest) } }
--- request
GET /t
--- response_body
200 [start
one
two true
end
]



=== TEST 3: echo_location of a Lua location that captures
--- config
    location /t {
        echo_location /lua;
        echo after;
    }
    location /lua {
        content_by_lua_block {
            local a, b = ngx.location.capture_multi{{"/x", {args = "v=a"}}, {"/x", {args = "v=b"}}}
            ngx.say(a.body, b.body)
        }
    }
    location /x { echo_sleep 0.005; echo -n $arg_v; }
--- request
GET /t
--- response_body
ab
after
