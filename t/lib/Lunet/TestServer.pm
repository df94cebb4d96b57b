# Peer servers for cosocket tests (t/39x-*.t): a scripted TCP server, a UDP
# echo, a unix-socket server and a real redis-server, each started by the
# test file itself on a free port and killed when the file ends (also when
# it dies half-way). Works the same whether the server under test is Lunet
# or nginx + lua-nginx-module: ports reach the config through
# $TEST_NGINX_* environment variables, which the harness substitutes.
#
#   use Lunet::TestServer qw(tcp_server udp_echo_server redis_server);
#   $ENV{TEST_NGINX_ECHO_PORT} = tcp_server(\&Lunet::TestServer::echo);
#   $ENV{TEST_NGINX_X_PORT} = tcp_server(sub { my ($c) = @_; ... });
#
# A TCP handler runs in a child forked per connection, with the accepted
# socket (autoflush on) as its argument; the helpers below script the usual
# behaviours: delays, partial writes, resets, closes mid-response.
package Lunet::TestServer;
use strict;
use warnings;
use Exporter 'import';
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX ();
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(tcp_server hold_server unix_server udp_echo_server redis_server
                    echo line_echo send_slow reset_conn read_line read_bytes);

my @Children;
my $Parent = $$;

sub _spawn {
    my ($body) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        $SIG{TERM} = sub { POSIX::_exit(0) };
        eval { $body->() };
        POSIX::_exit(0);    # never run the test file's END blocks here
    }
    push @Children, $pid;
    return $pid;
}

sub _serve {
    my ($listen, $handler) = @_;
    $SIG{CHLD} = 'IGNORE';
    for (;;) {
        my $c = $listen->accept or next;
        my $pid = fork;
        if (defined $pid && $pid == 0) {
            close $listen;
            $c->autoflush(1);
            eval { $handler->($c) };
            POSIX::_exit(0);
        }
        close $c;
    }
}

# Starts a TCP server on 127.0.0.1; returns its port.
sub tcp_server {
    my ($handler) = @_;
    my $l = IO::Socket::INET->new(Listen => 128, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', ReuseAddr => 1) or die "listen: $!";
    my $port = $l->sockport;
    _spawn(sub { _serve($l, $handler) });
    close $l;
    return $port;
}

# A TCP server that accepts and holds every connection, never reading or
# writing, in one process (no fork per connection): for tests that open
# thousands of connections.
sub hold_server {
    my $l = IO::Socket::INET->new(Listen => 1024, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', ReuseAddr => 1) or die "listen: $!";
    my $port = $l->sockport;
    _spawn(sub {
        my @held;
        while (my $c = $l->accept) { push @held, $c }
    });
    close $l;
    return $port;
}

# Starts a server on a unix socket at $path (removed first).
sub unix_server {
    my ($path, $handler) = @_;
    unlink $path;
    my $l = IO::Socket::UNIX->new(Type => Socket::SOCK_STREAM(), Local => $path, Listen => 128)
        or die "listen $path: $!";
    _spawn(sub { _serve($l, $handler) });
    close $l;
    return $path;
}

# A UDP echo on 127.0.0.1: every datagram goes back to its sender. A
# datagram "silent" is not answered (for read timeouts).
sub udp_echo_server {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'udp')
        or die "udp: $!";
    my $port = $s->sockport;
    _spawn(sub {
        for (;;) {
            my $peer = $s->recv(my $buf, 65536) // next;
            next if $buf eq 'silent';
            $s->send($buf, 0, $peer);
        }
    });
    close $s;
    return $port;
}

# A real redis-server on a free port (no persistence); returns the port.
# Dies if redis-server is missing (scripts/deps.sh installs it).
sub redis_server {
    my $bin = '/usr/bin/redis-server';
    die "redis-server not installed (run scripts/deps.sh)\n" unless -x $bin;
    my $p = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp') or die "socket: $!";
    my $port = $p->sockport;
    close $p;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        { exec $bin, '--port', $port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
             '--daemonize', 'no', '--dir', '/tmp' };
        POSIX::_exit(127);
    }
    push @Children, $pid;
    my $end = time + 5;
    while (time < $end) {
        my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port);
        if ($c) {
            print $c "PING\r\n";
            my $r = <$c> // '';
            return $port if $r =~ /^\+PONG/;
        }
        sleep 0.02;
    }
    die "redis-server did not start on port $port\n";
}

# ---- handler helpers ----

# Echoes every byte back until the client closes.
sub echo {
    my ($c) = @_;
    while (sysread($c, my $buf, 65536)) { syswrite($c, $buf) // last }
}

# Echoes line by line (a reply per "\n"-terminated line).
sub line_echo {
    my ($c) = @_;
    while (defined(my $l = <$c>)) { print $c $l }
}

# Writes $data in pieces of $chunk bytes, $delay seconds apart.
sub send_slow {
    my ($c, $data, $chunk, $delay) = @_;
    while (length $data) {
        syswrite($c, substr($data, 0, $chunk, '')) // return;
        sleep $delay if length $data;
    }
}

# Closes with a TCP RST (SO_LINGER 0).
sub reset_conn {
    my ($c) = @_;
    setsockopt($c, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
    close $c;
}

sub read_line {
    my ($c) = @_;
    return scalar <$c>;
}

# Reads exactly $n bytes (less at EOF).
sub read_bytes {
    my ($c, $n) = @_;
    my $buf = '';
    while (length($buf) < $n) {
        my $got = sysread($c, $buf, $n - length($buf), length $buf);
        last unless $got;
    }
    return $buf;
}

END {
    if ($$ == $Parent) {
        local $?;
        kill 'TERM', @Children if @Children;
        waitpid($_, 0) for @Children;
    }
}

1;
