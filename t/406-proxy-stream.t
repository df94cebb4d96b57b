# Streaming through the proxy with bounded memory: a 100 MiB response
# passes while the worker's peak RSS stays small; a client that goes away
# mid-stream leaves the worker serving. The backend is a second server
# block of the same instance serving a sparse 100 MiB file. Passes against
# Debian's nginx too.
use Test::Nginx::Socket::Lua 'no_plan';
use Lunet::Proc qw(free_port);

my $dir = "/tmp/lunet-t406-$$";
mkdir $dir;
open my $fh, '>', "$dir/big.bin" or die "big.bin: $!";
truncate $fh, 100 * 1024 * 1024 or die "truncate: $!";
close $fh;
END { unlink "$dir/big.bin"; rmdir $dir; }
$ENV{TEST_NGINX_BIG_DIR} = $dir;
$ENV{TEST_NGINX_BACKEND_PORT} = free_port();
# Under AddressSanitizer freed blocks wait in a quarantine (256 MiB by
# default), which would count as the worker's RSS: keep it small here.
$ENV{ASAN_OPTIONS} = join(':', grep { defined && length } $ENV{ASAN_OPTIONS},
                          'quarantine_size_mb=4');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", q{
    server {
        listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
        location / {
            root $TEST_NGINX_BIG_DIR;
        }
    }
});
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: 100 MiB through the proxy to the client; the worker's peak RSS stays under 64 MiB
--- config
    location /p/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/;
    }
    location /rss {
        content_by_lua_block {
            local f = io.open("/proc/self/status")
            local hwm = tonumber(f:read("*a"):match("VmHWM:%s+(%d+)"))
            f:close()
            ngx.say(hwm < 64 * 1024 and "bounded" or ("peak RSS " .. hwm .. " kB"))
        }
    }
--- pipelined_requests eval
["GET /p/big.bin", "GET /rss"]
--- response_body eval
["\0" x (100 * 1024 * 1024), "bounded\n"]
--- timeout: 30



=== TEST 2: a client that goes away mid-stream: the next request is served
--- config
    location /p/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/;
    }
    location /t {
        content_by_lua_block {
            local port = tonumber(ngx.var.server_port)
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", port))
            assert(sock:send("GET /p/big.bin HTTP/1.0\r\nHost: x\r\n\r\n"))
            assert(sock:receive(1024 * 1024))
            sock:close()
            ngx.sleep(0.1)
            local s2 = ngx.socket.tcp()
            assert(s2:connect("127.0.0.1", port))
            assert(s2:send("HEAD /p/big.bin HTTP/1.0\r\nHost: x\r\n\r\n"))
            ngx.say(s2:receive("*l"))
            s2:close()
        }
    }
--- request
GET /t
--- response_body
HTTP/1.1 200 OK
--- no_error_log
[alert]
[crit]
