# process.signal_graceful_exit(): the calling worker (or agent, or single
# process) leaves gracefully — its in-flight response completes, pending
# timers run with premature = true, exit_worker_by_lua runs, exit code 0 —
# and the master replaces a worker or agent that left by itself (as nginx
# respawns any worker it did not stop). Also: a draining worker that gets
# QUIT again (directly, or through two quick reloads) keeps draining instead
# of dying on SIGQUIT's default action.
#
# Lunet only: Debian's nginx lacks lua-resty-core's ngx.process and the
# privileged agent (OpenResty core patches); lua-resty-core documents
# signal_graceful_exit as setting ngx_quit in the current process.
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
use Lunet::Proc qw(free_port alive children wait_until read_file http_get cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");

sub cmdline {
    my $c = read_file("/proc/$_[0]/cmdline");
    $c =~ s/\0+$//;
    $c =~ s/\0/ /g;
    return $c;
}
sub kids_titled {
    my ($m, $re) = @_;
    return grep { cmdline($_) =~ $re } children($m);
}

sub setup {
    my ($tag, $master) = @_;
    my $dir = tempdir("lunet-sge-$tag-XXXXXX", TMPDIR => 1, CLEANUP => !$ENV{KEEP});
    cleanup_servers($dir);
    make_path("$dir/conf", "$dir/logs");
    chmod 0755, $dir;
    my $port = free_port();
    my $user = $> == 0 ? "user nobody;" : "";
    open my $fh, '>', "$dir/conf/nginx.conf" or die;
    print $fh <<"CONF";
$user
worker_processes 1;
daemon off;
master_process $master;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    lua_shared_dict state 1m;
    init_by_lua_block {
        assert(require("ngx.process").enable_privileged_agent())
    }
    init_worker_by_lua_block {
        local process = require "ngx.process"
        local typ, pid = process.type(), ngx.worker.pid()
        ngx.log(ngx.WARN, typ, " ", pid, " started, id ", tostring(ngx.worker.id()))
        ngx.timer.at(3600, function(premature)
            ngx.log(ngx.WARN, typ, " ", pid, " pending timer: premature=", tostring(premature))
        end)
        if typ == "privileged agent" and ngx.shared.state:add("agent exit", true) then
            -- the first agent leaves by itself once; its replacement stays
            ngx.timer.at(0.2, function()
                ngx.log(ngx.WARN, "agent ", pid, " calls signal_graceful_exit")
                process.signal_graceful_exit()
            end)
        end
    }
    exit_worker_by_lua_block {
        ngx.log(ngx.WARN, "exit_worker in ", require("ngx.process").type(), " ", ngx.worker.pid())
    }
    server {
        listen 127.0.0.1:$port;
        location = /exit {
            content_by_lua_block {
                local process = require "ngx.process"
                process.signal_graceful_exit()
                ngx.sleep(0.2)   -- the response still completes
                ngx.say("bye from ", ngx.worker.pid(), " exiting=", tostring(ngx.worker.exiting()))
            }
        }
        location = /slow {
            content_by_lua_block {
                ngx.log(ngx.WARN, "slow request ", ngx.var.arg_n, " started")
                ngx.sleep(tonumber(ngx.var.arg_s) or 1)
                ngx.say("slow done by ", ngx.worker.pid())
            }
        }
        location / {
            content_by_lua_block {
                ngx.say(ngx.worker.pid(), " ", tostring(ngx.worker.id()))
            }
        }
    }
}
CONF
    close $fh;
    my $m = fork // die;
    if ($m == 0) {
        open STDERR, '>', "$dir/logs/stderr.log";
    open STDOUT, '>', '/dev/null';
        open STDOUT, '>', '/dev/null';
        exec $bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf" or POSIX::_exit(1);
    }
    ok(wait_until(sub { defined http_get($port, "/") }, 10), "$tag: server answers");
    return ($dir, $port, $m);
}

sub stop {
    my ($m, $tag, $dir) = @_;
    kill 'QUIT', $m;
    ok(wait_until(sub { waitpid($m, POSIX::WNOHANG()) == $m }, 10), "$tag: exits on QUIT");
    unlike(read_file("$dir/logs/stderr.log"), qr/ERROR: (?:Address|Leak)Sanitizer|runtime error: /,
           "$tag: no sanitizer report");
}

