# Timers across reloads (master mode), as the seeds use them: a periodic job
# started from init_worker_by_lua reads logs/nginx.pid and sends HUP with
# os.execute; the server reloads each time and keeps serving, and the
# pending timers of each retired worker run with premature = true.
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
use Lunet::Proc qw(free_port alive wait_until read_file http_get pid_file cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");
my $dir = tempdir("lunet-treload-XXXXXX", TMPDIR => 1, CLEANUP => !$ENV{KEEP});
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs", "$dir/html");
chmod 0755, $dir;
my $port = free_port();
my $load = join '', map { "load_module $_;\n" } split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
# The job signals the master: as root, keep the workers root too.
my $user = $> == 0 ? "user root;" : "";

open my $fh, '>', "$dir/conf/nginx.conf" or die;
print $fh <<"CONF";
$load
$user
worker_processes 1;
daemon off;
master_process on;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    init_worker_by_lua_block {
        local pid = ngx.worker.pid()
        -- a long timer: it can only run as premature, when this worker retires
        ngx.timer.at(3600, function(premature)
            ngx.log(ngx.WARN, "worker ", pid, " pending timer: premature=", tostring(premature))
        end)
        -- the seeds' periodic reload job (each worker generation sends one
        -- HUP, so a signal never lands on a worker that is still starting)
        local sent = false
        local ok, err = ngx.timer.every(0.5, function(premature)
            if premature or sent then return end
            sent = true
            local f = io.open(ngx.config.prefix() .. "logs/nginx.pid")
            if not f then return end
            local master = f:read("*n")
            f:close()
            ngx.log(ngx.WARN, "worker ", pid, " sends HUP to ", master)
            os.execute("kill -HUP " .. master)
        end)
        if not ok then ngx.log(ngx.ERR, "every failed: ", err) end
    }
    server {
        listen 127.0.0.1:$port;
        location / { content_by_lua_block { ngx.say("ok ", ngx.worker.pid()) } }
    }
}
CONF
close $fh;

my $pid = fork // die;
if ($pid == 0) {
    open STDERR, '>', "$dir/logs/stderr.log";
    exec $bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf" or exit 1;
}
END { if ($pid) { kill 'QUIT', $pid; sleep 0.5; kill 'KILL', $pid; } }

sub log_text { return read_file("$dir/logs/error.log"); }

ok(wait_until(sub { defined http_get($port, "/") }, 10), 'server answers');

# Keep requesting while the job reloads the server a few times.
my ($ok, $fail, %pids) = (0, 0);
my $end = time + 4;
while (time < $end) {
    my $b = http_get($port, "/");
    if (defined $b && $b =~ /^ok (\d+)/) { $ok++; $pids{$1} = 1; } else { $fail++; }
    sleep 0.02;
}
my $text = log_text();
my @hups = $text =~ /sends HUP to \d+/g;
my @premature = $text =~ /pending timer: premature=true/g;
cmp_ok(scalar(@hups), '>=', 3, 'the periodic job sent HUP several times');
cmp_ok(scalar(keys %pids), '>=', 3, 'requests were served by several worker generations');
cmp_ok($ok, '>', 50, "requests served ($ok)");
is($fail, 0, 'no request failed during the reloads');
cmp_ok(scalar(@premature), '>=', 2, 'retired workers ran their pending timer as premature');
unlike($text, qr/pending timer: premature=false/, 'never as a normal run');
unlike($text, qr/\[alert\]|\[crit\]|\[emerg\]|every failed/, 'no alert');
# Graceful stop; a sanitizer build reports on stderr.
kill 'QUIT', $pid;
ok(wait_until(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, 10), 'server exits on QUIT');
$pid = 0;
unlike(read_file("$dir/logs/stderr.log"), qr/ERROR: (?:Address|Leak)Sanitizer|runtime error: /,
       'no sanitizer report');
done_testing();
