# auth_basic (ngx_http_auth_basic_module): the password formats nginx
# accepts, 401 with WWW-Authenticate, $remote_user and the error lines.
use Test::Nginx::Socket::Lua 'no_plan';

no_shuffle();
run_tests();

__DATA__
=== TEST 1: a crypt(3) DES password is accepted
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic ZGVzOnNlY3JldA==
--- response_body
hello des
--- no_error_log
[error]


=== TEST 2: a wrong password for a crypt(3) DES hash is refused
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic ZGVzOndyb25n
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Secret Area"
--- error_log
user "des": password mismatch


=== TEST 3: a crypt(3) $1$ password is accepted
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic bWQ1OnNlY3JldA==
--- response_body
hello md5
--- no_error_log
[error]


=== TEST 4: a wrong password for a crypt(3) $1$ hash is refused
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic bWQ1Ondyb25n
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Secret Area"
--- error_log
user "md5": password mismatch


=== TEST 5: a crypt(3) $5$ password is accepted
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic czU6c2VjcmV0
--- response_body
hello s5
--- no_error_log
[error]


=== TEST 6: a wrong password for a crypt(3) $5$ hash is refused
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic czU6d3Jvbmc=
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Secret Area"
--- error_log
user "s5": password mismatch


=== TEST 7: a crypt(3) $6$ password is accepted
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic czY6c2VjcmV0
--- response_body
hello s6
--- no_error_log
[error]


=== TEST 8: a wrong password for a crypt(3) $6$ hash is refused
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic czY6d3Jvbmc=
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Secret Area"
--- error_log
user "s6": password mismatch


=== TEST 9: a $apr1$ password is accepted
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic YXByOnNlY3JldA==
--- response_body
hello apr
--- no_error_log
[error]


=== TEST 10: a wrong password for a $apr1$ hash is refused
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic YXByOndyb25n
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Secret Area"
--- error_log
user "apr": password mismatch


=== TEST 11: a {PLAIN} password is accepted
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic cGw6c2VjcmV0
--- response_body
hello pl
--- no_error_log
[error]


=== TEST 12: a wrong password for a {PLAIN} hash is refused
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic cGw6d3Jvbmc=
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Secret Area"
--- error_log
user "pl": password mismatch


=== TEST 13: a {SHA} password is accepted
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic c2g6c2VjcmV0
--- response_body
hello sh
--- no_error_log
[error]


=== TEST 14: a wrong password for a {SHA} hash is refused
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic c2g6d3Jvbmc=
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Secret Area"
--- error_log
user "sh": password mismatch


=== TEST 15: a {SSHA} password is accepted
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic c3M6c2VjcmV0
--- response_body
hello ss
--- no_error_log
[error]


=== TEST 16: a wrong password for a {SSHA} hash is refused
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic c3M6d3Jvbmc=
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Secret Area"
--- error_log
user "ss": password mismatch


=== TEST 17: a password field ends at the next colon
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic Y206c2VjcmV0
--- response_body
hello cm


=== TEST 18: the last line needs no newline
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic bGFzdDpub25ld2xpbmU=
--- response_body
hello last


=== TEST 19: no credentials: 401 with the realm, logged at info
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Secret Area"
--- error_log
no user/password was provided for basic authentication


=== TEST 20: an unknown user
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic bm9ib2R5OnNlY3JldA==
--- error_code: 401
--- error_log eval
qr/user "nobody" was not found in ".*conf\/htpasswd"/


=== TEST 21: a malformed Authorization header counts as none
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic !!!notbase64
--- error_code: 401
--- error_log
no user/password was provided for basic authentication


=== TEST 22: another scheme counts as none
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Bearer abc
--- error_code: 401


=== TEST 23: an empty user counts as none
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic OnNlY3JldA==
--- error_code: 401
--- error_log
no user/password was provided for basic authentication


=== TEST 24: the scheme name is case-insensitive
--- config
    location /t {
        auth_basic "Secret Area";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("hello ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: basic cGw6c2VjcmV0
--- response_body
hello pl


=== TEST 25: a missing user file: 403 and the open() error
--- config
    location /t {
        auth_basic "x";
        auth_basic_user_file no_such_file;
        content_by_lua_block { ngx.say("in") }
    }
--- request
GET /t
--- more_headers
Authorization: Basic cGw6c2VjcmV0
--- error_code: 403
--- error_log eval
qr/\[error\] .*open\(\) ".*conf\/no_such_file" failed \(2: No such file or directory\)/


=== TEST 26: auth_basic off in a nested location
--- config
    auth_basic "outer";
    auth_basic_user_file htpasswd;
    location /open {
        auth_basic off;
        content_by_lua_block { ngx.say("open") }
    }
    location /closed {
        content_by_lua_block { ngx.say("closed") }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- pipelined_requests eval
["GET /open", "GET /closed"]
--- error_code eval
[200, 401]


=== TEST 27: realm and user file may use variables
--- config
    location /t {
        set $file htpasswd;
        auth_basic "realm $uri";
        auth_basic_user_file $file;
        content_by_lua_block { ngx.say("in") }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="realm /t"


=== TEST 28: $remote_user is set without auth_basic too
--- config
    location /t {
        return 200 "[$remote_user]\n";
    }
--- request
GET /t
--- more_headers
Authorization: Basic emVkOndoYXRldmVy
--- response_body
[zed]


=== TEST 29: satisfy any: an allowed address needs no password
--- config
    location /t {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        auth_basic "x";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("in") }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- response_body
in


=== TEST 30: satisfy any: a denied address with a good password gets in
--- config
    location /t {
        satisfy any;
        deny all;
        auth_basic "x";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("in ", ngx.var.remote_user) }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic cGw6c2VjcmV0
--- response_body
in pl


=== TEST 31: satisfy any: both refuse, 401 wins over 403
--- config
    location /t {
        satisfy any;
        deny all;
        auth_basic "x";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("in") }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="x"
--- no_error_log
access forbidden by rule


=== TEST 32: satisfy all: a denied address is refused before the password is asked
--- config
    location /t {
        deny all;
        auth_basic "x";
        auth_basic_user_file htpasswd;
        content_by_lua_block { ngx.say("in") }
    }
--- user_files
>>> ../conf/htpasswd
# users for the tests
des:abNANd1rDfiNc
md5:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1
s5:$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.
s6:$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.
apr:$apr1$Xy12$GLsymIGo7.ZavKYrGfltS0
pl:{PLAIN}secret
sh:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
ss:{SSHA}Hy2ZmpxW6jadpJt/ojl6qp/Ytl5zYWx0eXk=
cm:{PLAIN}secret:a comment field
last:{PLAIN}nonewline
--- request
GET /t
--- more_headers
Authorization: Basic cGw6c2VjcmV0
--- error_code: 403
--- error_log
access forbidden by rule


=== TEST 33: auth_basic without a user file does nothing
--- config
    location /t {
        auth_basic "x";
        content_by_lua_block { ngx.say("in") }
    }
--- request
GET /t
--- response_body
in
