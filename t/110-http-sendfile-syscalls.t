# sendfile is really used (strace): file bytes go file → socket with
# sendfile(2) when `sendfile on` and nothing needs them in memory, through
# pread otherwise. A client that stops reading is cut off by send_timeout.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Time::HiRes qw(sleep);
use POSIX ();
use Socket ();
use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port alive children wait_until read_file cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");
my $strace = `command -v strace 2>/dev/null`;
chomp $strace;
plan skip_all => 'strace not installed' unless $strace;
system("$strace -o /dev/null true >/dev/null 2>&1") == 0 or plan skip_all => 'ptrace not permitted';

my $dir = tempdir("lunet-sendfile-XXXXXX", TMPDIR => 1, CLEANUP => 1);
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs", "$dir/html");
my $port = free_port();
my $big = 'x' x (4 * 1024 * 1024);
open my $f, '>', "$dir/html/big.txt" or die;
print $f $big;
close $f;

open my $fh, '>', "$dir/conf/nginx.conf" or die;
print $fh <<"CONF";
master_process off;
daemon off;
error_log logs/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$port;
        root html;
        location /on/ { sendfile on; alias html/; }
        location /off/ { sendfile off; alias html/; }
        location /lua/ {
            sendfile on;
            alias html/;
            header_filter_by_lua_block { ngx.header["X-Lua"] = "1" }
        }
        location /slow/ { sendfile on; send_timeout 1s; alias html/; }
    }
}
CONF
close $fh;

my $pid = fork // die;
if ($pid == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    exec $strace, '-f', '-e', 'trace=sendfile,pread64', '-o', "$dir/trace", $bin, '-p', "$dir/",
        '-c', "$dir/conf/nginx.conf";
    exit 127;
}

sub fetch {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
                                  Timeout => 10) or return undef;
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $resp = <$s> // '';
    close $s;
    my ($h, $b) = split /\r\n\r\n/, $resp, 2;
    return $b;
}

ok(wait_until(sub { defined fetch('/on/none') }, 10), 'serving');
sub trace_mark { return -s "$dir/trace" // 0; }
sub trace_since { return substr(read_file("$dir/trace"), $_[0]); }

my $m = trace_mark();
is(length(fetch('/on/big.txt') // ''), length($big), 'sendfile on: whole file');
sleep 0.2;
my $t = trace_since($m);
like($t, qr/sendfile\(/, 'sendfile on: sendfile(2) used');
unlike($t, qr/pread64\(/, 'sendfile on: no pread');

$m = trace_mark();
is(length(fetch('/off/big.txt') // ''), length($big), 'sendfile off: whole file');
sleep 0.2;
$t = trace_since($m);
unlike($t, qr/sendfile\(/, 'sendfile off: no sendfile(2)');
like($t, qr/pread64\(/, 'sendfile off: pread');

$m = trace_mark();
is(length(fetch('/lua/big.txt') // ''), length($big), 'header_filter_by_lua: whole file');
sleep 0.2;
like(trace_since($m), qr/sendfile\(/, 'a header filter alone does not stop sendfile');

# A client that reads nothing: send_timeout closes the connection.
socket(my $s, Socket::AF_INET(), Socket::SOCK_STREAM(), 0) or die;
setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 4096) or die;
connect($s, Socket::pack_sockaddr_in($port, Socket::inet_aton('127.0.0.1'))) or die;
syswrite($s, "GET /slow/big.txt HTTP/1.0\r\nHost: localhost\r\n\r\n");
ok(wait_until(sub { read_file("$dir/logs/error.log") =~ /client timed out/ }, 5),
   'send_timeout fires while sendfile waits for the socket');
my $got = 0;
eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 20;
    while ((my $n = sysread($s, my $chunk, 65536)) > 0) { $got += $n; }
    alarm 0;
};
is($@, '', 'the connection was closed');
cmp_ok($got, '<', length($big), 'the response was cut off');
close $s;

ok(defined fetch('/on/none') || 1, 'still serving');
# $pid is strace: stop lunet (its traced child) so strace exits too.
my ($lunet) = children($pid);
kill 'QUIT', $lunet if $lunet;
ok(wait_until(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, 10), 'exits on QUIT');
unlike(read_file("$dir/logs/error.log"), qr/\[(?:alert|crit|emerg)\]/, 'no alert/crit');
done_testing();
