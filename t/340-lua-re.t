# ngx.re.match / find / gmatch / sub / gsub and require "ngx.re" (split,
# opt): every option, named captures, ctx.pos, the res table, replacement
# templates, compile errors, the `o` cache limit, lua_regex_match_limit.
# Passes against nginx + lua-nginx-module too (whose PCRE1 words compile
# errors as `pcre_compile() failed: missing )`, hence the alternations).
use Test::Nginx::Socket::Lua 'no_plan';

our $lunet = ($ENV{TEST_NGINX_BINARY} // '') !~ m{/usr/sbin/nginx};

no_shuffle();
run_tests();

__DATA__

=== TEST 1: options a d D i j J m o s u U x
--- config
    location /t {
        content_by_lua_block {
            local function show(m, err)
                if not m then
                    ngx.say(tostring(m), " ", tostring(err))
                    return
                end
                local out = {}
                for i = 0, #m do
                    out[#out + 1] = tostring(m[i])
                end
                ngx.say(table.concat(out, ","))
            end
            show(ngx.re.match("HeLLo", "hello"))
            show(ngx.re.match("HeLLo", "hello", "i"))
            show(ngx.re.match("xhello", "hello"))
            show(ngx.re.match("xhello", "hello", "a"))
            show(ngx.re.match("aaa", "a|aa|aaa"))
            show(ngx.re.match("aaa", "a|aa|aaa", "d"))
            show(ngx.re.match("aXbXc", "(X).*", "d"))
            show(ngx.re.match("a\nb", "^b"))
            show(ngx.re.match("a\nb", "^b", "m"))
            show(ngx.re.match("a\nb", "a.b"))
            show(ngx.re.match("a\nb", "a.b", "s"))
            show(ngx.re.match("abc", "a b c"))
            show(ngx.re.match("abc", "a b # comment\n c", "x"))
            show(ngx.re.match("A", [[\u0041]], "J"))
            show(ngx.re.match("h\195\169llo", "h.l"))
            show(ngx.re.match("h\195\169llo", "h.l", "u"))
            show(ngx.re.match("h\195\169llo", "h.l", "U"))
            show(ngx.re.match("hello", "l+", "j"))
            show(ngx.re.match("hello", "l+", "jo"))
            show(ngx.re.match("hello", "L+", "ijo"))
            local m = ngx.re.match("ab", [[(?<n>a)(?<n>b)]], "D")
            ngx.say(type(m.n), " ", #m.n, " ", m.n[1], m.n[2])
        }
    }
--- request
GET /t
--- response_body
nil nil
HeLLo
hello
nil nil
a
aaa
XbXc
nil nil
b
nil nil
a
b
nil nil
abc
A
nil nil
hél
hél
ll
ll
ll
table 2 ab
--- no_error_log
[error]



=== TEST 2: captures, named captures, false for unmatched groups, ctx.pos, res
--- config
    location /t {
        content_by_lua_block {
            local m = ngx.re.match("hello 1234", [[(?<word>[a-z]+) (x)?(\d+)]])
            ngx.say(m[0], "|", m[1], "|", tostring(m[2]), "|", m[3], "|", m.word, "|", #m)
            local ctx = { pos = 3 }
            m = ngx.re.match("abcabc", "abc", "", ctx)
            ngx.say(m[0], " ", ctx.pos)
            m = ngx.re.match("abcabc", "abc", "", ctx)
            ngx.say(tostring(m), " ", ctx.pos)
            ctx = { pos = 0 }
            m = ngx.re.match("abc", "a", "", ctx)
            ngx.say(m[0], " ", ctx.pos)
            local res = {}
            local r = ngx.re.match("abc", "(b)(c)", "", nil, res)
            ngx.say(r == res, " ", res[0], res[1], res[2])
            r = ngx.re.match("xyz", "(y)", "jo", nil, res)
            ngx.say(r == res, " ", res[0], res[1])
            ngx.say(tostring(ngx.re.match("abc", "z", "", nil, res)))
            m = ngx.re.match("", "")
            ngx.say("[", m[0], "]")
            m = ngx.re.match("ab", "(?<n>a)|(?<n>b)", "D")
            ngx.say(#m.n, " ", m.n[1])
            m = ngx.re.match("b", "(?<x>a)?b")
            ngx.say(tostring(m.x), " ", tostring(m[1]))
        }
    }
--- request
GET /t
--- response_body
hello 1234|hello|false|1234|hello|3
abc 7
nil 7
a 2
true bcbc
true yy
nil
[]
1 a
false false
--- no_error_log
[error]



=== TEST 3: find, nth, ctx
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.find("hello 1234", [[([0-9])([0-9]+)]]))
            ngx.say(ngx.re.find("hello 1234", [[([0-9])([0-9]+)]], "jo", nil, 2))
            ngx.say(ngx.re.find("hello 1234", [[([0-9])(x)?]], "", nil, 2))
            ngx.say(ngx.re.find("hello", "xyz"))
            ngx.say(ngx.re.find("hello", "(l)", "", nil, 5))
            local ctx = { pos = 4 }
            ngx.say(ngx.re.find("hello", "l", "", ctx))
            ngx.say(ctx.pos)
            ngx.say(ngx.re.find("HELLO", "l+", "i"))
        }
    }
--- request
GET /t
--- response_body
710
810
nilnil
nil
nilnilnth out of bound
44
5
34
--- no_error_log
[error]



=== TEST 4: gmatch
--- config
    location /t {
        content_by_lua_block {
            local it = ngx.re.gmatch("a1b22c333", [[([a-z])(\d+)]], "jo")
            while true do
                local m, err = it()
                if err then ngx.say("err: ", err) return end
                if not m then break end
                ngx.say(m[0], " ", m[1], " ", m[2])
            end
            ngx.say(tostring(it()))
            local n = 0
            for m in ngx.re.gmatch("abc", "") do
                n = n + 1
                ngx.say(n, " [", m[0], "]")
            end
            for m in ngx.re.gmatch("a=1, b=2", [[(?<k>\w+)=(?<v>\w+)]]) do
                ngx.say(m.k, " -> ", m.v)
            end
            local it2, err = ngx.re.gmatch("abc", "(x")
            ngx.say(tostring(it2), " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
\Aa1 a 1
b22 b 22
c333 c 333
nil
1 \[\]
2 \[\]
3 \[\]
4 \[\]
a -> 1
b -> 2
nil pcre2?_compile\(\) failed: missing (closing parenthesis|\)) in "\(x"
\z
--- no_error_log
[error]



=== TEST 5: sub and gsub: templates, functions, counts
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.sub("hello world", "o", "[$0]"))
            ngx.say(ngx.re.gsub("hello world", "o", "[$0]"))
            ngx.say(ngx.re.gsub("hello world", "(o)", "${1}x$$"))
            ngx.say(ngx.re.gsub("hello world", "(o)", "$2"))
            ngx.say(ngx.re.gsub("hello world", "(o)", "${0}"))
            ngx.say(ngx.re.gsub("abc", "", "-"))
            ngx.say(ngx.re.gsub("abc", "b*", "-"))
            ngx.say(ngx.re.sub("hello", "z", "x"))
            ngx.say(ngx.re.gsub("hello", "l", function (m) return m[0]:upper() end))
            ngx.say(ngx.re.gsub("hello", "l", function (m) return 1.5 end))
            ngx.say(ngx.re.gsub("a=1 b=2", [[(?<k>\w)=(\d)]], function (m) return m.k .. m[2] * 2 end, "jo"))
            ngx.say(ngx.re.gsub("hello", "L", 7, "i"))
            for _, t in ipairs({ "$", "$x", "${1", "${a}", "$1$" }) do
                ngx.say(ngx.re.gsub("hello", "(l)", t))
            end
        }
    }
--- request
GET /t
--- response_body
hell[o] world1
hell[o] w[o]rld2
hellox$ wox$rld2
hell wrld2
hello world2
-a-b-c-4
-a--c-4
hello0
heLLo2
he1.51.5o2
a2 b42
he77o2
nilnilfailed to compile the replacement template
nilnilfailed to compile the replacement template
nilnilfailed to compile the replacement template
nilnilfailed to compile the replacement template
nilnilfailed to compile the replacement template
--- error_log
invalid capturing variable name found in "$"
attempt to use named capturing variable "x" (named captures not supported yet)
the closing bracket in "1" variable is missing
attempt to use named capturing variable "a" (named captures not supported yet)
invalid capturing variable name found in "$1$"



=== TEST 6: compile errors are returned, not raised; unknown flags raise
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.re.match("hello", "(abc"))
            ngx.say(ngx.re.find("hello", "(abc", "jo"))
            ngx.say(ngx.re.sub("hello", "l(", "x"))
            ngx.say(ngx.re.gsub("hello", "[a", "x"))
            ngx.say(require("ngx.re").split("a,b", "(,"))
            for _, f in ipairs({ "Q", "jq", "2" }) do
                local ok, err = pcall(ngx.re.match, "a", "a", f)
                ngx.say(ok, " ", (err:gsub("^.-:%d+: ", "")))
            end
        }
    }
