# Helpers for process-level tests (t/01*-process*.t) that drive lunet
# directly rather than through Test::Nginx blocks.
package Lunet::Proc;
use strict;
use warnings;
use Exporter 'import';
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(free_port alive children wait_until read_file http_get pid_file
                    cleanup_servers);

# A loopback port nobody listens on right now.
sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp') or die "socket: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# A daemonised master is reparented to PID 1, which may not reap it in a
# container: a zombie counts as gone.
sub alive {
    my ($pid) = @_;
    return 0 unless kill 0, $pid;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $st = <$fh> // '';
    return $st !~ /^\d+ \(.*\) Z /;
}

# PIDs whose parent is $ppid, ascending.
sub children {
    my ($ppid) = @_;
    my @kids;
    for my $d (glob "/proc/[0-9]*") {
        open my $fh, '<', "$d/stat" or next;
        my $st = <$fh>;
        next unless defined $st && $st =~ /^(\d+) \(.*\) \S (\d+)/;
        push @kids, $1 if $2 == $ppid;
    }
    return sort { $a <=> $b } @kids;
}

# Polls $cond every 10 ms for at most $secs seconds (default 5).
sub wait_until {
    my ($cond, $secs) = @_;
    my $end = time + ($secs // 5);
    while (time < $end) {
        return 1 if $cond->();
        sleep 0.01;
    }
    return 0;
}

sub read_file {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return <$fh> // '';
}

# GET $path from 127.0.0.1:$port over HTTP/1.0 (close-delimited body).
# Returns the body of a 200 response, or undef for anything else.
sub http_get {
    my ($port, $path, $timeout) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
                                  Timeout => $timeout // 3) or return undef;
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $resp = <$s>;
    close $s;
    return undef unless defined $resp && $resp =~ m{^HTTP/1\.[01] 200 };
    my (undef, $body) = split /\r\n\r\n/, $resp, 2;
    return $body;
}

# The pid in a pid file, or undef.
sub pid_file {
    my ($path) = @_;
    my $p = read_file($path);
    return $p =~ /^(\d+)/ ? $1 : undef;
}

# Registers a prefix directory: when the test file ends — also when it dies
# half-way — every server started with "-p DIR/" and its workers are killed,
# so no test leaves processes behind.
my @CleanupDirs;
sub cleanup_servers { push @CleanupDirs, @_ }

END {
    local $?;    # keep the test's exit status
    for my $dir (@CleanupDirs) {
        for my $d (glob "/proc/[0-9]*") {
            my ($pid) = $d =~ m{(\d+)$};
            next if $pid == $$;
            my $cmd = read_file("$d/cmdline");
            next unless index($cmd, "$dir/") >= 0;
            kill 'KILL', children($pid), $pid;
        }
    }
}

1;
