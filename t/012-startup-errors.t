# Startup errors go to the error log too, in nginx's format (issue #9 part 1):
# errors found while reading the config go to the startup log (-e FILE, else
# the compiled-in default logs/error.log under the prefix) and, as
# "PROG: [emerg] ...", to stderr; errors after the config is read (bind()) go
# to the configured error_log; -t failures likewise; errors at a HUP reload go
# to the master's error log while the old workers keep serving.
#
# Runs against nginx too (TEST_NGINX_BINARY=/usr/sbin/nginx, with
# TEST_NGINX_LOAD_MODULES for the Lua cases): the expected lines are nginx's.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use File::Basename qw(basename);
use Time::HiRes qw(time sleep);
use POSIX ();
use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port alive children wait_until read_file http_get pid_file cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");
my $dir = tempdir("lunet-starterr-XXXXXX", TMPDIR => 1, CLEANUP => 1);
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs", "$dir/html");
chmod 0755, $dir;    # workers drop to an unprivileged user when run as root

my $prog = basename($bin) eq 'nginx' ? 'nginx' : 'lunet';
my $is_lunet = `$bin -v 2>&1` =~ /^lunet version/;
my $V = `$bin -V 2>&1`;
# The compiled-in default error log: Lunet's is logs/error.log under the
# prefix; Debian's nginx is built with --error-log-path=stderr.
my ($default_log) = $V =~ /--error-log-path=(\S+)/;
$default_log //= 'logs/error.log';
my @modules = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
my $load = join '', map { "load_module $_;\n" } @modules;
my $have_lua = $is_lunet || @modules;

my $conf = "$dir/conf/nginx.conf";
my $ts = qr{\d{4}/\d\d/\d\d \d\d:\d\d:\d\d};

sub write_file {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh;
}

sub clear_logs { unlink glob("$dir/logs/*") }

# Runs the binary on $text (the whole nginx.conf) with @args; returns
# (exit code, stderr).
sub run {
    my ($text, @args) = @_;
    write_file($conf, $load . $text);
    my $pid = open(my $out, '-|') // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT or die;
        exec $bin, '-p', "$dir/", '-c', 'conf/nginx.conf', @args or POSIX::_exit(127);
    }
    local $/;
    my $err = <$out> // '';
    close $out;
    return ($? >> 8, $err);
}

sub logf { return read_file("$dir/logs/$_[0]") }

# "TIME [LEVEL] PID#TID: MSG" with PID == TID (one thread).
sub line_re {
    my ($level, $msg) = @_;
    return qr/^$ts \[$level\] (\d+)#\1: \Q$msg\E$/m;
}

sub stderr_re {
    my ($level, $msg) = @_;
    return qr/^\Q$prog: [$level] $msg\E$/m;
}

my $head = "error_log logs/conf.log;\nevents {}\n";

# ---- parse-time errors: -e FILE, stderr, not the configured error_log --------
my @parse_cases = (
    ['unknown directive', "bogus_dir on;\n", 'emerg',
     "unknown directive \"bogus_dir\" in $conf:3"],
    ['directive is not allowed here', "http { server { worker_processes 2; } }\n", 'emerg',
     "\"worker_processes\" directive is not allowed here in $conf:3"],
    ['invalid value (worker_processes)', "worker_processes abc;\n", 'emerg',
     "\"worker_processes\" directive invalid value in $conf:3"],
    ['invalid value (flag)', "daemon maybe;\n", 'emerg',
     "invalid value \"maybe\" in \"daemon\" directive, it must be \"on\" or \"off\" in $conf:3"],
    ['invalid value (time)', "http { keepalive_timeout abc; }\n", 'emerg',
     "\"keepalive_timeout\" directive invalid value in $conf:3"],
    ['invalid value (size)', "http { client_max_body_size 1x; }\n", 'emerg',
     "\"client_max_body_size\" directive invalid value in $conf:3"],
    ['invalid number', "http { keepalive_requests abc; }\n", 'emerg',
     "\"keepalive_requests\" directive invalid number in $conf:3"],
    ['invalid log level', "error_log logs/x.log loud;\n", 'emerg',
     "invalid log level \"loud\" in $conf:3"],
    ['include of a missing file', "include nothere.conf;\n", 'emerg',
     "open() \"$dir/conf/nothere.conf\" failed (2: No such file or directory) in $conf:3"],
    ['error inside an included file', "include inc.conf;\n", 'emerg',
     "unknown directive \"bogus_inc\" in $dir/conf/inc.conf:2"],
);
write_file("$dir/conf/inc.conf", "# included\nbogus_inc 1;\n");

