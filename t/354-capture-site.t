# The default site (conf/nginx.conf + html/): /capture builds a page from
# three locations captured in parallel with ngx.location.capture_multi.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use File::Copy qw(copy);
use Time::HiRes qw(sleep);
use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port wait_until read_file http_get cleanup_servers);

my $root = abs_path("$FindBin::Bin/..");
my $bin = $ENV{TEST_NGINX_BINARY} || "$root/build/release/lunet";
plan skip_all => 'the default site uses lunet.timer and ngx.pipe (Lunet only)' if $bin =~ m{/nginx$};
my $dir = tempdir("lunet-site-XXXXXX", TMPDIR => 1, CLEANUP => 1);
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs", "$dir/html");
chmod 0755, $dir;
my $port = free_port();
my $conf = read_file("$root/conf/nginx.conf");
ok($conf =~ s/listen 127\.0\.0\.1:8080;/listen 127.0.0.1:$port;/, 'default conf listens on 8080');
$conf = "daemon off;\n$conf";
open my $fh, '>', "$dir/conf/nginx.conf" or die;
print $fh $conf;
close $fh;
copy("$root/conf/mime.types", "$dir/conf/mime.types") or die;
copy("$root/html/$_", "$dir/html/$_") or die for qw(index.html timer.html);
chmod 0644, glob "$dir/html/*";

my $pid = fork // die;
if ($pid == 0) {
    open STDERR, '>', "$dir/logs/stderr.log";
    exec $bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf" or exit 1;
}
END { if ($pid) { kill 'QUIT', $pid; sleep 0.3; kill 'KILL', $pid; } }

ok(wait_until(sub { defined http_get($port, "/") }, 10), 'server answers');
like(http_get($port, "/") // '', qr{href="/capture"}, 'index.html links /capture');
my $page = http_get($port, "/capture") // '';
like($page, qr{^captured in parallel:\n/whoami \(200\): 127\.0\.0\.1: .*\n/hits \(200\): \d+\n\n/uptime \(200\): uptime \(pid \d+, exit 0\):\n.*load average}s,
     "/capture shows the three subrequests ($page)");
unlike(read_file("$dir/logs/error.log"), qr/\[error\]|\[alert\]|\[emerg\]/, 'no error logged');
done_testing();
