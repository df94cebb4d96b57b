# Per-operation waits (Part A of issue 11): two requests blocked in
# ngx.flush(true) at once; aborting the first must not touch the second's
# wait (with one shared Wait, the second never resumed). Drives its own
# server with raw sockets: the harness's client always reads everything.
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
use Lunet::Proc qw(free_port wait_until read_file cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");
my $dir = tempdir("lunet-waits-XXXXXX", TMPDIR => 1, CLEANUP => !$ENV{KEEP});
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs", "$dir/html");
my $port = free_port();
my $load = join '', map { "load_module $_;\n" } split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');

open my $fh, '>', "$dir/conf/nginx.conf" or die;
print $fh <<"CONF";
$load
master_process off;
daemon off;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$port;
        location /big {
            content_by_lua_block {
                ngx.print(string.rep("x", 8 * 1024 * 1024))
                ngx.log(ngx.NOTICE, "flushing ", ngx.var.arg_n)
                ngx.flush(true)
                ngx.log(ngx.NOTICE, "flushed ", ngx.var.arg_n)
            }
            log_by_lua_block { ngx.log(ngx.NOTICE, "done ", ngx.var.arg_n) }
        }
    }
}
CONF
close $fh;

my $pid = fork // die;
if ($pid == 0) {
    open STDERR, '>', "$dir/logs/stderr.log";
    exec $bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf" or exit 1;
}
END { kill 'KILL', $pid if $pid; }

sub log_text { return read_file("$dir/logs/error.log"); }

sub connect_get {
    my ($path) = @_;
    my $s;
    wait_until(sub {
        $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
        return defined $s;
    }, 5) or die "connect: $!";
    print $s "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    return $s;
}

my $a = connect_get("/big?n=1");
ok(wait_until(sub { log_text() =~ /flushing 1/ }), 'first request waits in ngx.flush(true)');
my $b = connect_get("/big?n=2");
ok(wait_until(sub { log_text() =~ /flushing 2/ }), 'second request waits in ngx.flush(true)');

# Abort the first: closing with unread data resets the connection.
close $a;
ok(wait_until(sub { log_text() =~ /done 1/ }), 'first request ends');

# The second must still finish once its client reads.
my $got = 0;
my $deadline = time + 10;
my $eof = 0;
$SIG{ALRM} = sub { die "read timeout\n" };
eval {
    alarm 10;
    while (1) {
        my $n = sysread($b, my $buf, 262144);
        die "read: $!\n" unless defined $n;
        if ($n == 0) { $eof = 1; last; }
        $got += $n;
    }
    alarm 0;
};
ok($eof, 'second response completes (connection closed by the server)');
cmp_ok($got, '>', 8 * 1024 * 1024, 'second response body read in full');
like(log_text(), qr/flushed 2/, 'second request resumed after its flush');
unlike(log_text(), qr/\[alert\]|\[crit\]|\[emerg\]/, 'no alert');
# Graceful stop; a sanitizer build reports on stderr.
kill 'QUIT', $pid;
ok(wait_until(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, 10), 'server exits on QUIT');
$pid = 0;
unlike(read_file("$dir/logs/stderr.log"), qr/ERROR: (?:Address|Leak)Sanitizer|runtime error: /,
       'no sanitizer report');
done_testing();
