# 1000 concurrent proxied requests: the client opens them all at once, the
# proxy (a keepalive upstream, keepalive 32) passes each to a second server
# block of the same instance; every one gets its own answer. Runs against
# Debian's nginx too (TEST_NGINX_BINARY=/usr/sbin/nginx).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port wait_until http_get cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || "$FindBin::Bin/../build/release/lunet";
my $dir = tempdir("lunet-t408-XXXXXX", TMPDIR => 1, CLEANUP => 1);
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs");
my ($port, $back) = (free_port(), free_port());
open my $fh, '>', "$dir/conf/nginx.conf" or die;
print $fh <<"EOC";
daemon off;
master_process off;
worker_rlimit_nofile 8192;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    upstream back { server 127.0.0.1:$back; keepalive 32; }
    server {
        listen 127.0.0.1:$back;
        location / { return 200 "answer \$arg_n\\n"; }
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://back;
        }
    }
}
EOC
close $fh;
my $pid = fork // die;
if ($pid == 0) {
    open STDERR, '>', "$dir/logs/stderr.log";
    exec $bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf" or exit 1;
}
END { if ($pid) { kill 'TERM', $pid; waitpid($pid, 0); } }
ok(wait_until(sub { defined http_get($port, "/?n=0") }, 10), 'server answers');

my $n = 1000;
my (%sock, %buf);
for my $i (1 .. $n) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or last;
    $s->blocking(0);
    $sock{$i} = $s;
    $buf{$i} = '';
}
is(scalar(keys %sock), $n, "$n connections open");
# All requests go out before any answer is read.
syswrite($sock{$_}, "GET /?n=$_ HTTP/1.0\r\nHost: x\r\n\r\n") for keys %sock;
my $sel = IO::Select->new(values %sock);
my %fileno = map { fileno($sock{$_}) => $_ } keys %sock;
my $deadline = time + 20;
my $done = 0;
while ($sel->count && time < $deadline) {
    for my $s ($sel->can_read(1)) {
        my $i = $fileno{fileno $s};
        my $r = sysread($s, $buf{$i}, 4096, length $buf{$i});
        next if !defined $r;
        if ($r == 0) {
            $sel->remove($s);
            close $s;
            $done++;
        }
    }
}
is($done, $n, 'every response ended');
my $good = grep { $buf{$_} =~ m{^HTTP/1\.1 200 .*\r\n\r\nanswer $_\n\z}s } keys %buf;
is($good, $n, 'each got its own answer');
done_testing();
