# The `resty` command, driven as a shell user would: the seeds' one-liners,
# every option, the exit-code rules (script's os.exit/ngx.exit, 0 on return,
# 1 on a Lua error with "ERROR: ..." and a traceback, 130 on Ctrl-C, 143 on
# SIGTERM, SIGHUP as a graceful quit), stdout/stderr, arg, the environment.
# Runs the `resty` link next to TEST_NGINX_BINARY (or makes one); skipped
# for a binary that is not Lunet (OpenResty's resty-cli is not installed).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Basename qw(dirname);
use Time::HiRes qw(sleep time);
use POSIX qw(WNOHANG);

my $bin = $ENV{TEST_NGINX_BINARY} // '';
my $ver = `$bin -v 2>&1`;
plan skip_all => "not a Lunet binary: $bin" unless $bin && $ver =~ /lunet version/;

my $dir = tempdir(CLEANUP => 1);
my $resty = dirname($bin) . "/resty";
unless (-x $resty) {
    $resty = "$dir/resty";
    symlink($bin, $resty) or die "symlink: $!";
}

# run(args..., {env => {...}}) -> (exit code, stdout, stderr)
sub run {
    my $opts = ref $_[-1] eq 'HASH' ? pop : {};
    my @cmd = ($resty, @_);
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$dir/out" or die;
        open STDERR, '>', "$dir/err" or die;
        open STDIN, '<', '/dev/null' or die;
        %ENV = (%ENV, %{ $opts->{env} // {} });
        exec @cmd or exit 127;
    }
    waitpid($pid, 0);
    my $rc = $? & 127 ? 128 + ($? & 127) : $? >> 8;
    return ($rc, slurp("$dir/out"), slurp("$dir/err"));
}

# start(args...) -> pid, running in the background (output to files)
sub start {
    my @cmd = ($resty, @_);
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$dir/out" or die;
        open STDERR, '>', "$dir/err" or die;
        exec @cmd or exit 127;
    }
    return $pid;
}

sub finish {
    my ($pid, $limit) = @_;
    my $t0 = time;
    while (time - $t0 < $limit) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid) {
            return ($? & 127 ? 128 + ($? & 127) : $? >> 8, slurp("$dir/out"), slurp("$dir/err"));
        }
        sleep 0.02;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
    return (-1, slurp("$dir/out"), slurp("$dir/err"));
}

sub slurp {
    open my $fh, '<', $_[0] or return '';
    local $/;
    my $s = <$fh>;
    return $s // '';
}

sub spit {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh;
}

my ($rc, $out, $err);

