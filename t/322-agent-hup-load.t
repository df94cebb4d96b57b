# The seeds' privileged-agent example, as written (with a 0.5 s period
# instead of 5 s): the agent's init_worker_by_lua starts
# ngx.timer.every(N, reload), and reload reads ngx.config.prefix() ..
# "/logs/nginx.pid" and runs os.execute("kill -HUP " .. pid). The server
# reloads while loopback clients (keep-alive and Connection: close) keep
# requesting, and no request fails.
#
# As in OpenResty, a retiring agent runs its pending `every` timer once more
# with premature = true, and the example's reload() does not look at
# `premature`: each retiring agent sends one more HUP, so the verbatim
# example reloads back to back. The second run adds the usual
# `if premature then return end` and reloads once per period.
#
# Lunet only: Debian's nginx has no privileged agent (OpenResty core patch).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Time::HiRes qw(time sleep);
use IO::Socket::INET;
use POSIX ();
use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port alive wait_until read_file http_get cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");

sub write_conf {
    my ($dir, $port, $premature_check) = @_;
    my $check = $premature_check ? "if premature then return end" : "";
    my $user = $> == 0 ? "user nobody;" : "";
    open my $fh, '>', "$dir/conf/nginx.conf" or die;
    print $fh <<"CONF";
$user
worker_processes 2;
daemon off;
master_process on;
error_log logs/error.log notice;
pid logs/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    init_by_lua_block {
        local process = require "ngx.process"
        local ok, err = process.enable_privileged_agent()
        if not ok then
            ngx.log(ngx.ERR, "enables privileged agent failed error:", err)
        end
    }
    init_worker_by_lua_block {
        local process = require "ngx.process"
        if process.type() ~= "privileged agent" then
            return
        end

        local function reload(premature)
            $check
            local f, err = io.open(ngx.config.prefix() .. "/logs/nginx.pid", "r")
            if not f then
                ngx.log(ngx.ERR, "failed to open nginx.pid: ", err)
                return
            end
            local pid = f:read()
            f:close()
            os.execute("kill -HUP " .. pid)
        end

        ngx.timer.every(0.5, reload)
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            content_by_lua_block { ngx.say("ok ", ngx.worker.pid()) }
        }
    }
}
CONF
    close $fh;
}

# Reads one response from $s; returns (status, keep-alive?) or () on failure.
sub read_response {
    my ($s) = @_;
    my $buf = '';
    while ($buf !~ /\r\n\r\n/) {
        my $n = sysread($s, $buf, 4096, length $buf);
        return () unless $n;
    }
    my ($head, $body) = split /\r\n\r\n/, $buf, 2;
    my ($status) = $head =~ m{^HTTP/1\.1 (\d+)} or return ();
    my $keep = $head !~ /^Connection: close/mi;
    if ($head =~ /^Content-Length: (\d+)/mi) {
        my $len = $1;
        while (length($body) < $len) {
            my $n = sysread($s, $body, 4096, length $body);
            return () unless $n;
        }
    } elsif ($head =~ /^Transfer-Encoding: chunked/mi) {
        while ($body !~ /(?:^|\r\n)0\r\n\r\n$/) {
            my $n = sysread($s, $body, 4096, length $body);
            return () unless $n;
        }
    }
    return ($status, $keep);
}

# $n clients for $secs seconds; half keep connections alive, half send
# "Connection: close". Returns (ok, failed).
sub load {
    my ($port, $n, $secs) = @_;
    my @kids;
    for my $i (1 .. $n) {
        pipe(my $r, my $w) or die;
        my $pid = fork // die;
        if ($pid == 0) {
            close $r;
            my $close = $i % 2;
            my ($ok, $fail, $s) = (0, 0);
            my $end = time + $secs;
            while (time < $end) {
                $s //= IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                              Proto => 'tcp', Timeout => 3);
                unless ($s) { $fail++; sleep 0.01; next; }
                my $req = "GET / HTTP/1.1\r\nHost: localhost\r\n"
                        . ($close ? "Connection: close\r\n" : "") . "\r\n";
                my ($status, $keep) = syswrite($s, $req) ? read_response($s) : ();
                if (defined $status && $status == 200) { $ok++ } else { $fail++ }
                if (!defined $status || !$keep) { close $s; undef $s; }
            }
            print $w "$ok $fail\n";
            close $w;
            POSIX::_exit(0);
        }
        close $w;
        push @kids, [$pid, $r];
    }
    my ($ok, $fail) = (0, 0);
    for (@kids) {
        my ($pid, $r) = @$_;
        my $line = <$r> // "0 1\n";
        waitpid($pid, 0);
        my ($o, $f) = split ' ', $line;
        $ok += $o;
        $fail += $f;
    }
    return ($ok, $fail);
}

sub run_case {
    my ($name, $premature_check) = @_;
    my $dir = tempdir("lunet-agenthup-XXXXXX", TMPDIR => 1, CLEANUP => !$ENV{KEEP});
    cleanup_servers($dir);
    make_path("$dir/conf", "$dir/logs");
    chmod 0755, $dir;
    my $port = free_port();
    write_conf($dir, $port, $premature_check);
    my $m = fork // die;
    if ($m == 0) {
        open STDERR, '>', "$dir/logs/stderr.log";
    open STDOUT, '>', '/dev/null';
        open STDOUT, '>', '/dev/null';
        exec $bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf" or POSIX::_exit(1);
    }
    ok(wait_until(sub { defined http_get($port, "/") }, 10), "$name: server answers");
    my $t0 = time;
    my ($ok, $fail) = load($port, 6, 3);
    my $elapsed = time - $t0;
    my $log = read_file("$dir/logs/error.log");
    my $hups = () = $log =~ /signal 1 \(SIGHUP\) received/g;
    note("$name: $ok requests, $fail failed, $hups reloads in " . sprintf("%.1f", $elapsed) . " s");
    cmp_ok($ok, '>', 100, "$name: requests served under load ($ok)");
    is($fail, 0, "$name: no request failed while the agent reloaded the server");
    cmp_ok($hups, '>=', 3, "$name: the agent's job reloaded the server ($hups times)");
    if ($premature_check) {
        cmp_ok($hups, '<=', int($elapsed / 0.5) + 3, "$name: about one reload per period");
    }
    unlike($log, qr/exited on signal|\[emerg\]|\[crit\]|failed to open nginx\.pid|enables privileged agent failed/,
           "$name: no crash and no error");
    ok(defined http_get($port, "/"), "$name: still serving afterwards");
    kill 'QUIT', $m;
    ok(wait_until(sub { waitpid($m, POSIX::WNOHANG()) == $m }, 15), "$name: exits on QUIT");
    unlike(read_file("$dir/logs/stderr.log"), qr/ERROR: (?:Address|Leak)Sanitizer|runtime error: /,
           "$name: no sanitizer report");
}

run_case('verbatim', 0);
run_case('with a premature check', 1);

done_testing();
