# Process directives: reuseport, graceful QUIT drains in-flight requests,
# worker_shutdown_timeout bounds the drain, worker_rlimit_nofile, env, -e.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Time::HiRes qw(time sleep);
use POSIX ();
use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port alive children wait_until read_file http_get pid_file cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");
my $dir = tempdir("lunet-procd-XXXXXX", TMPDIR => 1, CLEANUP => 1);
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs");
chmod 0755, $dir;    # workers drop to an unprivileged user when run as root

my $port = free_port();

sub write_conf {
    my (%o) = @_;
    my $main = $o{main} // '';
    my $listen = $o{listen} // '';
    my $err = exists $o{error_log} ? $o{error_log} : "error_log logs/error.log info;";
    my $alog = $o{access_log} // 'off';
    open my $fh, '>', "$dir/conf/nginx.conf" or die;
    print $fh <<"CONF";
worker_processes $o{workers};
$err
pid logs/nginx.pid;
$main
events { worker_connections 128; }
http {
    access_log $alog;
    server {
        listen 127.0.0.1:$port $listen;
        location /pid { return 200 "\$pid"; }
        location /slow { echo_sleep $o{sleep}; echo done; }
        location /env { content_by_lua_block { ngx.say(os.getenv("LUNET_T_FOO"), " ", os.getenv("LUNET_T_BAR"), " ", os.getenv("HOME")) } }
    }
}
CONF
    close $fh;
}

sub start {
    my @extra = @_;
    return system($bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf", @extra) >> 8;
}

sub get { return http_get($port, @_); }

sub master_pid { return pid_file("$dir/logs/nginx.pid"); }

sub stop {
    my $m = master_pid() or return;
    kill 'TERM', $m;
    wait_until(sub { !alive($m) });
}

# ---- reuseport: one socket per worker, both workers serve ---------------------
write_conf(workers => 2, listen => 'reuseport', sleep => 1);
is(start(), 0, 'started with reuseport');
ok(wait_until(sub { defined get('/pid') }), 'serving');
my $m = master_pid();
my %seen;
for (1 .. 400) {
    my $b = get('/pid');
    $seen{$b}++ if defined $b;
    last if keys %seen >= 2;
}
is(scalar(keys %seen), 2, 'both reuseport workers accept connections');
my @kids = children($m);
# Each worker keeps only its own reuseport socket: their socket inodes differ.
my %inodes;
for my $k (@kids) {
    for my $fd (glob "/proc/$k/fd/*") {
        my $l = readlink($fd) // next;
        $inodes{$k}{$1} = 1 if $l =~ /^socket:\[(\d+)\]/;
    }
}
my @common = grep { $inodes{$kids[1]}{$_} } keys %{ $inodes{$kids[0]} };
is(scalar @common, 0, 'reuseport workers do not share a listening socket');
stop();

# ---- graceful QUIT lets an in-flight request finish ------------------------------
write_conf(workers => 1, sleep => '0.5');
is(start(), 0, 'started');
ok(wait_until(sub { defined get('/pid') }), 'serving');
$m = master_pid();
pipe(my $rd, my $wr) or die;
my $pid = fork // die;
if ($pid == 0) {
    close $rd;
    my $b = get('/slow', 10);
    print $wr (defined $b ? $b : "FAILED\n");
    close $wr;
    POSIX::_exit(0);
}
close $wr;
sleep 0.15;
kill 'QUIT', $m;
my $got = <$rd>;
waitpid $pid, 0;
is($got, "done\n", 'in-flight request completes during graceful shutdown');
ok(wait_until(sub { !alive($m) }), 'master exits after the drain');

# ---- worker_shutdown_timeout bounds the drain --------------------------------
write_conf(workers => 1, sleep => 30, main => 'worker_shutdown_timeout 300ms;');
is(start(), 0, 'started with worker_shutdown_timeout');
ok(wait_until(sub { defined get('/pid') }), 'serving');
$m = master_pid();
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp') or die;
print $s "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
sleep 0.1;
my $t0 = time;
kill 'QUIT', $m;
ok(wait_until(sub { !alive($m) }, 5), 'workers gone despite a 30 s request');
cmp_ok(time - $t0, '<', 3, 'within about worker_shutdown_timeout');
close $s;

# ---- worker_rlimit_nofile and env ------------------------------------------------
$ENV{LUNET_T_BAR} = 'from-master-env';
$ENV{LUNET_T_DROPPED} = 'x';
write_conf(workers => 1, sleep => 1,
           main => "worker_rlimit_nofile 777;\nenv LUNET_T_FOO=set-in-conf;\nenv LUNET_T_BAR;");
is(start(), 0, 'started with rlimit and env');
ok(wait_until(sub { defined get('/pid') }), 'serving');
$m = master_pid();
my ($w) = children($m);
open my $lim, '<', "/proc/$w/limits" or die;
my ($nofile) = grep { /^Max open files/ } <$lim>;
like($nofile, qr/^Max open files\s+777\s+777/, 'worker_rlimit_nofile applied to the worker');
is(get('/env'), "set-in-conf from-master-env nil\n", 'workers see only env-listed variables');
stop();

# ---- env with master_process off ---------------------------------------------
write_conf(workers => 1, sleep => 1,
           main => "master_process off;\nenv LUNET_T_FOO=single;\nenv LUNET_T_BAR;");
is(start(), 0, 'started as a single process');
ok(wait_until(sub { defined get('/pid') }), 'serving');
is(get('/env'), "single from-master-env nil\n", 'env applies with master_process off too');
stop();

# ---- USR1 reopens access logs ------------------------------------------------
write_conf(workers => 1, sleep => 1, access_log => 'logs/access.log');
is(start(), 0, 'started with an access log');
ok(wait_until(sub { defined get('/pid') }), 'serving');
$m = master_pid();
get('/pid?before');
ok(wait_until(sub { read_file("$dir/logs/access.log") =~ /before/ }), 'request logged');
rename "$dir/logs/access.log", "$dir/logs/access.log.1" or die;
kill 'USR1', $m;
ok(wait_until(sub { -e "$dir/logs/access.log" }), 'USR1 recreates access.log');
my ($aw) = children($m);
ok(wait_until(sub { read_file("$dir/logs/error.log") =~ /\b$aw#\d+: reopening logs/ }),
   'the worker reopened its logs');
get('/pid?after');
ok(wait_until(sub { read_file("$dir/logs/access.log") =~ /after/ }),
   'new requests go to the reopened access.log');
unlike(read_file("$dir/logs/access.log.1"), qr/after/, 'not to the moved file');
stop();

# ---- -e: the error log used when the config names none -------------------------
write_conf(workers => 1, sleep => 1, error_log => '');
unlink "$dir/logs/error.log";
is(start('-e', 'logs/startup.log'), 0, 'started with -e');
ok(wait_until(sub { defined get('/pid') }), 'serving');
get('/no-such-file');    # logs an [error] open() ... failed
stop();
my $elog = do { local $/; open my $fh, '<', "$dir/logs/startup.log" or die; <$fh> };
like($elog, qr/\[error\] .*open\(\) ".*no-such-file" failed/, '-e file receives the log');
ok(!-e "$dir/logs/error.log", 'default error.log not used');

done_testing();
