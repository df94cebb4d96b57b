# geo (ngx_http_geo_module): networks (longest match), ranges, default,
# delete, include, proxy + proxy_recursive.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the client address by default
--- http_config
    geo $g {
        default      other;
        127.0.0.0/8  loopback;
    }
--- config
    location /t {
        return 200 "$g\n";
    }
--- request
GET /t
--- response_body
loopback



=== TEST 2: longest network wins; an address from a variable
--- http_config
    geo $arg_ip $g {
        default           none;
        10.0.0.0/8        ten;
        10.1.0.0/16       ten-one;
        10.1.2.3          host;
        192.168.0.0/16    lan;
        2001:db8::/32     doc6;
        2001:db8:1::/48   doc6-1;
    }
--- config
    location /t {
        return 200 "$g\n";
    }
--- pipelined_requests eval
["GET /t?ip=10.9.9.9", "GET /t?ip=10.1.9.9", "GET /t?ip=10.1.2.3", "GET /t?ip=192.168.7.1",
 "GET /t?ip=8.8.8.8", "GET /t?ip=2001:db8:5::1", "GET /t?ip=2001:db8:1::9", "GET /t?ip=::1",
 "GET /t?ip=::ffff:10.1.2.3"]
--- response_body eval
["ten\n", "ten-one\n", "host\n", "lan\n", "none\n", "doc6\n", "doc6-1\n", "none\n", "host\n"]



=== TEST 3: an address that does not parse is looked up as 255.255.255.255
--- http_config
    geo $arg_ip $g {
        default             none;
        255.255.255.255     bad;
    }
--- config
    location /t {
        return 200 "$g\n";
    }
--- pipelined_requests eval
["GET /t?ip=junk", "GET /t?ip=1.2.3.4", "GET /t?ip=255.255.255.255"]
--- response_body eval
["bad\n", "none\n", "bad\n"]



=== TEST 4: 255.255.255.255 is taken bare only (nginx's inet_addr quirk)
--- http_config
    geo $g {
        255.255.255.255/32  x;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid network "255\.255\.255\.255\/32"/



=== TEST 5: without default the value is empty
--- http_config
    geo $arg_ip $g {
        10.0.0.0/8  ten;
    }
--- config
    location /t {
        return 200 "[$g]\n";
    }
--- request
GET /t?ip=11.0.0.1
--- response_body
[]



=== TEST 6: delete removes a network, later lines override earlier ones
--- http_config
    geo $arg_ip $g {
        default       none;
        10.0.0.0/8    ten;
        10.2.0.0/16   two;
        delete        10.2.0.0/16;
        10.3.0.0/16   first;
        10.3.0.0/16   second;
    }
--- config
    location /t {
        return 200 "$g\n";
    }
--- pipelined_requests eval
["GET /t?ip=10.2.0.1", "GET /t?ip=10.3.0.1"]
--- response_body eval
["ten\n", "second\n"]



=== TEST 7: ranges
--- http_config
    geo $arg_ip $g {
        ranges;
        default                  none;
        10.0.0.0-10.0.0.255      a;
        10.0.1.0-10.0.1.9        b;
        192.168.1.1-192.168.1.1  one;
    }
--- config
    location /t {
        return 200 "$g\n";
    }
--- pipelined_requests eval
["GET /t?ip=10.0.0.77", "GET /t?ip=10.0.1.9", "GET /t?ip=10.0.1.10", "GET /t?ip=192.168.1.1",
 "GET /t?ip=192.168.1.2"]
--- response_body eval
["a\n", "b\n", "none\n", "one\n", "none\n"]



=== TEST 8: ranges must come first
--- http_config
    geo $g {
        10.0.0.0/8  x;
        ranges;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*the "ranges" directive must be the first directive inside "geo" block/



=== TEST 9: include
--- http_config
    geo $arg_ip $g {
        default  none;
        include  geo_nets.conf;
    }
--- user_files
>>> ../conf/geo_nets.conf
10.0.0.0/8     ten;
172.16.0.0/12  private;
--- config
    location /t {
        return 200 "$g\n";
    }
--- pipelined_requests eval
["GET /t?ip=172.20.1.1", "GET /t?ip=10.0.0.1", "GET /t?ip=1.1.1.1"]
--- response_body eval
["private\n", "ten\n", "none\n"]



=== TEST 10: a trusted proxy: the last X-Forwarded-For address counts
--- http_config
    geo $g {
        default      none;
        proxy        127.0.0.1;
        10.0.0.0/8   ten;
        192.168.0.0/16  lan;
    }
--- config
    location /t {
        return 200 "$g\n";
    }
--- request
GET /t
--- more_headers
X-Forwarded-For: 10.0.0.5, 192.168.3.3
--- response_body
lan



=== TEST 11: proxy_recursive walks left past trusted proxies
--- http_config
    geo $g {
        default         none;
        proxy           127.0.0.1;
        proxy           192.168.0.0/16;
        proxy_recursive;
        10.0.0.0/8      ten;
        192.168.0.0/16  lan;
    }
--- config
    location /t {
        return 200 "$g\n";
    }
--- request
GET /t
--- more_headers
X-Forwarded-For: 10.0.0.5, 192.168.3.3
--- response_body
ten



=== TEST 12: an untrusted client's X-Forwarded-For is ignored
--- http_config
    geo $g {
        default      none;
        proxy        10.0.0.1;
        127.0.0.0/8  loopback;
        10.0.0.0/8   ten;
    }
--- config
    location /t {
        return 200 "$g\n";
    }
--- request
GET /t
--- more_headers
X-Forwarded-For: 10.0.0.5
--- response_body
loopback



=== TEST 13: an invalid network fails the load
--- http_config
    geo $g {
        10.0.0.300/8  x;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid network "10\.0\.0\.300\/8"/



=== TEST 14: an invalid range fails the load
--- http_config
    geo $g {
        ranges;
        10.0.0.9-10.0.0.1  x;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid range "10\.0\.0\.9-10\.0\.0\.1"/



=== TEST 15: a geo allow-list used with if
--- http_config
    geo $allowed {
        default      0;
        127.0.0.1    1;
    }
--- config
    location /t {
        if ($allowed = 0) { return 403; }
        return 200 "welcome\n";
    }
--- request
GET /t
--- response_body
welcome