# Runs a GET in a child process; returns a sub that waits for it and gives the body.
sub get_async {
    my ($port, $path) = @_;
    pipe(my $r, my $w) or die;
    my $pid = fork // die;
    if ($pid == 0) {
        close $r;
        print $w (http_get($port, $path, 10) // 'FAILED');
        close $w;
        POSIX::_exit(0);
    }
    close $w;
    return sub { local $/; my $b = <$r>; waitpid($pid, 0); return $b };
}

# ------------------------------------------------------ master + worker + agent
{
    my ($dir, $port, $m) = setup('master', 'on');
    my $log = sub { read_file("$dir/logs/error.log") };

    # the agent leaves by itself once (signal_graceful_exit from a timer)
    ok(wait_until(sub { $log->() =~ /agent (\d+) calls signal_graceful_exit/ }, 5),
       'the agent called signal_graceful_exit');
    my ($a1) = $log->() =~ /agent (\d+) calls signal_graceful_exit/;
    ok(wait_until(sub { $log->() =~ /privileged agent process $a1 exited with code 0/ }, 5),
       'the agent exited with code 0');
    like($log->(), qr/privileged agent $a1 pending timer: premature=true/,
         'after running its pending timer as premature');
    like($log->(), qr/exit_worker in privileged agent $a1/, 'and exit_worker_by_lua');
    ok(wait_until(sub { my @a = kids_titled($m, qr/privileged agent process$/); @a == 1 && $a[0] != $a1 }),
       'the master started a new agent');

    # a worker: the response completes, then the worker is replaced
    my ($w1) = (http_get($port, "/") // '') =~ /^(\d+) 0$/;
    ok($w1, 'worker 0 serves');
    my $body = http_get($port, "/exit", 5) // '';
    like($body, qr/^bye from $w1 exiting=true$/, 'the request that called it completes');
    ok(wait_until(sub { $log->() =~ /worker process $w1 exited with code 0/ }, 5),
       'the worker left with code 0');
    ok(!alive($w1), 'it is gone');
    my $text = $log->();
    like($text, qr/worker $w1 pending timer: premature=true/, 'its pending timer ran as premature');
    like($text, qr/exit_worker in worker $w1/, 'it ran exit_worker_by_lua');
    ok(wait_until(sub { my $b = http_get($port, "/") // ''; $b =~ /^(\d+) 0$/ && $1 != $w1 }, 5),
       'a new worker with the same id (0) serves');
    unlike($text, qr/premature=false/, 'no pending timer ran as a normal run');

    # QUIT sent twice straight to a worker that is draining a slow request
    my ($w2) = (http_get($port, "/") // '') =~ /^(\d+) /;
    my $slow = get_async($port, "/slow?s=1&n=1");
    ok(wait_until(sub { $log->() =~ /slow request 1 started/ }, 5), 'slow request 1 runs');
    kill 'QUIT', $w2;
    sleep 0.1;
    kill 'QUIT', $w2;
    sleep 0.1;
    kill 'QUIT', $w2;
    like($slow->(), qr/^slow done by $w2$/, 'QUIT x3 to a worker: its in-flight request completes');
    ok(wait_until(sub { $log->() =~ /worker process $w2 exited with code 0/ }, 5),
       'and it exits with code 0, not on signal 3');

    # two reloads while an old worker drains: one QUIT per child
    ok(wait_until(sub { defined http_get($port, "/") }, 5), 'serving again');
    my ($w3) = (http_get($port, "/") // '') =~ /^(\d+) /;
    $slow = get_async($port, "/slow?s=1.5&n=2");
    ok(wait_until(sub { $log->() =~ /slow request 2 started/ }, 5), 'slow request 2 runs');
    kill 'HUP', $m;
    sleep 0.3;
    kill 'HUP', $m;
    like($slow->(), qr/^slow done by $w3$/, 'two quick reloads: the old worker finishes its request');
    ok(wait_until(sub { $log->() =~ /worker process $w3 exited with code 0/ }, 5),
       'and exits with code 0');
    unlike($log->(), qr/exited on signal|\[emerg\]|\[crit\]/, 'no process died on a signal');
    stop($m, 'master', $dir);
}

# ---------------------------------------------------------------- single process
{
    my ($dir, $port, $m) = setup('single', 'off');
    my $body = http_get($port, "/exit", 5) // '';
    like($body, qr/^bye from $m exiting=true$/, 'single: the request that called it completes');
    ok(wait_until(sub { waitpid($m, POSIX::WNOHANG()) == $m }, 5), 'single: the process exits');
    is($? >> 8, 0, 'single: with code 0');
    my $text = read_file("$dir/logs/error.log");
    like($text, qr/single $m pending timer: premature=true/, 'single: pending timer ran as premature');
    like($text, qr/exit_worker in single $m/, 'single: exit_worker_by_lua ran');
}

done_testing();
