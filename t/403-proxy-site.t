# The default site (conf/nginx.conf + html/): /app/ is proxied to the
# second server block over a keepalive upstream, and the home page links it.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use File::Copy qw(copy);
use Time::HiRes qw(sleep);
use IO::Socket::INET;
use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port wait_until read_file http_get cleanup_servers);

my $root = abs_path("$FindBin::Bin/..");
my $bin = $ENV{TEST_NGINX_BINARY} || "$root/build/release/lunet";
plan skip_all => 'the default site uses lunet.timer and the privileged agent (Lunet only)'
    if $bin =~ m{/nginx$};
my $dir = tempdir("lunet-site-XXXXXX", TMPDIR => 1, CLEANUP => 1);
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs", "$dir/html");
chmod 0755, $dir;
my $port = free_port();
my $app = free_port();
my $conf = read_file("$root/conf/nginx.conf");
ok($conf =~ s/listen 127\.0\.0\.1:8080;/listen 127.0.0.1:$port;/, 'default conf listens on 8080');
ok($conf =~ s/127\.0\.0\.1:8081;/127.0.0.1:$app;/g == 2, 'the app server on 8081, twice');
$conf = "daemon off;\n$conf";
open my $fh, '>', "$dir/conf/nginx.conf" or die;
print $fh $conf;
close $fh;
copy("$root/conf/mime.types", "$dir/conf/mime.types") or die;
copy("$root/html/$_", "$dir/html/$_") or die for qw(index.html timer.html agent.html);
chmod 0644, glob "$dir/html/*";

my $pid = fork // die;
if ($pid == 0) {
    open STDERR, '>', "$dir/logs/stderr.log";
    exec $bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf" or exit 1;
}
END { if ($pid) { kill 'QUIT', $pid; sleep 0.3; kill 'KILL', $pid; } }

ok(wait_until(sub { defined http_get($port, "/") }, 10), 'server answers');
like(http_get($port, "/"), qr{href="/app/hello"}, 'the home page links /app/hello');
sub raw_get {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 3)
        or return '';
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $r = <$s> // '';
    return $r;
}
for my $i (1 .. 3) {
    my $r = raw_get("/app/hello?n=$i");
    like($r, qr{^HTTP/1\.1 200}, "proxied request $i: 200");
    like($r, qr{\r\n\r\napp: /hello\?n=$i, proxied for 127\.0\.0\.1\n$}, "request $i reached the app");
    like($r, qr{X-Upstream: 127\.0\.0\.1:$app\r\n}, "request $i: \$upstream_addr");
}
done_testing();
