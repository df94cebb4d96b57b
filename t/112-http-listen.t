# listen: a wildcard and a specific address on one port do not conflict —
# only the wildcard is bound and the connection's local address picks the
# server (as nginx); `bind` gives the specific address its own socket;
# listen PORT, *:PORT, [::1]:PORT; unix: sockets are refused loudly.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use IO::Socket::IP;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port alive wait_until read_file pid_file cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");
my $dir = tempdir("lunet-listen-XXXXXX", TMPDIR => 1, CLEANUP => 1);
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs", "$dir/html");
my ($p1, $p2, $p3) = (free_port(), free_port(), free_port());
my $v6 = IO::Socket::IP->new(Listen => 1, LocalHost => '::1', LocalPort => 0) ? 1 : 0;
my $v6conf = $v6 ? "server { listen [::1]:$p3; return 200 \"v6\\n\"; }" : '';

sub conf {
    my ($extra) = @_;
    open my $fh, '>', "$dir/conf/nginx.conf" or die;
    print $fh <<"CONF";
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    server { listen $p1; return 200 "wild \$server_addr\\n"; }
    server { listen 127.0.0.1:$p1; return 200 "specific \$server_addr\\n"; }
    server { listen *:$p2; return 200 "star\\n"; }
    $v6conf
    $extra
}
CONF
    close $fh;
}

sub get {
    my ($host, $port) = @_;
    my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Timeout => 3) or return undef;
    print $s "GET / HTTP/1.0\r\nHost: x\r\n\r\n";
    local $/;
    my $resp = <$s> // '';
    return (split /\r\n\r\n/, $resp, 2)[1];
}

conf('');
my $out = `$bin -p $dir/ -c $dir/conf/nginx.conf -t 2>&1`;
is($? >> 8, 0, '-t ok') or diag $out;
system($bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf");
ok(wait_until(sub { defined get('127.0.0.1', $p1) }), 'started (no bind conflict)');
is(get('127.0.0.1', $p1), "specific 127.0.0.1\n", 'specific address picks its server');
is(get('127.0.0.2', $p1), "wild 127.0.0.2\n", 'other local address goes to the wildcard');
is(get('127.0.0.1', $p2), "star\n", 'listen *:PORT');
SKIP: {
    skip 'no IPv6 loopback', 1 unless $v6;
    is(get('::1', $p3), "v6\n", 'listen [::1]:PORT');
}
my $m = pid_file("$dir/logs/nginx.pid");
kill 'TERM', $m;
ok(wait_until(sub { !alive($m) }), 'stopped');

# `bind` gives the specific address a socket of its own: next to the
# wildcard on Linux that fails at bind(), exactly as it does for nginx.
conf("server { listen 127.0.0.3:$p2 bind; return 200 \"bound\\n\"; }");
open my $saved, '>&', \*STDERR or die;
open STDERR, '>', '/dev/null' or die;
my $rc = system($bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf") >> 8;
open STDERR, '>&', $saved or die;
isnt($rc, 0, 'bind: own socket, conflicts with the wildcard');
like(read_file("$dir/logs/error.log"), qr/bind\(\) to 127\.0\.0\.3:$p2 failed \(98: Address already in use\)/,
     'bind() error logged');

conf("server { listen unix:$dir/s.sock; }");
$out = `$bin -p $dir/ -c $dir/conf/nginx.conf -t 2>&1`;
is($? >> 8, 1, 'unix: socket refused');
like($out, qr/\[emerg\].*unix domain sockets are not supported/, 'with an [emerg]');
done_testing();
