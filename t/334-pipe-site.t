# The default site (conf/nginx.conf + html/): /uptime runs uptime(1) through
# ngx.pipe and shows its output.
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
like(http_get($port, "/") // '', qr{href="/uptime"}, 'index.html links /uptime');
my $up = http_get($port, "/uptime") // '';
like($up, qr/^uptime \(pid \d+, exit 0\):\n.*load average/m, "/uptime shows uptime(1) ($up)");
unlike(read_file("$dir/logs/error.log"), qr/\[error\]|\[alert\]|\[emerg\]/, 'no error logged');
done_testing();
