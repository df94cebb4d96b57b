# proxy_pass (ngx_http_proxy_module): the URI sent upstream with and without
# a URI part, in prefix, regex and named locations, after rewrite ... break
# and with $args; the request line's version; proxy_set_header defaults
# (Host $proxy_host, Connection close, empty values), $proxy_host,
# $proxy_port, $proxy_add_x_forwarded_for; request bodies. The backend is a
# second server block of the same instance (port $TEST_NGINX_BACKEND_PORT)
# that echoes what it got. Passes against Debian's nginx too.
use Test::Nginx::Socket::Lua 'no_plan';
use Lunet::Proc qw(free_port);

$ENV{TEST_NGINX_BACKEND_PORT} = free_port();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", ($block->http_config // '') . q{
    server {
        listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
        location / {
            return 200 "$request_method $request_uri $server_protocol host=$http_host conn=$http_connection\n";
        }
        location /hdrs {
            content_by_lua_block {
                local h = ngx.req.get_headers()
                local keys = {}
                for k in pairs(h) do keys[#keys + 1] = k end
                table.sort(keys)
                for _, k in ipairs(keys) do ngx.say(k, ": ", h[k]) end
            }
        }
        location /body {
            content_by_lua_block {
                ngx.req.read_body()
                ngx.say(ngx.var.request_method, " ", ngx.var.http_content_length, " ",
                        ngx.var.http_transfer_encoding, " [", ngx.req.get_body_data(), "]")
            }
        }
    }
});
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no URI part: the request URI goes as the client sent it
--- config
    location /p/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /p/x/%41b/../c?a=1&b=%20
--- response_body
GET /p/x/%41b/../c?a=1&b=%20 HTTP/1.0 host=127.0.0.1:$TEST_NGINX_BACKEND_PORT conn=close



=== TEST 2: the URI part replaces the location's prefix
--- config
    location /p/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/back/;
    }
--- request
GET /p/a/b.html?x=1
--- response_body
GET /back/a/b.html?x=1 HTTP/1.0 host=127.0.0.1:$TEST_NGINX_BACKEND_PORT conn=close



=== TEST 3: URI part without a trailing slash, location without one
--- config
    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/back;
    }
--- request
GET /p/deep?q
--- response_body
GET /back/deep?q HTTP/1.0 host=127.0.0.1:$TEST_NGINX_BACKEND_PORT conn=close



=== TEST 4: with a URI part the normalised URI goes (decoded, escaped again)
--- config
    location /p/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/back/;
    }
--- request
GET /p/a%41/./c/../d%20e
--- response_body
GET /back/aA/d%20e HTTP/1.0 host=127.0.0.1:$TEST_NGINX_BACKEND_PORT conn=close



=== TEST 5: regex location without URI part: the original URI
--- config
    location ~ ^/r\d {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /r1/%7e?z=2
--- response_body
GET /r1/%7e?z=2 HTTP/1.0 host=127.0.0.1:$TEST_NGINX_BACKEND_PORT conn=close



=== TEST 6: rewrite ... break: the changed URI goes whole, URI part or not
--- config
    location /p/ {
        rewrite ^/p/(.*)$ /rewritten/$1 break;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/ignored/;
    }
--- request
GET /p/one?k=v
--- response_body
GET /rewritten/one?k=v HTTP/1.0 host=127.0.0.1:$TEST_NGINX_BACKEND_PORT conn=close



=== TEST 7: rewrite ... break without URI part
--- config
    location /p/ {
        rewrite ^/p/(.*)$ /re/$1?extra=1 break;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /p/one?k=v
--- response_body
GET /re/one?extra=1&k=v HTTP/1.0 host=127.0.0.1:$TEST_NGINX_BACKEND_PORT conn=close



=== TEST 8: $args changed by set, with a URI part
--- config
    location /p/ {
        set $args "n=1";
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/back/;
    }
--- request
GET /p/x?old=1
--- response_body
GET /back/x?n=1 HTTP/1.0 host=127.0.0.1:$TEST_NGINX_BACKEND_PORT conn=close



=== TEST 9: named location: no URI part, the request's URI
--- config
    location /t {
        try_files /nonexistent @px;
    }
    location @px {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /t?a=b
--- response_body
GET /t?a=b HTTP/1.0 host=127.0.0.1:$TEST_NGINX_BACKEND_PORT conn=close



=== TEST 10: proxy_pass with a URI part in a regex location fails to load
--- config
    location ~ /p {
        proxy_pass http://127.0.0.1:1/x;
    }
--- must_die
--- error_log
"proxy_pass" cannot have URI part in location given by regular expression, or inside named location, or inside "if" statement, or inside "limit_except" block



=== TEST 11: proxy_set_header: defaults, $proxy_host, $proxy_port, empty removes; hop-by-hop headers of the client stay behind
--- config
    location /p/ {
        proxy_set_header X-Host $proxy_host;
        proxy_set_header X-Port $proxy_port;
        proxy_set_header User-Agent "";
        proxy_set_header X-Empty "";
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/hdrs;
    }
--- request
GET /p/
--- more_headers
X-Client: yes
Keep-Alive: 300
TE: trailers
Upgrade: websocket
Expect: x-thing
--- response_body
connection: close
host: 127.0.0.1:$TEST_NGINX_BACKEND_PORT
x-client: yes
x-host: 127.0.0.1:$TEST_NGINX_BACKEND_PORT
x-port: $TEST_NGINX_BACKEND_PORT



=== TEST 12: proxy_set_header Host/Connection override the defaults; server-level ones are inherited; $proxy_add_x_forwarded_for
--- config
    proxy_set_header Host "example.com";
    location /p/ {
        proxy_set_header Connection "";
        proxy_set_header Host "other.example";
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/;
    }
    location /s/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/;
    }
--- pipelined_requests eval
["GET /p/", "GET /s/"]
--- more_headers
X-Forwarded-For: 192.0.2.1
--- response_body eval
["GET / HTTP/1.0 host=other.example conn=\n",
 "GET / HTTP/1.0 host=example.com conn=close\n"]



=== TEST 13: $proxy_add_x_forwarded_for appends the client address
--- config
    location /p/ {
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/hdrs;
    }
--- request
GET /p/
--- more_headers
X-Forwarded-For: 192.0.2.1
--- response_body
connection: close
host: 127.0.0.1:$TEST_NGINX_BACKEND_PORT
x-forwarded-for: 192.0.2.1, 127.0.0.1



=== TEST 14: proxy_http_version 1.1
--- config
    location /p/ {
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/;
    }
--- request
GET /p/
--- response_body
GET / HTTP/1.1 host=127.0.0.1:$TEST_NGINX_BACKEND_PORT conn=close



=== TEST 15: a sized request body goes with its Content-Length
--- config
    location /p/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/body;
    }
--- request
POST /p/
hello body
--- response_body
POST 10 nil [hello body]



=== TEST 16: a chunked request body goes sized
--- config
    location /p/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/body;
    }
