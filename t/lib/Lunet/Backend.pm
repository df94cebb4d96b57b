# An HTTP/1.1 backend for the proxy tests (t/40x-*.t), on top of
# Lunet::TestServer's forking TCP server. It speaks keep-alive (an HTTP/1.1
# request without "Connection: close" leaves the connection open for the
# next one) and counts the connections it accepted. Started by the test
# file; works the same with Lunet or nginx under test.
#
#   use Lunet::Backend qw(backend);
#   $ENV{TEST_NGINX_BACKEND_PORT} = backend(name => 'A');
#   $ENV{TEST_NGINX_BACKEND_SOCK} = backend(name => 'U', unix => "/tmp/x.sock");
#
# What a request gets, by its path:
#   /echo...          200, the request head and body as received
#   /id...            200, "NAME\n"
#   /delayid/MS       200, "NAME\n" after MS ms
#   /code/NNN         status NNN, body "code NNN from NAME\n"
#   /delay/MS         waits MS ms before the head (read timeouts)
#   /slowbody/MS      sends the head, waits MS ms, then the body
#   /reset            a TCP RST instead of a response
#   /close            closes without a response
#   /chunked          a chunked body "hello, " "world\n"
#   /eof              a body without length, ended by the close
#   /big/N            N bytes ('a'..'z' repeated) with Content-Length
#   /bigchunked/N     N bytes in 16 KiB chunks
#   /trunc            Content-Length: 100, 10 bytes, close
#   /bighdr           a 10 KiB header
#   /badhdr           an invalid header line
#   /nostatus         no status line (garbage)
#   /redirect         302 with Location: http://127.0.0.1:PORT/echo/here
#   /conns            200, the number of connections accepted so far
#   /accelURI         200 with X-Accel-Redirect: URI
#   /hdr              200 with Server, Date, X-Pad, X-Foo, Keep-Alive, Connection headers
package Lunet::Backend;
use strict;
use warnings;
use Exporter 'import';
use Time::HiRes qw(sleep);
use Fcntl qw(:flock O_WRONLY O_APPEND O_CREAT);
use Lunet::TestServer qw(tcp_server unix_server reset_conn);

our @EXPORT_OK = qw(backend);

my $Seq = 0;

sub backend {
    my (%o) = @_;
    my $name = $o{name} // 'backend';
    my $file = "/tmp/lunet-backend-$$-" . $Seq++ . ".conns";
    unlink $file;
    # backend(unix => PATH): on a unix socket; returns the path.
    return unix_server($o{unix}, sub { serve($_[0], $name, $file, 0) }) if $o{unix};
    return tcp_server(sub { serve($_[0], $name, $file, $_[0]->sockport) });
}

sub _count {
    my ($file) = @_;
    sysopen(my $fh, $file, O_WRONLY | O_APPEND | O_CREAT) or return;
    syswrite($fh, "x");
    close $fh;
}

sub _read_request {
    my ($c, $bufref) = @_;
    while ($$bufref !~ /\r?\n\r?\n/) {
        my $n = sysread($c, $$bufref, 65536, length $$bufref);
        return undef unless $n;
    }
    $$bufref =~ s/^(.*?\r?\n\r?\n)//s;
    my $head = $1;
    my $body = '';
    if ($head =~ /^Content-Length:\s*(\d+)/mi) {
        my $len = $1;
        while (length($$bufref) < $len) {
            my $n = sysread($c, $$bufref, 65536, length $$bufref);
            last unless $n;
        }
        $body = substr($$bufref, 0, $len, '');
    } elsif ($head =~ /^Transfer-Encoding:\s*chunked/mi) {
        for (;;) {
            while ($$bufref !~ /\r\n/) {
                sysread($c, $$bufref, 65536, length $$bufref) or return undef;
            }
            $$bufref =~ s/^([0-9a-fA-F]+)[^\r]*\r\n//;
            my $size = hex $1;
            while (length($$bufref) < $size + 2) {
                sysread($c, $$bufref, 65536, length $$bufref) or return undef;
            }
            $body .= substr($$bufref, 0, $size, '');
            substr($$bufref, 0, 2, '');
            last if $size == 0;
        }
    }
    return ($head, $body);
}

sub _fill {
    my ($n) = @_;
    my $s = join('', 'a' .. 'z') x (int($n / 26) + 1);
    return substr($s, 0, $n);
}