for my $c (@parse_cases) {
    my ($name, $body, $level, $msg) = @$c;
    # The Lua-less nginx keeps the lines of load_module out of the count.
    (my $m = $msg) =~ s/(\Q$conf\E):(\d+)$/"$1:" . ($2 + @modules)/e;
    clear_logs();
    my ($rc, $err) = run($head . $body, '-e', 'logs/startup.log');
    is($rc, 1, "$name: exits 1");
    like(logf('startup.log'), line_re($level, $m), "$name: nginx-format line in the -e log");
    like($err, stderr_re($level, $m), "$name: and on stderr");
    unlike(logf('conf.log'), qr/\Q$m\E/, "$name: not in the configured error_log");
}

# ---- without -e: the compiled-in default ------------------------------------
{
    clear_logs();
    my $m = "unknown directive \"bogus_dir\" in $conf:" . (3 + @modules);
    my ($rc, $err) = run($head . "bogus_dir on;\n");
    is($rc, 1, 'no -e: exits 1');
    if ($default_log eq 'stderr') {
        # The startup log is stderr itself: the log line, no second copy.
        like($err, line_re('emerg', $m), 'no -e: the default log (stderr) has the line');
        unlike($err, stderr_re('emerg', $m), 'no -e: no duplicate "PROG: [emerg]" line');
    } else {
        like(logf($default_log =~ s{^logs/}{}r), line_re('emerg', $m),
             "no -e: the line is in $default_log under the prefix");
        like($err, stderr_re('emerg', $m), 'no -e: and on stderr');
    }
}

# ---- -e stderr: one line, in the log format ---------------------------------
{
    clear_logs();
    my $m = "unknown directive \"bogus_dir\" in $conf:" . (3 + @modules);
    my ($rc, $err) = run($head . "bogus_dir on;\n", '-e', 'stderr');
    like($err, line_re('emerg', $m), '-e stderr: the log line on stderr');
    unlike($err, stderr_re('emerg', $m), '-e stderr: no duplicate "PROG: [emerg]" line');
}

# ---- -t -------------------------------------------------------------------
{
    clear_logs();
    my $m = "unknown directive \"bogus_t\" in $conf:" . (3 + @modules);
    my ($rc, $err) = run($head . "bogus_t;\n", '-t', '-e', 'logs/startup.log');
    is($rc, 1, '-t failure exits 1');
    like(logf('startup.log'), line_re('emerg', $m), '-t failure: line in the -e log');
    like($err, stderr_re('emerg', $m), '-t failure: [emerg] on stderr');
    like($err, qr/^\Q$prog: configuration file $conf test failed\E$/m, '-t failure: "test failed"');
    unlike(logf('startup.log'), qr/test failed/, '"test failed" is a stderr-only line');
}

# ---- init_by_lua errors ---------------------------------------------------
SKIP: {
    skip 'needs the Lua module (TEST_NGINX_LOAD_MODULES)', 6 unless $have_lua;
    clear_logs();
    my $line = 4 + @modules;
    my ($rc, $err) = run($head . "http {\n    init_by_lua_block { error(\"boom\") }\n}\n",
                         '-e', 'logs/startup.log');
    is($rc, 1, 'init_by_lua error: exits 1');
    my $m = "init_by_lua error: init_by_lua(nginx.conf:$line):1: boom";
    like(logf('startup.log'), line_re('error', $m), 'init_by_lua error: [error] line in the -e log');
    like(logf('startup.log'), qr/\Q$m\E\nstack traceback:\n/, '... with the traceback');
    like($err, stderr_re('error', $m), 'init_by_lua error: on stderr');

    clear_logs();
    ($rc, $err) = run($head . "http {\n    init_by_lua_block { local x = = 1 }\n}\n",
                      '-e', 'logs/startup.log');
    is($rc, 1, 'init_by_lua syntax error: exits 1');
    like(logf('startup.log'),
         line_re('error', "init_by_lua error: init_by_lua(nginx.conf:$line):1: unexpected symbol near '='"),
         'init_by_lua syntax error: [error] line in the -e log');
}

# ---- bind() failure: the configured error_log --------------------------------
my $held = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Proto => 'tcp', ReuseAddr => 1) or die "listen: $!";
my $held_port = $held->sockport;
{
    clear_logs();
    my $t0 = time;
    my ($rc, $err) = run($head . "daemon off;\nmaster_process off;\npid logs/nginx.pid;\n"
                         . "http { access_log off; server { listen 127.0.0.1:$held_port; } }\n",
                         '-e', 'logs/startup.log');
    is($rc, 1, 'bind() failure exits 1');
    my $m = "bind() to 127.0.0.1:$held_port failed (98: Address already in use)";
    my @in_log = logf('conf.log') =~ /${\ line_re('emerg', $m)}/g;
    is(scalar @in_log, 5, 'bind() failure: five tries logged in the configured error_log');
    like(logf('conf.log'), line_re('emerg', 'still could not bind()'), '... then "still could not bind()"');
    my @on_stderr = $err =~ /${\ stderr_re('emerg', $m)}/g;
    is(scalar @on_stderr, 5, 'bind() failure: the same five on stderr');
    like($err, stderr_re('emerg', 'still could not bind()'), '... and "still could not bind()"');
    unlike(logf('startup.log'), qr/bind\(\)/, 'bind() failure: not in the -e (startup) log');
    cmp_ok(time - $t0, '>=', 1.9, 'bind() is retried 500 ms apart');
}

