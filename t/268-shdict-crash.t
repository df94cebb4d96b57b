# Lunet only (part C of issue 12): a worker SIGKILLed inside a write loop
# while two other workers hammer the same dict does not wedge it. The
# readers never see a torn value, lunet.shdict.check() walks the whole
# structure afterwards, and a kill that lands inside a write section is
# repaired by the next locker (stats().repairs).
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Cwd qw(abs_path);
use FindBin;
use Time::HiRes qw(sleep);
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port alive children wait_until read_file pid_file cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");
my $dir = tempdir("lunet-shdict-crash-XXXXXX", TMPDIR => 1, CLEANUP => !$ENV{KEEP});
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs", "$dir/html");
my $port = free_port();

open my $fh, '>', "$dir/conf/nginx.conf" or die;
print $fh <<"CONF";
worker_processes 3;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; accept_mutex off; }
http {
    access_log off;
    lua_shared_dict d 2m;
    server {
        listen 127.0.0.1:$port;
        location /write {
            # a streamed HTTP/1.0 answer: not held for a Content-Length
            lua_http10_buffering off;
            content_by_lua_block {
                local d = ngx.shared.d
                ngx.say(ngx.worker.pid())
                ngx.flush(true)
                local i = 0
                while true do
                    i = i + 1
                    local c = string.char(97 + i % 26)
                    d:set("k" .. (i % 64), c .. ":" .. string.rep(c, 50 + (i * 37) % 3000))
                    if i % 7 == 0 then d:rpush("list", c) end
                    if i % 11 == 0 then d:lpop("list") end
                    d:incr("n", 1, 0)
                end
            }
        }
        location /hammer {
            content_by_lua_block {
                local d = ngx.shared.d
                local bad, reads, i = 0, 0, 0
                ngx.update_time()
                local stop = ngx.now() + 1.5
                while ngx.now() < stop do
                    i = i + 1
                    local v = d:get("k" .. (i % 64))
                    if v then
                        reads = reads + 1
                        local c = v:sub(1, 1)
                        if v:sub(2, 2) ~= ":" or v:find("[^" .. c .. "]", 3) then
                            bad = bad + 1
                        end
                    end
                    if i % 10 == 0 then d:incr("h", 1, 0) end
                    if i % 100 == 0 then ngx.update_time() end
                end
                local ok, err = require("lunet.shdict").check("d")
                ngx.say("reads ", reads > 0, " bad ", bad, " check ", ok, " ", err)
            }
        }
        location /stats {
            content_by_lua_block {
                local d = ngx.shared.d
                d:set("probe", 1)  -- takes the lock: repairs if the holder died
                local st = require("lunet.shdict").stats("d")
                local ok, err = require("lunet.shdict").check("d")
                ngx.say("repairs ", st.repairs, " check ", ok, " ", err, " get ", d:get("probe"))
            }
        }
    }
}
CONF
close $fh;

sub send_req {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
                                  Timeout => 10) or die "connect: $!";
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    return $s;
}
sub read_body {
    my ($s) = @_;
    local $/;
    my $resp = <$s> // '';
    close $s;
    return undef unless $resp =~ m{^HTTP/1\.[01] 200 };
    my $b = (split /\r\n\r\n/, $resp, 2)[1];
    $b =~ s/\n$//;
    return $b;
}
sub body { read_body(send_req($_[0])) }

# The writer answers its pid first, then loops: read up to that line.
sub writer_pid {
    my ($s) = @_;
    my $buf = '';
    while ($buf !~ /\r\n\r\n(\d+)\n/) {
        my $n = sysread($s, $buf, 4096, length $buf);
        return undef unless $n;
    }
    my ($pid) = $buf =~ /\r\n\r\n(\d+)\n/;
    return $pid;
}

open my $saved, '>&', \*STDERR or die;
open STDERR, '>', '/dev/null' or die;
my $rc = system($bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf") >> 8;
open STDERR, '>&', $saved or die;
is($rc, 0, 'started');
my $m;
ok(wait_until(sub { $m = pid_file("$dir/logs/nginx.pid"); my @k = $m ? children($m) : (); @k == 3 }),
   'three workers');
ok(wait_until(sub { defined body('/stats') }), 'serving');

# One worker writes without end; the other two read and count while it runs.
my $w = send_req('/write');
my $wpid = writer_pid($w);
ok($wpid, 'writer running');
my @h = (send_req('/hammer'), send_req('/hammer'));
sleep 0.5;
kill 'KILL', $wpid;
ok(wait_until(sub { !alive($wpid) }), 'writer killed');
for my $s (@h) {
    is(read_body($s), 'reads true bad 0 check true nil', 'hammering worker: no torn value, consistent');
}
close $w;
like(body('/stats') // '', qr/^repairs \d+ check true nil get 1$/, 'usable after the kill');

# Kill writers until one dies inside a write section (most kills do), so the
# repair path runs; the dict must be consistent after every kill.
my $repairs = 0;
for my $try (1 .. 10) {
    my $s = send_req('/write');
    my $pid = writer_pid($s);
    sleep 0.1;
    kill 'KILL', $pid;
    wait_until(sub { !alive($pid) });
    close $s;
    my $st = body('/stats') // '';
    unlike($st, qr/check nil/, "consistent after kill $try");
    ($repairs) = $st =~ /^repairs (\d+)/;
    last if $repairs;
}
cmp_ok($repairs // 0, '>', 0, 'a writer killed holding the lock was repaired after');
ok(wait_until(sub { my @k = children($m); @k == 3 }), 'killed workers respawned');

kill 'TERM', $m;
ok(wait_until(sub { !alive($m) }), 'master exits');
done_testing();
