# The default site (conf/nginx.conf + html/) enables the privileged agent:
# its job reports into the shared dict, /agent shows it beside the worker
# that answered (as root: the agent keeps uid 0, the worker is nobody).
# Lunet only (ngx.process's agent needs OpenResty's core patch in nginx).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use File::Copy qw(copy);
use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX ();
use Lunet::Proc qw(free_port children wait_until read_file http_get cleanup_servers);

my $root = abs_path("$FindBin::Bin/..");
my $bin = $ENV{TEST_NGINX_BINARY} || "$root/build/release/lunet";
plan skip_all => 'the privileged agent is Lunet only here' if $bin =~ m{/nginx$};
my $dir = tempdir("lunet-agentsite-XXXXXX", TMPDIR => 1, CLEANUP => 1);
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
copy("$root/html/$_", "$dir/html/$_") or die for qw(index.html agent.html);
chmod 0644, glob "$dir/html/*";

my $pid = fork // die;
if ($pid == 0) {
    open STDERR, '>', "$dir/logs/stderr.log";
    open STDOUT, '>', '/dev/null';
    exec $bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf" or exit 1;
}
# Stop gracefully and wait (bounded); killing the master early would orphan
# its workers and agent.
sub stop_server {
    return unless $pid;
    kill 'QUIT', $pid;
    my $gone = wait_until(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, 10);
    unless ($gone) { kill 'KILL', children($pid), $pid; waitpid($pid, 0); }
    $pid = 0;
    return $gone;
}
END { stop_server() }

ok(wait_until(sub { defined http_get($port, "/") }, 10), 'server answers');
like(http_get($port, "/") // '', qr{href="/agent\.html"}, 'index.html links to agent.html');
like(http_get($port, "/agent.html") // '', qr/privileged agent/, 'agent.html is served');
my $j;
ok(wait_until(sub { $j = http_get($port, "/agent") // ''; $j =~ /"ticks":(?:[2-9]|\d\d)/ }, 6),
   "the agent's job ticks ($j)");
like($j, qr/"type":"privileged agent"/, 'it runs in the privileged agent');
like($j, qr/"master":$pid\b/, 'it knows the master pid');
like($j, qr/"worker":\{[^}]*"type":"worker"/, 'a worker answered');
if ($> == 0) {
    like($j, qr/"agent":\{[^}]*"uid":0\b/, 'as root: the agent keeps uid 0');
    like($j, qr/"worker":\{[^}]*"uid":65534\b/, 'and the worker runs as nobody');
}
ok(stop_server(), 'the server exits on QUIT');
unlike(read_file("$dir/logs/error.log"), qr/\[error\]|\[alert\]|\[emerg\]/, 'no error logged');
done_testing();
