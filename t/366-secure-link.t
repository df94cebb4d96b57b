# secure_link (ngx_http_secure_link_module): secure_link + secure_link_md5
# with expiry, and secure_link_secret.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a valid link that has not expired is "1", with its expiry
--- config
    location /s/ {
        secure_link $arg_md5,$arg_expires;
        secure_link_md5 "$secure_link_expires$uri secret";
        return 200 "[$secure_link] [$secure_link_expires]\n";
    }
--- request
GET /s/file?md5=FKzyMEvqyNxTCC9zbW5Rug&expires=2147483647
--- response_body
[1] [2147483647]



=== TEST 2: an expired link is "0"
--- config
    location /s/ {
        secure_link $arg_md5,$arg_expires;
        secure_link_md5 "$secure_link_expires$uri secret";
        return 200 "[$secure_link] [$secure_link_expires]\n";
    }
--- request
GET /s/file?md5=4SpCOIYwp989is721plNWA&expires=1000
--- response_body
[0] [1000]



=== TEST 3: a wrong hash is empty (not found)
--- config
    location /s/ {
        secure_link $arg_md5,$arg_expires;
        secure_link_md5 "$secure_link_expires$uri secret";
        return 200 "[$secure_link]\n";
    }
--- pipelined_requests eval
["GET /s/file?md5=FKzyMEvqyNxTCC9zbW5Rug&expires=2147483646", "GET /s/file?md5=xx&expires=2147483647", "GET /s/file?md5=FKzyMEvqyNxTCC9zbW5Rug&expires=abc", "GET /s/file?md5=FKzyMEvqyNxTCC9zbW5Rug"]
--- response_body eval
["[]\n", "[]\n", "[]\n", "[]\n"]



=== TEST 4: without an expiry part
--- config
    location /p/ {
        secure_link $arg_md5;
        secure_link_md5 "$uri secret";
        return 200 "[$secure_link] [$secure_link_expires]\n";
    }
--- request
GET /p/file?md5=3NGSDm9NDCUmpYWSakEdzA
--- response_body
[1] []



=== TEST 5: typical use: 403 for a bad link, 410 for an expired one
--- config
    location /s/ {
        secure_link $arg_md5,$arg_expires;
        secure_link_md5 "$secure_link_expires$uri secret";
        if ($secure_link = "") { return 403; }
        if ($secure_link = "0") { return 410; }
        return 200 "ok\n";
    }
--- pipelined_requests eval
["GET /s/file?md5=FKzyMEvqyNxTCC9zbW5Rug&expires=2147483647", "GET /s/file?md5=4SpCOIYwp989is721plNWA&expires=1000", "GET /s/file?md5=bad&expires=2147483647"]
--- error_code eval
[200, 410, 403]



=== TEST 6: secure_link_secret: /prefix/md5(link secret)/link
--- config
    location /p/ {
        secure_link_secret s3cret;
        return 200 "[$secure_link]\n";
    }
--- pipelined_requests eval
["GET /p/0dfd47735d59753ac51270325fef0d39/dir/file.txt", "GET /p/00000000000000000000000000000000/dir/file.txt", "GET /p/0dfd47735d59753ac51270325fef0d39/"]
--- response_body eval
["[dir/file.txt]\n", "[]\n", "[]\n"]



=== TEST 7: secure_link_secret cannot be mixed with secure_link
--- config
    location /p/ {
        secure_link_secret s3cret;
        secure_link $arg_md5;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"secure_link_secret" cannot be mixed with "secure_link" and "secure_link_md5"/