--- raw_request eval
"PUT /p/ HTTP/1.1\r
Host: localhost\r
Transfer-Encoding: chunked\r
Connection: close\r
\r
5\r
hello\r
6\r
 world\r
0\r
\r
"
--- response_body
PUT 11 nil [hello world]



=== TEST 17: proxy_pass_request_headers off, proxy_pass_request_body off
--- config
    location /p/ {
        proxy_pass_request_headers off;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/body;
    }
--- request
POST /p/
body
--- more_headers
X-Client: yes
--- response_body
POST nil nil [nil]



=== TEST 18: proxy_pass http://NAME of an upstream block: Host is the name
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- config
    location /p/ {
        proxy_pass http://backend/;
    }
--- request
GET /p/z
--- response_body
GET /z HTTP/1.0 host=backend conn=close



=== TEST 19: an upstream defined after its use
--- config
    location /p/ {
        proxy_pass http://later;
    }
--- http_config
    upstream later {
        server 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request
GET /p/z
--- response_body
GET /p/z HTTP/1.0 host=later conn=close



=== TEST 20: port 80 is left out of $proxy_host
--- config
    location /p/ {
        proxy_set_header X-Host $proxy_host:$proxy_port;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/hdrs;
    }
    location /q/ {
        return 200 "$proxy_host|$proxy_port\n";
    }
--- request
GET /q/
--- response_body
|



=== TEST 21: proxy_method and proxy_set_body (with variables)
--- config
    location /p/ {
        proxy_method PUT;
        proxy_set_body "set body for $uri";
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/body;
    }
--- request
POST /p/x
client body
--- response_body
PUT 17 nil [set body for /p/x]



=== TEST 22: proxy_pass with variables: the URI part goes as evaluated; $proxy_host per request
--- config
    location /p/ {
        set $b 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
        proxy_pass http://$b/fixed$is_args$args;
    }
--- request
GET /p/whatever?x=1
--- response_body
GET /fixed?x=1 HTTP/1.0 host=127.0.0.1:$TEST_NGINX_BACKEND_PORT conn=close



=== TEST 23: proxy_pass with variables and no URI part: the request URI
--- config
    location /p/ {
        set $b 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
        proxy_pass http://$b;
    }
--- request
GET /p/a%20b?y=2
--- response_body
GET /p/a%20b?y=2 HTTP/1.0 host=127.0.0.1:$TEST_NGINX_BACKEND_PORT conn=close



=== TEST 24: a variable naming an upstream block
--- http_config
    upstream backend2 {
        server 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- config
    location /p/ {
        set $u backend2;
        proxy_pass http://$u/z;
    }
--- request
GET /p/
--- response_body
GET /z HTTP/1.0 host=backend2 conn=close
