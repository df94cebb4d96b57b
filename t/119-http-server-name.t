# server_name precedence, as nginx: exact name, then the longest wildcard
# starting with "*", then the longest wildcard ending with "*", then the
# first matching regex in config order, else the default server.
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an exact name beats wildcards and regexes
--- http_config
    server { listen $TEST_NGINX_SERVER_PORT; server_name ~^www\.example\.com$; return 200 "regex"; }
    server { listen $TEST_NGINX_SERVER_PORT; server_name www.example.*; return 200 "trailing"; }
    server { listen $TEST_NGINX_SERVER_PORT; server_name *.example.com; return 200 "leading"; }
    server { listen $TEST_NGINX_SERVER_PORT; server_name www.example.com; return 200 "exact"; }
--- config
--- request
GET /
--- more_headers
Host: www.example.com
--- response_body chomp
exact



=== TEST 2: a leading wildcard beats a trailing one and a regex
--- http_config
    server { listen $TEST_NGINX_SERVER_PORT; server_name ~^www\.a\.test$; return 200 "regex"; }
    server { listen $TEST_NGINX_SERVER_PORT; server_name www.a.*; return 200 "trailing"; }
    server { listen $TEST_NGINX_SERVER_PORT; server_name *.a.test; return 200 "leading"; }
--- config
--- request
GET /
--- more_headers
Host: www.a.test
--- response_body chomp
leading



=== TEST 3: the longest leading wildcard wins
--- http_config
    server { listen $TEST_NGINX_SERVER_PORT; server_name *.example.org; return 200 "short"; }
    server { listen $TEST_NGINX_SERVER_PORT; server_name *.sub.example.org; return 200 "long"; }
--- config
--- request
GET /
--- more_headers
Host: x.sub.example.org
--- response_body chomp
long



=== TEST 4: a trailing wildcard beats a regex
--- http_config
    server { listen $TEST_NGINX_SERVER_PORT; server_name ~^www\.b\.; return 200 "regex"; }
    server { listen $TEST_NGINX_SERVER_PORT; server_name www.b.*; return 200 "trailing"; }
--- config
--- request
GET /
--- more_headers
Host: www.b.test
--- response_body chomp
trailing



=== TEST 5: the first matching regex in config order wins
--- http_config
    server { listen $TEST_NGINX_SERVER_PORT; server_name ~^c\d+\.test$; return 200 "first"; }
    server { listen $TEST_NGINX_SERVER_PORT; server_name ~^c1\.test$; return 200 "second"; }
--- config
--- request
GET /
--- more_headers
Host: c1.test
--- response_body chomp
first



=== TEST 6: no match goes to the default_server
--- http_config
    server { listen $TEST_NGINX_SERVER_PORT; server_name one.test; return 200 "one"; }
    server { listen $TEST_NGINX_SERVER_PORT default_server; server_name two.test; return 200 "default"; }
--- config
--- request
GET /
--- more_headers
Host: nowhere.test
--- response_body chomp
default



=== TEST 7: without default_server the first server of the port is the default
--- http_config
    server { listen $TEST_NGINX_SERVER_PORT; server_name first.test; return 200 "first"; }
    server { listen $TEST_NGINX_SERVER_PORT; server_name second.test; return 200 "second"; }
--- config
--- request
GET /
--- more_headers
Host: nowhere.test
--- response_body chomp
first



=== TEST 8: names match case-insensitively and ignore the port in Host
--- http_config
    server { listen $TEST_NGINX_SERVER_PORT; server_name other.test; return 200 "other"; }
    server { listen $TEST_NGINX_SERVER_PORT; server_name mixed.test; return 200 "mixed"; }
--- config
--- request
GET /
--- more_headers
Host: MiXeD.TeSt:1234
--- response_body chomp
mixed