--- request
GET /t
--- response_body_like chomp
\Anilpcre2?_compile\(\) failed: missing (closing parenthesis|\)) in "\(abc"
nilnilpcre2?_compile\(\) failed: missing (closing parenthesis|\)) in "\(abc"
nilnilpcre2?_compile\(\) failed: missing (closing parenthesis|\)) in "l\("
nilnilpcre2?_compile\(\) failed: missing terminating \] for character class in "\[a"
nilpcre2?_compile\(\) failed: missing (closing parenthesis|\)) in "\(,"
false unknown flag "Q" \(flags "Q"\)
false unknown flag "q" \(flags "jq"\)
false unknown flag "2" \(flags "2"\)
\z
--- no_error_log
[error]



=== TEST 7: split and opt
--- config
    location /t {
        content_by_lua_block {
            local re = require "ngx.re"
            local function show(t, err)
                if not t then ngx.say("nil ", err) return end
                ngx.say(#t, ": ", table.concat(t, "|"))
            end
            show(re.split("a,b,c,d", ","))
            show(re.split("a,b,,c,,", ","))
            show(re.split(",,a", ","))
            show(re.split(",,", ","))
            show(re.split("a,b,c,d", "(,)"))
            show(re.split("abc", ""))
            show(re.split("abc", "", nil, nil, 2))
            show(re.split("a,b,c,d", ",", nil, nil, 2))
            show(re.split("a,b,,", ",", nil, nil, 10))
            show(re.split("a,b,c,d", ",", "jo", { pos = 3 }))
            show(re.split("a1b22c", [[\d+]], "jo"))
            local res = { "x", "y", "z", "w", "v" }
            local r = re.split("1,2", ",", nil, nil, nil, res)
            ngx.say(r == res, " ", res[1], res[2], tostring(res[3]))
            local ok, err = pcall(re.split, "a", ",", nil, nil, nil, "x")
            ngx.say(ok, " ", (err:gsub("^.-:%d+: ", "")))
            ok, err = pcall(re.opt, "foo", 1)
            ngx.say(ok, " ", (err:gsub("^.-:%d+: ", "")))
        }
    }
--- request
GET /t
--- response_body
4: a|b|c|d
4: a|b||c
3: ||a
0: 
7: a|,|b|,|c|,|d
3: a|b|c
2: a|bc
2: a|b,c,d
4: a|b||
3: b|c|d
3: a|b|c
true 12nil
false res is not a table
false unrecognized option name
--- no_error_log
[error]



=== TEST 8: opt("jit_stack_size") before any regex is cached
--- config
    location /t {
        content_by_lua_block {
            local re = require "ngx.re"
            re.opt("jit_stack_size", 256 * 1024)
            ngx.say(ngx.re.match(string.rep("a", 1000), "(a|b)*", "jo")[0] == string.rep("a", 1000))
            local ok, err = pcall(re.opt, "jit_stack_size", 512 * 1024)
            ngx.say(ok, " ", (err:gsub("^.-:%d+: ", "")))
        }
    }
--- request
GET /t
--- response_body
true
false changing jit stack size is not allowed when some regexs have already been compiled and cached



=== TEST 9: the `o` cache is bounded by lua_regex_cache_max_entries
--- http_config
    lua_regex_cache_max_entries 2;
--- config
    location /t {
        content_by_lua_block {
            local out = {}
            for round = 1, 2 do
                for i = 1, 5 do
                    local m = ngx.re.match("x" .. i .. "y", "x(" .. i .. ")y", "jo")
                    out[#out + 1] = m[1]
                end
            end
            ngx.say(table.concat(out))
        }
    }
--- request
GET /t
--- response_body
1234512345
--- error_log eval
$::lunet ? ["lua exceeding regex cache max entries (2)"] : []
--- no_error_log
[error]



=== TEST 10: lua_regex_match_limit
--- http_config
    lua_regex_match_limit 1000;
--- config
    location /t {
        content_by_lua_block {
            local s = string.rep("a", 30) .. "!"
            ngx.say(ngx.re.match(s, [[^(\w+\s?)*$]]))
            ngx.say(ngx.re.find(s, [[^(\w+\s?)*$]], "jo"))
            ngx.say(ngx.re.gsub(s, [[^(\w+\s?)*$]], ""))
            ngx.say(ngx.re.match("abc", "b")[0])
        }
    }
--- request
GET /t
--- response_body_like chomp
\Anilpcre_exec\(\) failed: -(8|47)
nilnilpcre_exec\(\) failed: -(8|47)
nilnilpcre_exec\(\) failed: -(8|47)
b
\z
