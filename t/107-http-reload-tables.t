# The phase engine and the filter chains belong to a cycle: a reload whose new
# configuration fails (early, in a location, or late, after http{} was fully
# built) must leave the running generation's tables intact, including in
# workers the master respawns afterwards.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Time::HiRes qw(sleep);
use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port alive children wait_until read_file pid_file cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");
my $dir = tempdir("lunet-tables-XXXXXX", TMPDIR => 1, CLEANUP => 1);
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs", "$dir/html");
my $port = free_port();

# Generation 1: a header filter (add_header, installed only when used),
# echo, rewrite, and a Lua body filter (also installed only when used).
my $gen1_locations = <<'LOC';
        location /t {
            add_header X-Gen gen1;
            expires 1h;
            echo "hello";
        }
        location /r { rewrite ^/r/(.*)$ /t last; }
        location /lua {
            body_filter_by_lua_block { if ngx.arg[1] then ngx.arg[1] = string.upper(ngx.arg[1]) end }
            echo "hello";
        }
LOC

sub write_conf {
    my ($locations, $after) = @_;
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
$locations
    }
}
$after
CONF
    close $fh;
}

sub request {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
                                  Timeout => 3) or return undef;
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $resp = <$s>;
    close $s;
    return $resp;
}

sub lunet {
    open my $saved, '>&', \*STDERR or die;
    open STDERR, '>', '/dev/null' or die;
    my $rc = system($bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf", @_) >> 8;
    open STDERR, '>&', $saved or die;
    return $rc;
}

sub check_gen1 {
    my ($what) = @_;
    for my $path ('/t', '/r/x') {
        my $resp = request($path) // '';
        like($resp, qr{^HTTP/1\.[01] 200 }, "$what: $path is 200");
        like($resp, qr{\r\nX-Gen: gen1\r\n}i, "$what: $path has add_header of gen 1");
        like($resp, qr{\r\nCache-Control: max-age=3600\r\n}i, "$what: $path has expires of gen 1");
        like($resp, qr{\r\n\r\nhello\n\z}, "$what: $path body");
    }
    my $resp = request('/lua') // '';
    like($resp, qr{\r\n\r\nHELLO\n\z}, "$what: /lua went through the Lua body filter");
}

sub respawn {
    my ($m, $what) = @_;
    my @kids = children($m);
    is(scalar @kids, 1, "$what: one worker");
    kill 'KILL', $kids[0];
    ok(wait_until(sub { my @k = children($m); @k == 1 && $k[0] != $kids[0] }),
       "$what: worker respawned");
    ok(wait_until(sub { defined request('/t') }), "$what: respawned worker serves");
}

write_conf($gen1_locations, '');
is(lunet(), 0, 'started');
ok(wait_until(sub { defined request('/t') }), 'serving');
my $m = pid_file("$dir/logs/nginx.pid");
ok($m, 'master pid');
check_gen1('gen 1');

# Each failing generation would, if its tables leaked into the master's
# state, drop the add_header/expires and Lua body filters and add a Lua
# rewrite handler.
my $gen2_locations = <<'LOC';
        location /t {
            rewrite_by_lua_block { ngx.exit(403) }
            echo "gen2";
        }
LOC
my @bad = (
    ['bad rewrite regex in a location',
     $gen2_locations . "        location /bad { rewrite ^/(unclosed /x; }\n", ''],
    ['unknown directive after http{}', $gen2_locations, 'bogus_after_http on;'],
    ['init_by_lua failing', $gen2_locations =~ s/^/        init_by_lua_block { error("boom") }\n/r, ''],
);
for my $b (@bad) {
    my ($what, $locs, $after) = @$b;
    if ($what =~ /init_by_lua/) {
        # init_by_lua lives at http{} level: put it before the server.
        open my $fh, '>', "$dir/conf/nginx.conf" or die;
        print $fh <<"CONF";
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    init_by_lua_block { error("boom") }
    server {
        listen 127.0.0.1:$port;
$gen2_locations
    }
}
CONF
        close $fh;
    } else {
        write_conf($locs, $after);
    }
    my $size = -s "$dir/logs/error.log";
    kill 'HUP', $m;
    # init_by_lua errors are [error], as lua-nginx-module logs them; the rest [emerg].
    my $level = $what =~ /init_by_lua/ ? 'error' : 'emerg';
    ok(wait_until(sub { my $t = read_file("$dir/logs/error.log"); length($t) > $size
                        && substr($t, $size) =~ /\[$level\]/ }), "$what: reload fails with [$level]");
    sleep 0.2;
    ok(alive($m), "$what: master still running");
    check_gen1("$what, old worker");
    respawn($m, $what);
    check_gen1("$what, respawned worker");
}

write_conf($gen1_locations, '');
kill 'TERM', $m;
ok(wait_until(sub { !alive($m) }), 'master exits');
unlike(read_file("$dir/logs/error.log"), qr/\[alert\].*exited on signal (?!9\b)/,
       'no worker crashed');
done_testing();