sub serve {
    my ($c, $name, $file, $port) = @_;
    _count($file);
    my $buf = '';
    for (;;) {
        my ($head, $body) = _read_request($c, \$buf);
        return unless defined $head;
        my ($method, $uri, $proto) = $head =~ /^(\S+) (\S+) (HTTP\/\d\.\d)/;
        return unless defined $uri;
        my $keep = $proto eq 'HTTP/1.1' && $head !~ /^Connection:\s*close/mi;
        my $conn = $keep ? "" : "Connection: close\r\n";
        my $send = sub {
            my ($status, $b, $extra) = @_;
            $extra //= '';
            $b = '' if $method eq 'HEAD' && 0;
            syswrite($c, "HTTP/1.1 $status\r\nContent-Length: " . length($b) . "\r\n$extra$conn\r\n"
                         . ($method eq 'HEAD' ? '' : $b));
        };
        if ($uri =~ m{^/echo}) {
            $send->("200 OK", $head . $body, "Content-Type: text/plain\r\n");
        } elsif ($uri =~ m{^/delayid/(\d+)}) {
            sleep($1 / 1000);
            $send->("200 OK", "$name\n");
        } elsif ($uri =~ m{^/id}) {
            $send->("200 OK", "$name\n");
        } elsif ($uri =~ m{^/code/(\d+)}) {
            my $code = $1;
            $send->("$code Code", "code $code from $name\n");
        } elsif ($uri =~ m{^/delay/(\d+)}) {
            sleep($1 / 1000);
            $send->("200 OK", "delayed\n");
        } elsif ($uri =~ m{^/slowbody/(\d+)}) {
            syswrite($c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab");
            sleep($1 / 1000);
            syswrite($c, "cde");
        } elsif ($uri =~ m{^/reset}) {
            reset_conn($c);
            return;
        } elsif ($uri =~ m{^/close}) {
            close $c;
            return;
        } elsif ($uri =~ m{^/chunked}) {
            syswrite($c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n$conn\r\n"
                         . "7\r\nhello, \r\n6\r\nworld\n\r\n0\r\n\r\n");
        } elsif ($uri =~ m{^/eof}) {
            syswrite($c, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end\n");
            close $c;
            return;
        } elsif ($uri =~ m{^/big/(\d+)}) {
            $send->("200 OK", _fill($1));
        } elsif ($uri =~ m{^/bigchunked/(\d+)}) {
            my $left = $1;
            syswrite($c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n$conn\r\n");
            while ($left > 0) {
                my $n = $left > 16384 ? 16384 : $left;
                syswrite($c, sprintf("%x\r\n", $n) . _fill($n) . "\r\n") // return;
                $left -= $n;
            }
            syswrite($c, "0\r\n\r\n");
        } elsif ($uri =~ m{^/trunc}) {
            syswrite($c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
            close $c;
            return;
        } elsif ($uri =~ m{^/bighdr}) {
            $send->("200 OK", "big\n", "X-Big: " . ('b' x 10240) . "\r\n");
        } elsif ($uri =~ m{^/badhdr}) {
            syswrite($c, "HTTP/1.1 200 OK\r\nX-Ok: 1\r\nBad Header\x01: x\r\nContent-Length: 2\r\n\r\nok");
        } elsif ($uri =~ m{^/nostatus}) {
            syswrite($c, "garbage here\r\n\r\n");
            close $c;
            return;
        } elsif ($uri =~ m{^/redirect}) {
            $send->("302 Found", "", "Location: http://127.0.0.1:$port/echo/here\r\n");
        } elsif ($uri =~ m{^/accel(.*)$}) {
            $send->("200 OK", "the backend's own body\n", "X-Accel-Redirect: $1\r\n");
        } elsif ($uri =~ m{^/conns}) {
            my $n = -s $file // 0;
            $send->("200 OK", "$n\n");
        } elsif ($uri =~ m{^/hdr}) {
            $send->("200 OK", "hdr\n", "Server: perl\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                    . "X-Pad: pad\r\nX-Foo: foo\r\nKeep-Alive: timeout=5\r\nX-Bar: bar\r\n");
        } else {
            $send->("404 Not Found", "not found\n");
        }
        return unless $keep;
    }
}

1;
