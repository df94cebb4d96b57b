# valid_referers / $invalid_referer (ngx_http_referer_module).
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__
=== TEST 1: no Referer with none
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- response_body
[]


=== TEST 2: a Referer without a scheme is blocked-valid
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: example.com/x
--- response_body
[]


=== TEST 3: a short Referer counts as blocked
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: http://a.b
--- response_body
[]


=== TEST 4: the server's own name (server_names)
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: http://localhost/page
--- response_body
[]


=== TEST 5: a subdomain of *.example.com
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: http://img.example.com/a.png
--- response_body
[]


=== TEST 6: *.example.com does not cover example.com
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: http://example.com/
--- response_body
[1]


=== TEST 7: .example.net covers the name itself
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: https://example.net/
--- response_body
[]


=== TEST 8: .example.net covers subdomains
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: https://a.b.example.net:8080/x
--- response_body
[]


=== TEST 9: a tail wildcard
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: http://www.shop.de/cart
--- response_body
[]


=== TEST 10: a host with a uri prefix, matching
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: http://example.org/galleries/cats
--- response_body
[]


=== TEST 11: a host with a uri prefix, other uri
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: http://example.org/other/
--- response_body
[1]


=== TEST 12: a regex over host and uri, case-insensitive
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: http://www.GOOGLE.com/search
--- response_body
[]


=== TEST 13: an unknown site
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: http://evil.test/
--- response_body
[1]


=== TEST 14: host matching ignores case
--- config
    location /t {
        valid_referers none blocked server_names *.example.com .example.net www.shop.*
                       example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: http://IMG.Example.COM/
--- response_body
[]


=== TEST 15: without none a missing Referer is invalid
--- config
    location /t {
        valid_referers example.com;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- response_body
[1]


=== TEST 16: without blocked a scheme-less Referer is invalid
--- config
    location /t {
        valid_referers none example.com;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: example.com
--- response_body
[1]


=== TEST 17: no valid_referers: everything is valid
--- config
    location /t {
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: http://evil.test/
--- response_body
[]


=== TEST 18: inherited from the server level; hotlink protection with if
--- config
    valid_referers none example.com;
    location /t {
        if ($invalid_referer) { return 403; }
        return 200 "fine\n";
    }
--- request
GET /t
--- more_headers
Referer: http://evil.test/img
--- error_code: 403


=== TEST 19: a bad wildcard fails the load
--- config
    location /t {
        valid_referers www.*.example.com;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid hostname or wildcard "www\.\*\.example\.com"/


=== TEST 20: referer_hash_* are accepted
--- config
    location /t {
        referer_hash_max_size 4096;
        referer_hash_bucket_size 128;
        valid_referers none example.com;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- response_body
[]



=== TEST 21: none/blocked alone fail the load
--- config
    location /t {
        valid_referers none blocked;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*the "none" or "blocked" referers are specified in the "valid_referers" directive without any valid referer/
