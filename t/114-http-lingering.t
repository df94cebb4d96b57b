# Lingering close: every read re-arms lingering_timeout, and lingering_time
# caps the whole (nginx semantics).
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use IO::Select;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Time::HiRes qw(time sleep);
use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port alive wait_until pid_file cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");
my $dir = tempdir("lunet-linger-XXXXXX", TMPDIR => 1, CLEANUP => 1);
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs");
my $port = free_port();
open my $fh, '>', "$dir/conf/nginx.conf" or die;
print $fh <<"CONF";
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$port;
        lingering_close always;
        lingering_timeout 1s;
        lingering_time 3s;
        location / { keepalive_timeout 0; return 200 "ok\\n"; }
    }
}
CONF
close $fh;
system($bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf");
sub conn { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp') }
ok(wait_until(sub { my $s = conn(); defined $s }), 'started');

# The server half-closes (the client sees EOF at once) and then reads and
# drops until it closes for good; a write after that draws a reset, the
# next one fails. Returns seconds from the response until a write failed,
# writing a byte every $every seconds.
$SIG{PIPE} = 'IGNORE';
sub response {
    my $s = conn() or die;
    print $s "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    local $/;
    my $resp = <$s> // '';    # until the server's FIN
    return ($s, $resp);
}
sub linger {
    my ($every) = @_;
    my ($s, $resp) = response();
    my $start = time;
    like($resp, qr/\r\n\r\nok\n\z/, 'response');
    while (time - $start < 8) {
        sleep $every;
        return time - $start unless syswrite($s, 'x');
    }
    return -1;
}

my ($s, $resp) = response();
sleep 1.5;
syswrite($s, 'x');
sleep 0.2;
ok(!syswrite($s, 'x'), 'an idle client is closed after lingering_timeout');
my $busy = linger(0.4);
cmp_ok($busy, '>', 2.5, 'a client that keeps writing re-arms lingering_timeout');
cmp_ok($busy, '<', 4.5, '... until lingering_time');
my $m = pid_file("$dir/logs/nginx.pid");
kill 'TERM', $m;
ok(wait_until(sub { !alive($m) }), 'stopped');
done_testing();