# ---- -t does not bind ---------------------------------------------------------
{
    clear_logs();
    my ($rc, $err) = run($head . "pid logs/nginx.pid;\n"
                         . "http { access_log off; server { listen 127.0.0.1:$held_port; } }\n",
                         '-t', '-e', 'logs/startup.log');
    is($rc, 0, '-t succeeds while the port is in use (it does not bind)');
    like($err, qr/^\Q$prog: configuration file $conf test is successful\E$/m, '-t success line');
}

# ---- errors at HUP: the master's error log; old workers keep serving --------
my $port = free_port();
my $server_conf = sub {
    my ($extra_main, $extra_http, $extra_listen) = @_;
    $extra_listen //= '';
    return "error_log logs/conf.log;\nworker_processes 1;\ndaemon off;\npid logs/nginx.pid;\n"
        . ($extra_main // '') . "events { worker_connections 64; }\n"
        . "http {\n    access_log off;\n" . ($extra_http // '')
        . "    server {\n        listen 127.0.0.1:$port;\n$extra_listen"
        . "        location / { return 200 \"gen1\"; }\n    }\n}\n";
};
clear_logs();
write_file($conf, $load . $server_conf->());
my $master = fork // die;
if ($master == 0) {
    open STDOUT, '>', "$dir/logs/stderr.log" or die;
    open STDERR, '>&', \*STDOUT or die;
    exec $bin, '-p', "$dir/", '-c', 'conf/nginx.conf', '-e', 'logs/startup.log' or POSIX::_exit(127);
}
ok(wait_until(sub { (http_get($port, '/') // '') eq 'gen1' }), 'master started and serving');
my $mpid = pid_file("$dir/logs/nginx.pid");
is($mpid, $master, 'pid file names the master');
my $reloads = 0;
sub hup_and_wait {
    my ($re, $what) = @_;
    my $before = logf('conf.log');
    kill 'HUP', $master;
    ok(wait_until(sub { logf('conf.log') =~ $re }, 10), "reload with $what: line in the master's error log")
        or diag(logf('conf.log'));
}

{
    write_file($conf, $load . $server_conf->("bogus_reload 1;\n"));
    my $m = "unknown directive \"bogus_reload\" in $conf:" . (5 + @modules);
    my $re = qr/^$ts \[emerg\] $master#$master: \Q$m\E$/m;
    hup_and_wait($re, 'an unknown directive');
    is(http_get($port, '/'), 'gen1', 'old workers keep serving after the failed reload');
    unlike(logf('stderr.log'), stderr_re('emerg', $m), 'reload errors are not echoed to stderr');
    unlike(logf('startup.log'), qr/bogus_reload/, 'nor written to the startup log');
}
{
    write_file($conf, $load . $server_conf->('', "    worker_processes 1;\n"));
    my $m = "\"worker_processes\" directive is not allowed here in $conf:" . (8 + @modules);
    hup_and_wait(qr/^$ts \[emerg\] $master#$master: \Q$m\E$/m, 'a directive not allowed here');
    is(http_get($port, '/'), 'gen1', 'still serving');
}
SKIP: {
    skip 'needs the Lua module (TEST_NGINX_LOAD_MODULES)', 2 unless $have_lua;
    write_file($conf, $load . $server_conf->('', "    init_by_lua_block { error(\"reload boom\") }\n"));
    my $m = "init_by_lua error: init_by_lua(nginx.conf:" . (8 + @modules) . "):1: reload boom";
    hup_and_wait(qr/^$ts \[error\] $master#$master: \Q$m\E$/m, 'an init_by_lua error');
    is(http_get($port, '/'), 'gen1', 'still serving');
}
{
    write_file($conf, $load . $server_conf->('', '', "        listen 127.0.0.1:$held_port;\n"));
    my $m = "bind() to 127.0.0.1:$held_port failed (98: Address already in use)";
    hup_and_wait(qr/^$ts \[emerg\] $master#$master: still could not bind\(\)$/m, 'a bind() failure');
    my @n = logf('conf.log') =~ /^$ts \[emerg\] $master#$master: (\Q$m\E)$/mg;
    is(scalar @n, 5, 'five bind() tries logged by the master');
    is(http_get($port, '/'), 'gen1', 'still serving after the failed bind()');
}
{
    # A good config after all that is applied.
    (my $good = $server_conf->()) =~ s/gen1/gen2/;
    write_file($conf, $load . $good);
    kill 'HUP', $master;
    ok(wait_until(sub { (http_get($port, '/') // '') eq 'gen2' }, 10), 'a good reload is applied');
}
kill 'QUIT', $master;
ok(wait_until(sub { waitpid($master, POSIX::WNOHANG()) == $master }, 10), 'master exits on QUIT');
close $held;

done_testing();
