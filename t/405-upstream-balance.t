# The balancing methods of upstream {}: ip_hash and hash KEY (nginx's exact
# hash functions, so a key lands where nginx puts it), least_conn (a busy
# peer is avoided), random (only live peers). Backends from
# t/lib/Lunet/Backend.pm. Passes against Debian's nginx too.
use Test::Nginx::Socket::Lua 'no_plan';
use Lunet::Backend qw(backend);

$ENV{TEST_NGINX_A_PORT} = backend(name => 'A');
$ENV{TEST_NGINX_B_PORT} = backend(name => 'B');
$ENV{TEST_NGINX_C_PORT} = backend(name => 'C');

no_shuffle();
run_tests();

__DATA__

=== TEST 1: ip_hash: 127.0.0.1 always lands on the same peer (nginx's hash picks C of A B C)
--- http_config
    upstream u {
        ip_hash;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT;
    }
--- config
    location /p/ {
        proxy_pass http://u/;
    }
--- pipelined_requests eval
["GET /p/id", "GET /p/id", "GET /p/id", "GET /p/id"]
--- response_body eval
["C\n", "C\n", "C\n", "C\n"]



=== TEST 2: ip_hash with that peer down: the rehash picks another, always the same
--- http_config
    upstream u {
        ip_hash;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT down;
    }
--- config
    location /p/ {
        proxy_pass http://u/;
    }
--- pipelined_requests eval
["GET /p/id", "GET /p/id", "GET /p/id"]
--- response_body eval
["B\n", "B\n", "B\n"]



=== TEST 3: hash $arg_k: each key has its peer (where nginx puts it)
--- http_config
    upstream u {
        hash $arg_k;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT weight=2;
    }
--- config
    location /p/ {
        proxy_pass http://u/;
    }
--- pipelined_requests eval
["GET /p/id?k=1", "GET /p/id?k=2", "GET /p/id?k=3", "GET /p/id?k=4", "GET /p/id?k=5", "GET /p/id?k=6", "GET /p/id?k=apple", "GET /p/id?k=1"]
--- response_body eval
["A\n", "B\n", "C\n", "C\n", "B\n", "A\n", "C\n", "A\n"]



=== TEST 4: least_conn: while a slow request holds the heavy peer, the next goes to the other (round robin would send both to A)
--- http_config
    upstream u {
        least_conn;
        server 127.0.0.1:$TEST_NGINX_A_PORT weight=10;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /p/ {
        proxy_pass http://u/;
    }
    location /t {
        content_by_lua_block {
            local port = tonumber(ngx.var.server_port)
            local function get(path)
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", port))
                assert(sock:send("GET " .. path .. " HTTP/1.0\r\nHost: x\r\n\r\n"))
                local body = sock:receive("*a")
                sock:close()
                return body:match("\r\n\r\n(.*)$")
            end
            local slow
            ngx.timer.at(0, function() slow = get("/p/delayid/300") end)
            ngx.sleep(0.1)
            local fast = get("/p/id")
            for _ = 1, 100 do
                if slow then break end
                ngx.sleep(0.02)
            end
            ngx.say(slow ~= fast and "different peers" or "same peer: " .. fast)
        }
    }
--- request
GET /t
--- response_body
different peers



=== TEST 5: random: only live peers
--- http_config
    upstream u {
        random two least_conn;
        server 127.0.0.1:$TEST_NGINX_A_PORT down;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /p/ {
        proxy_pass http://u/;
    }
--- pipelined_requests eval
["GET /p/id", "GET /p/id", "GET /p/id", "GET /p/id"]
--- response_body eval
["B\n", "B\n", "B\n", "B\n"]
