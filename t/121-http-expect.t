# "Expect: 100-continue" (issue 9, part 2): nginx answers it with
# "HTTP/1.1 100 Continue" whenever it goes to read or discard the body, even
# when the body came in the same packet as the head and even for `return`;
# not on HTTP/1.0 and not before an error page. The raw bytes are checked
# here (Test::Nginx blocks skip interim responses). Runs against nginx too:
# TEST_NGINX_BINARY=/usr/sbin/nginx prove -I t/lib t/121-http-expect.t
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
use Lunet::Proc qw(free_port wait_until cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");
my $dir = tempdir("lunet-expect-XXXXXX", TMPDIR => 1, CLEANUP => 1);
cleanup_servers($dir);
make_path("$dir/conf", "$dir/logs", "$dir/html/s");
my $port = free_port();
open my $fh, '>', "$dir/conf/nginx.conf" or die;
print $fh <<"CONF";
master_process off;
daemon off;
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/logs/body;
    server {
        listen 127.0.0.1:$port;
        root $dir/html;
        location /t { return 200 "ok\\n"; }
        location /r { return 302 /t; }
        location /e { return 403; }
        location /s/ { }
    }
}
CONF
close $fh;
open $fh, '>', "$dir/html/s/f.txt" or die;
print $fh "file\n";
close $fh;

my $pid = fork // die;
if ($pid == 0) {
    open STDERR, '>', "$dir/logs/stderr.log";
    exec $bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf" or exit 127;
}
END { if ($pid) { kill 'TERM', $pid; waitpid $pid, 0 } }
ok(wait_until(sub { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) }, 10),
   'server is up');

sub exchange {
    my ($req) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5)
        or die "connect: $!";
    print $s $req;
    local $/;
    my $resp = <$s> // '';
    close $s;
    return $resp;
}

my $cont = qr{^HTTP/1\.1 100 Continue\r\n\r\nHTTP/1\.1 };
my $h = "Host: localhost\r\nExpect: 100-continue\r\nConnection: close\r\n";

like(exchange("POST /t HTTP/1.1\r\n${h}Content-Length: 3\r\n\r\nabc"),
     qr{${cont}200 OK\r\n.*\r\n\r\nok\n$}s, 'body in the same packet, return 200: 100 first');
like(exchange("GET /t HTTP/1.1\r\n$h\r\n"), qr{${cont}200 OK\r\n}, 'no body at all: 100 first');
like(exchange("GET /r HTTP/1.1\r\n$h\r\n"), qr{${cont}302 }, 'return 302 URL: 100 first');
like(exchange("GET /s/f.txt HTTP/1.1\r\n$h\r\n"), qr{${cont}200 OK\r\n.*file\n$}s,
     'static file: 100 first');
like(exchange("GET /t HTTP/1.1\r\nHost: localhost\r\nExpect: 100-Continue\r\nConnection: close\r\n\r\n"),
     qr{${cont}200 OK\r\n}, 'the value is case-insensitive');
like(exchange("POST /t HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx"),
     qr{^HTTP/1\.1 200 OK\r\n}, 'HTTP/1.0: no 100');
like(exchange("POST /s/none HTTP/1.1\r\n${h}Content-Length: 1\r\n\r\nx"),
     qr{^HTTP/1\.1 404 Not Found\r\n}, 'an error page: no 100');
like(exchange("GET /e HTTP/1.1\r\n$h\r\n"), qr{^HTTP/1\.1 403 Forbidden\r\n},
     'return 403 (an error page): no 100');
like(exchange("GET /t HTTP/1.1\r\nHost: localhost\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n"),
     qr{^HTTP/1\.1 200 OK\r\n}, 'another expectation: ignored, no 100');

like(exchange("POST /t HTTP/1.1\r\n${h}Content-Length: 3\r\n\r\n"),
     qr{${cont}200 OK\r\n.*ok\n$}s, 'the body not sent yet: 100, then the answer');

done_testing();
