# lunet.timer.every(..., { once_per_node = true, dict = ... }): with two
# workers exactly one process runs the job; when its holder is SIGKILLed,
# another process runs it within one interval; a reload hands it over.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Time::HiRes qw(time sleep);
use POSIX ();
use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port alive children wait_until read_file http_get pid_file
                   cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");
plan skip_all => 'lunet.timer is a Lunet extension' if $bin =~ m{/nginx$};
my $dir = tempdir("lunet-once-XXXXXX", TMPDIR => 1, CLEANUP => !$ENV{KEEP});
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs", "$dir/html");
chmod 0755, $dir;
my $port = free_port();
my $interval = 0.3;

open my $fh, '>', "$dir/conf/nginx.conf" or die;
print $fh <<"CONF";
worker_processes 2;
daemon off;
master_process on;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    lua_shared_dict leases 1m;
    init_worker_by_lua_block {
        local timer = require "lunet.timer"
        local ok, err = timer.every($interval, function(premature)
            ngx.update_time()
            ngx.log(ngx.WARN, string.format("job ran in %d at %.3f premature=%s",
                    ngx.worker.pid(), ngx.now(), tostring(premature)))
        end, { name = "cleanup", once_per_node = true, dict = "leases" })
        if not ok then ngx.log(ngx.ERR, "every failed: ", err) end
    }
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "ok"; }
    }
}
CONF
close $fh;

my $pid = fork // die;
if ($pid == 0) {
    open STDERR, '>', "$dir/logs/stderr.log";
    exec $bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf" or exit 1;
}
END { if ($pid) { kill 'KILL', children($pid), $pid; } }

sub runs {    # [pid, time] of every run so far
    my @r;
    for (split /\n/, read_file("$dir/logs/error.log")) {
        push @r, [$1, $2] if /job ran in (\d+) at ([\d.]+) premature=false/;
    }
    return @r;
}

ok(wait_until(sub { defined http_get($port, "/") }, 10), 'server answers');
ok(wait_until(sub { my @k = children($pid); @k == 2 }, 5), 'two workers');
my $t0 = time;
sleep 2;
my @r = grep { $_->[1] > $t0 } runs();
my %by = map {; $_->[0] => 1 } @r;
is(scalar(keys %by), 1, 'one process runs the job (' . join(',', keys %by) . ')');
cmp_ok(scalar(@r), '>=', 4, 'it runs every interval (' . scalar(@r) . ' runs in 2 s)');
cmp_ok(scalar(@r), '<=', 8, 'and only once per interval');

# SIGKILL the holder: another process takes the job within one interval.
my ($holder) = keys %by;
my $killed_at = time;
kill 'KILL', $holder;
ok(wait_until(sub { grep { $_->[0] != $holder && $_->[1] > $killed_at } runs() }, 5),
   'another process runs the job after the holder was killed');
my ($first) = grep { $_->[0] != $holder && $_->[1] > $killed_at } runs();
my $gap = $first->[1] - $killed_at;
cmp_ok($gap, '<', $interval + 0.4, sprintf('taken over %.3f s after the kill', $gap));
sleep 1.2;
my @after = grep { $_->[1] > $first->[1] } runs();
my %by_after = map {; $_->[0] => 1 } @after;
is(scalar(keys %by_after), 1, 'still exactly one process runs it');

# A reload: the old holder hands the lease over when it retires.
my $before = scalar(runs());
kill 'HUP', $pid;
sleep 2;
my @late = grep { $_->[1] > time - 1 } runs();
my %by_late = map {; $_->[0] => 1 } @late;
cmp_ok(scalar(@late), '>=', 2, 'the job goes on after the reload');
is(scalar(keys %by_late), 1, 'one process after the reload');
unlike(read_file("$dir/logs/error.log"), qr/every failed|\[emerg\]/, 'no error');
kill 'QUIT', $pid;
ok(wait_until(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, 10), 'server exits on QUIT');
$pid = 0;
unlike(read_file("$dir/logs/stderr.log"), qr/ERROR: (?:Address|Leak)Sanitizer|runtime error: /,
       'no sanitizer report');
done_testing();