# ---- the seeds' one-liners ----
($rc, $out) = run('-e', 'local process = require "ngx.process"
ngx.say("process type:", process.type())');
is($out, "process type:single\n", "one-liner 1: process type:single");
is($rc, 0, "one-liner 1 exits 0");

($rc, $out) = run('-e', 'local shell = require "resty.shell"
local ok, stdout, stderr, reason, status = shell.run([[echo "hello, world"]])
ngx.say(stdout)');
is($out, "hello, world\n\n", "one-liner 2: hello, world (+ newline)");

($rc, $out) = run('-e', 'local ngx_pipe = require "ngx.pipe"
local proc = ngx_pipe.spawn({"echo", "hello world"})
local data, err = proc:stdout_read_line()
ngx.say(data)');
is($out, "hello world\n", "one-liner 3: hello world");

# ---- exit codes ----
($rc) = run('-e', 'ngx.say(1)');
is($rc, 0, "returns: 0");
($rc, $out) = run('-e', 'io.stdout:write("x") os.exit(3)');
is("$rc $out", "3 x", "os.exit(3): 3, stdout flushed");
($rc) = run('-e', 'ngx.exit(4)');
is($rc, 4, "ngx.exit(4): 4");
($rc) = run('-e', 'os.exit(false)');
is($rc, 1, "os.exit(false): 1");
($rc) = run('-e', 'os.exit(true)');
is($rc, 0, "os.exit(true): 0");
($rc, $out, $err) = run('-e', 'local function f() error("boom") end
f()');
is($rc, 1, "Lua error: 1");
like($err, qr/\AERROR: \(command line -e\):1: boom\nstack traceback:\n\t\(command line -e\):1: in function 'f'/,
     "Lua error: ERROR: message and traceback on stderr");
($rc, $out, $err) = run('-e', 'x = = 1');
is($rc, 1, "syntax error: 1");
like($err, qr/^ERROR: \(command line -e\):1: unexpected symbol near '='/, "syntax error message");

# ---- output, phase, process, arg, environment ----
($rc, $out, $err) = run('-e', 'print("a", 1, nil, true, ngx.null, {"t", {"u"}}) ngx.print("p") ngx.say("s") ngx.flush() ngx.eof()
ngx.log(ngx.WARN, "to stderr")
ngx.say(ngx.get_phase(), " ", require("ngx.process").type(), " ", ngx.worker.exiting())');
is($out, "a1niltruenulltu\nps\ntimer single false\n", "print/ngx.say/ngx.print to stdout, phase timer");
like($err, qr/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[warn\] \d+#\d+: \*\d+ \[lua\] \(command line -e\):2: .*to stderr, context: ngx\.timer$/m,
     "ngx.log to stderr in the error log format");
unlike($err, qr/a1nil/, "nothing of stdout on stderr");

spit("$dir/s.lua", "#!/usr/bin/env resty\nfor i = -3, 3 do io.write(tostring(arg[i]), \" \") end print(#arg)\n");
($rc, $out) = run('-c', '10', "$dir/s.lua", 'x', 'y z');
is($out, "$resty -c 10 $dir/s.lua x y z nil 2\n", "arg: script args, arg[0] the file, negative indexes resty's own");
($rc, $out) = run('-e', 'print("e first")', "$dir/s.lua", 'q');
like($out, qr/^e first\n.* q nil nil 1\n$/, "-e and a FILE: both run, -e first");
($rc, $out) = run('-e', 'print(os.getenv("RESTY_T_FOO"), " ", os.getenv("PATH") ~= nil)',
                  { env => { RESTY_T_FOO => 'bar' } });
is($out, "bar true\n", "every environment variable passes through");
($rc, $out) = run('-e', 'ngx.sleep(0.05) ngx.timer.at(0, function() print("timer ran") end) ngx.sleep(0.05)
ngx.timer.at(100, function(premature) print("pending timer, premature: ", premature) end)
print("main done")');
is($out, "timer ran\nmain done\npending timer, premature: true\n",
   "ngx.sleep and timers work; at the end pending timers run with premature = true");

# ---- cosockets from the command line: TCP (with the pool) and UDP, to peers run by this test ----
{
    require IO::Socket::INET;
    my $tcp = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0,
                                    Proto => 'tcp', ReuseAddr => 1) or die "listen: $!";
    my $udp = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'udp')
        or die "udp: $!";
    my ($tport, $uport) = ($tcp->sockport, $udp->sockport);
    my $peer = fork // die "fork: $!";
    if ($peer == 0) {
        alarm 10;
        # one TCP connection, two lines on it (the second after keepalive
        # hands it back); then one UDP datagram
        my $c = $tcp->accept or exit 1;
        for (1 .. 2) {
            my $line = <$c> // exit 1;
            print $c "tcp got $line";
        }
        close $c;
        my $buf;
        my $from = $udp->recv($buf, 100) // exit 1;
        $udp->send("udp got $buf", 0, $from);
        exit 0;
    }
    ($rc, $out, $err) = run('-e', qq{
local sock = ngx.socket.tcp()
sock:settimeout(2000)
assert(sock:connect("127.0.0.1", $tport))
assert(sock:send("one\\n"))
ngx.say(sock:receive())
assert(sock:setkeepalive())
sock = ngx.socket.tcp()
assert(sock:connect("127.0.0.1", $tport))
ngx.say("reused: ", sock:getreusedtimes())
assert(sock:send("two\\n"))
ngx.say(sock:receive())
sock:close()
local u = ngx.socket.udp()
u:settimeout(2000)
assert(u:setpeername("127.0.0.1", $uport))
assert(u:send("three"))
ngx.say(u:receive())
});
    waitpid($peer, 0);
    is("$rc $out", "0 tcp got one\nreused: 1\ntcp got two\nudp got three\n",
       "cosockets in resty: TCP send/receive, the keepalive pool, UDP");
    is($? >> 8, 0, "the test's peer saw one TCP connection and one datagram");
}

# ---- options ----
spit("$dir/lib/m.lua", "return { v = 'from -I' }\n") if mkdir "$dir/lib";
($rc, $out) = run('-I', "$dir/lib", '-e', 'print(require("m").v)');
is($out, "from -I\n", "-I DIR");
($rc, $out, $err) = run('-I', "$dir/nope", '-e', '1');
is("$rc $err", "2 Search directory $dir/nope is not found.\n", "-I with a missing directory");
($rc, $out) = run('-I', "$dir/lib", '-l', 'm', '-e', 'print(package.loaded.m.v)');
is($out, "from -I\n", "-l LIB is required first");
($rc, $out) = run('--shdict', 'one 1m', '--shdict', 'two 100k', '-e',
                  'ngx.shared.one:set("k", 1) print(ngx.shared.one:get("k"), " ", ngx.shared.two ~= nil)');
is($out, "1 true\n", "--shdict (repeatable)");
($rc, $out, $err) = run('--shdict', 'bad', '-e', '1');
is("$rc $err", "2 Invalid value for --shdict option. Expected: NAME SIZE\n", "--shdict with a bad value");
($rc, $out) = run('-j', 'off', '-e', 'print((jit.status()))');
is($out, "false\n", "-j off");
($rc, $out, $err) = run('-j', 'v', '-e', 'local s = 0 for i = 1, 1000 do s = s + i end');
like($err, qr/\[TRACE\s+1 /, "-j v reports traces on stderr");
($rc, $out, $err) = run('-j', 'x', '-e', '1');
is($rc, 2, "-j with a bad value");
($rc, $out) = run('--http-conf', 'lua_shared_dict hc 1m;', '-e', 'print(ngx.shared.hc ~= nil)');
is($out, "true\n", "--http-conf");
($rc, $out) = run('--main-conf', 'env RESTY_T_MAIN=main-conf;', '-e', 'print(os.getenv("RESTY_T_MAIN"))');
is($out, "main-conf\n", "--main-conf");
spit("$dir/http.conf", "lua_shared_dict inc 1m;\n");
spit("$dir/main.conf", "env RESTY_T_INC=main-include;\n");
($rc, $out) = run('--http-include', "$dir/http.conf", '--main-include', "$dir/main.conf", '-e',
                  'print(ngx.shared.inc ~= nil, " ", os.getenv("RESTY_T_INC"))');
is($out, "true main-include\n", "--http-include, --main-include");
($rc, $out, $err) = run('--main-include', "$dir/none.conf", '-e', '1');
is($rc, 2, "--main-include of a missing file");
like($err, qr/Could not find main include/, "--main-include of a missing file: message");
($rc, $out, $err) = run('--http-conf', 'no_such_directive on;', '-e', '1');
is($rc, 1, "a bad --http-conf fails the start");
like($err, qr/\[emerg\] \d+#\d+: unknown directive "no_such_directive"/, "a bad --http-conf: nginx's message");
($rc, $out) = run('-c', '5', '-e', 'print("c ok")');
is($out, "c ok\n", "-c N");
($rc, $out, $err) = run('-c', 'x', '-e', '1');
is($rc, 1, "-c with a bad value");
($rc, $out, $err) = run('--errlog-level', 'info', '-e', 'ngx.log(ngx.INFO, "info line")');
like($err, qr/\[info\] .*info line/, "--errlog-level info shows info");
($rc, $out, $err) = run('-e', 'ngx.log(ngx.INFO, "info line") ngx.log(ngx.WARN, "warn line")');
ok($err !~ /info line/ && $err =~ /warn line/, "default errlog level is warn");
($rc, $out, $err) = run('--errlog-level', 'error', '-e', 'ngx.log(ngx.WARN, "warn line")');
unlike($err, qr/warn line/, "--errlog-level error hides warn");
($rc, $out, $err) = run('--errlog-level', 'loud', '-e', '1');
is($rc, 2, "--errlog-level with a bad value");
($rc, $out) = run('--nginx', '/no/such/nginx', '--no-stream', '--ns', '127.0.0.1', '--ns', '[::1]',
                  '--resolve-ipv6', '-e', 'print("accepted")');
is("$rc $out", "0 accepted\n", "--nginx (ignored), --no-stream, --ns, --resolve-ipv6 accepted");
($rc, $out, $err) = run('--ns', 'localhost', '-e', '1');
is("$rc $err", "2 Invalid value for --ns option. Expected: IP\n", "--ns needs an IP");
($rc, $out, $err) = run('--load-module', 'x.so', '-e', '1');
is($rc, 2, "--load-module is refused");
like($err, qr/^ERROR: --load-module is not supported/, "--load-module: a clear error");
($rc, $out, $err) = run('--stream-conf', 'x;', '-e', '1');
like("$rc $err", qr/^2 ERROR: --stream-conf is not supported/, "--stream-conf is refused");
($rc, $out, $err) = run('-V');
is($rc, 0, "-V exits 0");
like($err, qr/^resty \S+\nlunet version: lunet\/\S+\nnginx version: nginx\/\S+\n/, "-V prints versions");
($rc, $out) = run('-h');
like("$rc $out", qr/^0 resty \[options\] \[lua-file \[args\]\]\n/, "-h prints usage on stdout");
($rc, $out, $err) = run('--bogus');
is($rc, 1, "an unknown option: 1");
like($err, qr/^Unknown option: bogus\n/, "an unknown option: message and usage");
($rc, $out, $err) = run();
is("$rc $err", "2 Neither Lua input file nor -e \"\" option specified.\n", "no code");
($rc, $out, $err) = run("$dir/missing.lua");
is("$rc $err", "2 Lua input file $dir/missing.lua not found.\n", "a missing FILE");

# ---- signals ----
my $pid = start('-e', 'ngx.sleep(100)');
sleep 0.3;
kill 'INT', $pid;
($rc) = finish($pid, 5);
is($rc, 130, "Ctrl-C (SIGINT) while sleeping: 130");
$pid = start('-e', 'while true do end');
sleep 0.3;
kill 'INT', $pid;
($rc) = finish($pid, 5);
is($rc, 130, "Ctrl-C during a busy Lua loop: 130 at once");
$pid = start('-e', 'local p = require("ngx.pipe").spawn("sleep 91 | sleep 92") print(p:pid()) io.stdout:flush() ngx.sleep(100)');
sleep 0.4;
my $child = slurp("$dir/out") =~ /(\d+)/ ? $1 : 0;
kill 'INT', $pid;
($rc) = finish($pid, 5);
sleep 0.1;
my $left = grep { my $s = slurp("/proc/$_/stat"); $s =~ /\) (\S) -?\d+ (\d+)/ && $2 == $child && $1 ne 'Z' }
           map { m{/proc/(\d+)$} ? $1 : () } glob("/proc/[0-9]*");
ok($child > 0 && $rc == 130 && $left == 0, "Ctrl-C kills the pipes' process groups too");
$pid = start('-e', 'while not ngx.worker.exiting() do ngx.sleep(0.01) end print("graceful") os.exit(5)');
sleep 0.3;
kill 'HUP', $pid;
($rc, $out) = finish($pid, 5);
is("$rc $out", "5 graceful\n", "SIGHUP: a graceful quit");
$pid = start('-e', 'ngx.sleep(100)');
sleep 0.3;
kill 'TERM', $pid;
($rc) = finish($pid, 5);
is($rc, 143, "SIGTERM: 143");

# ---- no listeners ----
$pid = start('-e', 'ngx.sleep(0.6)');
sleep 0.3;
my @sockets = grep { (readlink($_) // '') =~ /^socket:/ } glob("/proc/$pid/fd/*");
finish($pid, 5);
is(scalar(@sockets), 0, "no socket (no listener) in the resty process");

# ---- make install (cmake --install of the build next to the binary) ----
SKIP: {
    my $build = dirname($bin);
    skip "no cmake build next to $bin", 3 unless -f "$build/cmake_install.cmake" && `which cmake`;
    my $inst = "$dir/inst";
    system("cmake --install $build --prefix $inst > $dir/install.log 2>&1");
    is($?, 0, "cmake --install (make install) succeeds");
    is(readlink("$inst/bin/resty"), "lunet", "it installs bin/resty -> lunet");
    is(`$inst/bin/resty -e 'print("installed")'`, "installed\n", "the installed resty runs");
}

done_testing();
