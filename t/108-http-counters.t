# stub_status and connection numbers are shared by all workers (one
# MAP_SHARED region made by the master): totals, not one worker's view.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port alive children wait_until read_file pid_file cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");
my $dir = tempdir("lunet-counters-XXXXXX", TMPDIR => 1, CLEANUP => 1);
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs", "$dir/html");
my $port = free_port();

open my $fh, '>', "$dir/conf/nginx.conf" or die;
print $fh <<"CONF";
worker_processes 2;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; accept_mutex off; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$port;
        location /t { echo "\$pid \$connection"; }
        location /status { stub_status; }
    }
}
CONF
close $fh;

sub body {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
                                  Timeout => 3) or return undef;
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $resp = <$s> // '';
    close $s;
    return undef unless $resp =~ m{^HTTP/1\.[01] 200 };
    return (split /\r\n\r\n/, $resp, 2)[1];
}

open my $saved, '>&', \*STDERR or die;
open STDERR, '>', '/dev/null' or die;
my $rc = system($bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf") >> 8;
open STDERR, '>&', $saved or die;
is($rc, 0, 'started');
my $m;
ok(wait_until(sub { $m = pid_file("$dir/logs/nginx.pid"); my @k = $m ? children($m) : (); @k == 2 }), "two workers");
ok(wait_until(sub { defined body('/t') }), 'serving');

# New connections until both workers have answered (bounded).
my (%pids, %conns);
my $n = 1;  # the probe above
my $dup = 0;
for (1 .. 400) {
    my $b = body('/t') // next;
    $n++;
    my ($pid, $conn) = $b =~ /^(\d+) (\d+)$/ or next;
    $pids{$pid}++;
    $dup++ if $conns{$conn}++;
    last if keys %pids == 2 && $n >= 20;
}
is(scalar keys %pids, 2, 'both workers served requests');
is($dup, 0, '$connection numbers are unique across workers');

my $st = body('/status') // '';
$n++;
like($st, qr/^Active connections: 1 \n/, 'one active connection (this one) in total');
my ($acc, $hand, $req) = $st =~ /\n (\d+) (\d+) (\d+) \n/;
is($acc, $n, 'accepts counts every worker');
is($hand, $n, 'handled counts every worker');
is($req, $n, 'requests counts every worker');
like($st, qr/Reading: 0 Writing: 1 Waiting: 0 \n$/, 'reading/writing/waiting totals');

# Numbers keep growing across a reload (the region is kept).
my $before = $n;
my $size = -s "$dir/logs/error.log";
kill 'HUP', $m;
ok(wait_until(sub { substr(read_file("$dir/logs/error.log"), $size) =~ /start worker process.*\n.*start worker process/s }),
   'reloaded');
my ($acc2) = (body('/status') // '') =~ /\n (\d+) \d+ \d+ \n/;
cmp_ok($acc2 // 0, '>', $before, 'accepts kept across reload');

kill 'TERM', $m;
ok(wait_until(sub { !alive($m) }), 'master exits');
done_testing();
