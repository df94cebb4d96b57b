# map (ngx_http_map_module): exact keys, regexes with captures, default,
# hostnames, include, volatile, values with variables; lazily evaluated.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: exact keys and default
--- http_config
    map $arg_k $m {
        default  other;
        apple    fruit;
        carrot   vegetable;
    }
--- config
    location /t {
        return 200 "$m\n";
    }
--- pipelined_requests eval
["GET /t?k=apple", "GET /t?k=carrot", "GET /t?k=stone", "GET /t"]
--- response_body eval
["fruit\n", "vegetable\n", "other\n", "other\n"]



=== TEST 2: without default an unmatched value is empty
--- http_config
    map $arg_k $m {
        a  1;
    }
--- config
    location /t {
        return 200 "[$m]\n";
    }
--- request
GET /t?k=b
--- response_body
[]



=== TEST 3: exact keys match without regard to case
--- http_config
    map $arg_k $m {
        default  none;
        MiXeD    hit;
    }
--- config
    location /t {
        return 200 "$m\n";
    }
--- pipelined_requests eval
["GET /t?k=mixed", "GET /t?k=MiXeD", "GET /t?k=MIXED", "GET /t?k=mixedx"]
--- response_body eval
["hit\n", "hit\n", "hit\n", "none\n"]



=== TEST 4: regexes in order, case-sensitive and not, with captures in the value
--- http_config
    map $uri $m {
        default         none;
        /exact          exact;
        ~^/img/(.+)\.png$   png:$1;
        ~*^/DOC/(\w+)   doc:$1;
        ~^/img/         img-other;
    }
--- config
    location / {
        return 200 "$m\n";
    }
--- pipelined_requests eval
["GET /exact", "GET /img/cat.png", "GET /doc/readme", "GET /img/cat.gif", "GET /zzz"]
--- response_body eval
["exact\n", "png:cat\n", "doc:readme\n", "img-other\n", "none\n"]



=== TEST 5: exact keys win over regexes, a backslash escapes a leading tilde
--- http_config
    map $arg_k $m {
        ~.      regex;
        a       exact;
        \~b     tilde;
    }
--- config
    location /t {
        return 200 "$m\n";
    }
--- pipelined_requests eval
["GET /t?k=a", "GET /t?k=~b", "GET /t?k=z"]
--- response_body eval
["exact\n", "tilde\n", "regex\n"]



=== TEST 6: values and the source may hold variables
--- http_config
    map "$request_method:$arg_k" $m {
        default      "d-$arg_k";
        GET:x        "get $uri";
        POST:x       post;
    }
--- config
    location /t {
        return 200 "$m\n";
    }
--- pipelined_requests eval
["GET /t?k=x", "POST /t?k=x", "GET /t?k=y"]
--- response_body eval
["get /t\n", "post\n", "d-y\n"]



=== TEST 7: hostnames: exact, *.suffix, .suffix and prefix.*
--- http_config
    map $arg_h $m {
        hostnames;
        default          none;
        example.com      exact;
        *.example.com    star;
        .example.org     dot;
        www.example.*    tail;
        *.a.example.com  deeper;
    }
--- config
    location /t {
        return 200 "$m\n";
    }
--- pipelined_requests eval
["GET /t?h=example.com", "GET /t?h=www.example.com", "GET /t?h=x.y.example.com",
 "GET /t?h=example.org", "GET /t?h=m.example.org", "GET /t?h=www.example.net",
 "GET /t?h=b.a.example.com", "GET /t?h=example.com.", "GET /t?h=other.net"]
--- response_body eval
["exact\n", "star\n", "star\n", "dot\n", "dot\n", "tail\n", "deeper\n", "exact\n", "none\n"]



=== TEST 8: include of a file of entries
--- http_config
    map $arg_k $m {
        default  none;
        include  map_entries.conf;
    }
--- user_files
>>> ../conf/map_entries.conf
one  1;
two  2;
--- config
    location /t {
        return 200 "$m\n";
    }
--- pipelined_requests eval
["GET /t?k=one", "GET /t?k=two", "GET /t?k=three"]
--- response_body eval
["1\n", "2\n", "none\n"]



=== TEST 9: a value is evaluated once per request (cached) ...
--- http_config
    map $src $m {
        default  none;
        a        A;
        b        B;
    }
--- config
    location /t {
        set $src a;
        set $first $m;
        set $src b;
        set $second $m;
        return 200 "$first $second\n";
    }
--- request
GET /t
--- response_body
A A



=== TEST 10: ... unless the map is volatile
--- http_config
    map $src $m {
        volatile;
        default  none;
        a        A;
        b        B;
    }
--- config
    location /t {
        set $src a;
        set $first $m;
        set $src b;
        set $second $m;
        return 200 "$first $second\n";
    }
--- request
GET /t
--- response_body
A B



=== TEST 11: the map variable can be read from Lua and overwritten by set
--- http_config
    map $arg_k $m {
        default  d;
        x        X;
    }
--- config
    location /t {
        set $before $m;
        set $m changed;
        content_by_lua_block {
            ngx.say(ngx.var.before)
            ngx.say(ngx.var.m)
        }
    }
--- request
GET /t?k=x
--- response_body
X
changed



=== TEST 12: map_hash_max_size and map_hash_bucket_size are accepted
--- http_config
    map_hash_max_size 4096;
    map_hash_bucket_size 128;
    map $arg_k $m { default ok; }
--- config
    location /t {
        return 200 "$m\n";
    }
--- request
GET /t
--- response_body
ok



=== TEST 13: a duplicate default fails the load
--- http_config
    map $arg_k $m {
        default  a;
        default  b;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate default map parameter/



=== TEST 14: an entry with two values fails the load
--- http_config
    map $arg_k $m {
        a  b  c;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of the map parameters/



=== TEST 15: the same key twice fails the load
--- http_config
    map $arg_k $m {
        a  1;
        a  2;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*conflicting parameter "a"/



=== TEST 16: the target must be a variable
--- http_config
    map $arg_k m {
        a  1;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid variable name "m"/



=== TEST 17: map is allowed only in http{}
--- config
    location /t {
        map $arg_k $m { a 1; }
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"map" directive is not allowed here/



=== TEST 18: a bad regex fails the load
--- http_config
    map $arg_k $m {
        ~(unclosed  1;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pcre2?_compile\(\) failed: missing (closing parenthesis|\))/



=== TEST 19: an unused map costs nothing and does not evaluate its source
--- http_config
    map $arg_k $unused {
        default "$arg_k";
    }
--- config
    location /t {
        return 200 "fine\n";
    }
--- request
GET /t
--- response_body
fine
