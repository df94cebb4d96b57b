# The default site (conf/nginx.conf + html/): text responses are gzipped for
# clients that accept it (index.html, a Lua page), others get them plain.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use File::Copy qw(copy);
use Time::HiRes qw(sleep);
use Cwd qw(abs_path);
use IO::Socket::INET;
use Compress::Zlib ();
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
copy($_, "$dir/html/") or die for glob "$root/html/*.html";
chmod 0644, glob "$dir/html/*";

my $pid = fork // die;
if ($pid == 0) {
    open STDERR, '>', "$dir/logs/stderr.log";
    exec $bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf" or exit 1;
}
END { if ($pid) { kill 'QUIT', $pid; sleep 0.3; kill 'KILL', $pid; } }

# HTTP/1.1 GET; returns (head, body) with a chunked body de-chunked.
sub get11 {
    my ($path, $ae) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
                                  Timeout => 5) or return;
    print $s "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        . ($ae ? "Accept-Encoding: $ae\r\n" : "") . "\r\n";
    local $/;
    my $resp = <$s> // '';
    close $s;
    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    if ($head =~ /^Transfer-Encoding: chunked/mi) {
        my $out = '';
        while ($body =~ s/^([0-9a-f]+)\r\n//i) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($body, 0, $n, '');
            $body =~ s/^\r\n//;
        }
        $body = $out;
    }
    return ($head, $body);
}

ok(wait_until(sub { defined http_get($port, "/") }, 10), 'server answers');
my $plain = read_file("$root/html/index.html");
my ($h, $b) = get11("/", "gzip, deflate, br");
like($h, qr/^Content-Encoding: gzip\r?$/m, '/ is gzipped for a client that accepts it');
like($h, qr/^Vary: Accept-Encoding\r?$/m, 'with Vary');
unlike($h, qr/^Content-Length:/m, 'no Content-Length');
is(Compress::Zlib::memGunzip($b), $plain, 'it decompresses to html/index.html');
ok(length($b) < length($plain), 'and is smaller');
($h, $b) = get11("/");
unlike($h, qr/^Content-Encoding:/m, 'a client without Accept-Encoding gets it plain');
is($b, $plain, 'the same bytes');
unlike(read_file("$dir/logs/error.log"), qr/\[error\]|\[alert\]|\[emerg\]|\[crit\]/, 'no error logged');
done_testing();
