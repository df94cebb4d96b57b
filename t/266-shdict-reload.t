# Shared dicts across HUP: a dict whose name and size are unchanged keeps
# its contents (init_by_lua of the new generation sees them), one whose size
# changed starts empty, a new one appears; a reload that fails leaves the
# running dicts alone. Also runs against nginx (TEST_NGINX_BINARY and
# TEST_NGINX_LOAD_MODULES as for the other files).
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
my $modules = join '', map { "load_module $_;\n" } split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
my $dir = tempdir("lunet-shdict-reload-XXXXXX", TMPDIR => 1, CLEANUP => 1);
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs", "$dir/html");
my $port = free_port();

sub write_conf {
    my ($gen, $dicts) = @_;
    open my $fh, '>', "$dir/conf/nginx.conf" or die;
    print $fh <<"CONF";
${modules}worker_processes 2;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
$dicts
    init_by_lua_block {
        ngx.shared.keep:incr("inits", 1, 0)
    }
    server {
        listen 127.0.0.1:$port;
        location /gen { return 200 "$gen"; }
        location /set {
            content_by_lua_block {
                for name, d in pairs(ngx.shared) do d:set("k", "v-" .. name) end
                ngx.say("ok")
            }
        }
        location /get {
            content_by_lua_block {
                local out = {}
                for _, name in ipairs({"keep", "resize", "fresh", "gone"}) do
                    local d = ngx.shared[name]
                    out[#out + 1] = name .. "=" .. (d and tostring(d:get("k")) or "absent")
                end
                ngx.say(table.concat(out, " "), " inits=", ngx.shared.keep:get("inits"))
            }
        }
    }
}
CONF
    close $fh;
}

sub body {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
                                  Timeout => 3) or return undef;
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $resp = <$s> // '';
    close $s;
    return undef unless $resp =~ m{^HTTP/1\.[01] 200 };
    my $b = (split /\r\n\r\n/, $resp, 2)[1];
    $b =~ s/\n$//;
    return $b;
}

write_conf('gen1', "    lua_shared_dict keep 1m;\n    lua_shared_dict resize 1m;\n    lua_shared_dict gone 64k;");
open my $saved, '>&', \*STDERR or die;
open STDERR, '>', '/dev/null' or die;
my $rc = system($bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf") >> 8;
open STDERR, '>&', $saved or die;
is($rc, 0, 'started');
my $m;
ok(wait_until(sub { $m = pid_file("$dir/logs/nginx.pid"); my @k = $m ? children($m) : (); @k == 2 }), 'two workers');
ok(wait_until(sub { (body('/gen') // '') eq 'gen1' }), 'serving');
is(body('/set'), 'ok', 'values set');
is(body('/get'), 'keep=v-keep resize=v-resize fresh=absent gone=v-gone inits=1', 'before reload');

write_conf('gen2', "    lua_shared_dict keep 1m;\n    lua_shared_dict resize 2m;\n    lua_shared_dict fresh 64k;");
kill 'HUP', $m;
# Old workers may still answer a request or two while they finish.
sub settled { my ($want) = @_; wait_until(sub { (body('/get') // '') eq $want }); return body('/get') }
ok(wait_until(sub { (body('/gen') // '') eq 'gen2' }), 'reloaded');
is(settled('keep=v-keep resize=nil fresh=nil gone=absent inits=2'),
   'keep=v-keep resize=nil fresh=nil gone=absent inits=2',
   'same name and size kept, resized emptied, new one empty, dropped one gone');

# A configuration error: the reload fails, the running dicts stay.
write_conf('gen3', "    lua_shared_dict keep 1m;\n    lua_shared_dict keep 1m;");
my $size = -s "$dir/logs/error.log";
kill 'HUP', $m;
ok(wait_until(sub { substr(read_file("$dir/logs/error.log"), $size) =~ /\[emerg\].*already defined/ }),
   'failed reload logged');
is(body('/gen'), 'gen2', 'old generation still serving');
is(body('/get'), 'keep=v-keep resize=nil fresh=nil gone=absent inits=2', 'dicts untouched');

# ... and the next good reload still takes the zones over.
write_conf('gen4', "    lua_shared_dict keep 1m;\n    lua_shared_dict resize 2m;");
kill 'HUP', $m;
ok(wait_until(sub { (body('/gen') // '') eq 'gen4' }), 'reloaded again');
is(settled('keep=v-keep resize=nil fresh=absent gone=absent inits=3'),
   'keep=v-keep resize=nil fresh=absent gone=absent inits=3', 'kept after a failed reload');

kill 'TERM', $m;
ok(wait_until(sub { !alive($m) }), 'master exits');
done_testing();
