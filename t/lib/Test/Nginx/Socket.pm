package Test::Nginx::Socket;

# Lunet's own test scaffold for files written in Test::Nginx's block format.
#
# Written from scratch on top of Debian's Test::Base (which parses the
# "=== TEST" blocks, "--- section" data and filters).  The semantics follow
# Test::Nginx::Socket's documentation; the differences are listed in
# t/README.md.

use strict;
use warnings;

use Test::Base ();
use Test::Base::Filter ();   # load now: a run-time require of this
                             # (Spiffy-filtered) module closes a random fd
use Test::More ();
use Test::Builder ();
use Cwd ();
use Fcntl qw(:flock O_RDONLY O_WRONLY O_CREAT O_APPEND);
use File::Basename ();
use File::Path ();
use File::Spec ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util ();
use POSIX ();
use Socket ();
use Time::HiRes ();

our @ISA = ('Test::Base');
our $VERSION = '0.1';

our @EXPORT = qw(
    run_tests run_test repeat_each no_shuffle shuffle workers
    master_on master_off master_process_enabled log_level
    no_long_string no_diff add_block_preprocessor env_to_nginx
    no_root_location server_port server_root html_dir worker_connections
    use_hup check_accum_error_log bail_out
    $ServerPort $ServerPortForClient $ServRoot $ServerRoot $HtmlDir
    $LogDir $ErrLogFile $ConfDir $ConfFile $NginxBinary
);

# ---------------------------------------------------------------------------
# configuration (file level)
# ---------------------------------------------------------------------------

my $RepoRoot = do {
    my $f = Cwd::abs_path(__FILE__);
    # <repo>/t/lib/Test/Nginx/Socket.pm
    my $d = File::Basename::dirname($f);
    $d = File::Basename::dirname($d) for 1 .. 4;
    $d;
};

our $NginxBinary = $ENV{TEST_NGINX_BINARY} || "$RepoRoot/build/release/lunet";

our $RepeatEach        = 1;
our $NoShuffle         = $ENV{TEST_NGINX_NO_SHUFFLE} ? 1 : 0;
our $Workers           = 1;
our $WorkerConnections = 64;
our $MasterProcessEnabled = 'off';
our $LogLevel          = 'debug';
our $NoLongString      = 0;
our $NoDiff            = 0;
our $NoRootLocation    = 0;
our $CheckAccumErrLog  = 0;
our @BlockPreprocessors;
our @EnvToNginx;

our $UseHup      = $ENV{TEST_NGINX_USE_HUP}      ? 1 : 0;
our $UseValgrind = $ENV{TEST_NGINX_USE_VALGRIND} ? 1 : 0;
our $NoClean     = $ENV{TEST_NGINX_NO_CLEAN}     ? 1 : 0;
our $Verbose     = $ENV{TEST_NGINX_VERBOSE}      ? 1 : 0;

our $ServerPort = $ENV{TEST_NGINX_PORT} || pick_free_port();
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;

our ($ServRoot, $ServerRoot, $HtmlDir, $LogDir, $ErrLogFile, $StderrFile,
     $ConfDir, $ConfFile, $PidFile);

our $ServRootLockFh;    # "our": a file lexical would be freed (and unlocked) after require
my $ServRootIsPrivate = 0;

sub set_servroot {
    my $root = shift;
    $ServRoot = $ServerRoot = $root;
    $HtmlDir    = "$root/html";
    $LogDir     = "$root/logs";
    $ConfDir    = "$root/conf";
    $ConfFile   = "$ConfDir/nginx.conf";
    $ErrLogFile = "$LogDir/error.log";
    $StderrFile = "$LogDir/stderr.log";
    $PidFile    = "$LogDir/nginx.pid";
    $ENV{TEST_NGINX_SERVER_ROOT} = $root;
    $ENV{TEST_NGINX_HTML_DIR}    = $HtmlDir;
    $ENV{TEST_NGINX_CONF_DIR}    = $ConfDir;
    $ENV{TEST_NGINX_LOG_DIR}     = $LogDir;
    $ENV{TEST_NGINX_ERROR_LOG}   = $ErrLogFile;
}

{
    my $root;
    if ($ENV{TEST_NGINX_SERVROOT}) {
        $root = File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT});
    } else {
        my $t = -d 't' ? File::Spec->rel2abs('t') : "$RepoRoot/t";
        $root = "$t/servroot";
        # Parallel prove (-j): the first file takes t/servroot, the others
        # fall back to a private t/servroot_<pid>.
        File::Path::make_path($root);
        if (sysopen(my $fh, $root, O_RDONLY)) {
            if (flock($fh, LOCK_EX | LOCK_NB)) {
                $ServRootLockFh = $fh;
            } else {
                $root = "${root}_$$";
                $ServRootIsPrivate = 1;
            }
        }
    }
    set_servroot($root);
}

$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
$ENV{TEST_NGINX_CLIENT_PORT} = $ServerPortForClient;
$ENV{TEST_NGINX_BINARY_PATH} = $NginxBinary;

sub pick_free_port {
    for (1 .. 20) {
        my $s = IO::Socket::INET->new(
            Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
            Proto => 'tcp', ReuseAddr => 0,
        ) or next;
        my $port = $s->sockport;
        close $s;
        return $port if $port >= 1024;
    }
    return 1984;
}

# ---------------------------------------------------------------------------
# exported helpers
# ---------------------------------------------------------------------------

sub repeat_each { $RepeatEach = shift if @_; return $RepeatEach }
sub no_shuffle  { $NoShuffle = 1 }
sub shuffle     { $NoShuffle = 0 }
sub workers     { $Workers = shift if @_; return $Workers }
sub worker_connections { $WorkerConnections = shift if @_; return $WorkerConnections }
sub master_on   { $MasterProcessEnabled = 'on' }
sub master_off  { $MasterProcessEnabled = 'off' }
sub master_process_enabled {
    $MasterProcessEnabled = $_[0] ? 'on' : 'off' if @_;
    return $MasterProcessEnabled eq 'on';
}
sub log_level   { $LogLevel = shift if @_; return $LogLevel }
sub no_long_string { $NoLongString = 1 }
sub no_diff     { $NoDiff = 1; $ENV{TEST_SHOW_NO_DIFFS} = 1 }
sub no_root_location { $NoRootLocation = 1 }
sub check_accum_error_log { $CheckAccumErrLog = 1 }
sub use_hup     { $UseHup = 1 }
sub server_port { $ServerPort }
sub server_root { $ServRoot }
sub html_dir    { $HtmlDir }
sub add_block_preprocessor { push @BlockPreprocessors, @_ }
sub env_to_nginx { push @EnvToNginx, @_ }
sub bail_out    { Test::More::BAIL_OUT(@_) }

# ---------------------------------------------------------------------------
# small utilities
# ---------------------------------------------------------------------------

my $TB = Test::Builder->new;

sub sect {
    my ($block, $name) = @_;
    return undef unless exists $block->{$name};
    my $v = $block->{$name};
    return ref $v eq 'ARRAY' ? $v->[0] : $v;
}

sub has_sect {
    my ($block, $name) = @_;
    return exists $block->{$name};
}

sub expand_env {
    my ($s, $what) = @_;
    return $s unless defined $s;
    if (ref $s eq 'ARRAY') {
        return [ map { expand_env($_, $what) } @$s ];
    }
    return $s if ref $s;
    $s =~ s{\$(TEST_NGINX_[A-Z0-9_]+)}{
        defined $ENV{$1} ? $ENV{$1}
            : die "No environment $1 defined (used in --- $what).\n"
    }ge;
    return $s;
}

sub parse_seconds {
    my ($v, $default) = @_;
    return $default unless defined $v && $v =~ /\S/;
    $v =~ s/^\s+|\s+$//g;
    return $1 / 1000 if $v =~ /^([\d.]+)\s*ms$/;
    return $1 if $v =~ /^([\d.]+)\s*s?$/;
    die "bad time value: $v\n";
}

sub read_file_from {
    my ($file, $offset) = @_;
    open my $fh, '<', $file or return '';
    binmode $fh;
    seek $fh, $offset, 0 if $offset;
    local $/;
    my $data = <$fh>;
    close $fh;
    return defined $data ? $data : '';
}

sub file_size { my @s = stat $_[0]; return @s ? $s[7] : 0 }

sub esc {
    my $s = shift;
    return 'undef' unless defined $s;
    $s =~ s/\\/\\\\/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    $s =~ s/\t/\\t/g;
    $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    return qq{"$s"};
}

sub fail_count {
    my @s = $TB->summary;
    return scalar grep { !$_ } @s;
}

# string comparison with a unified diff on failure
sub is_str {
    my ($got, $expected, $name) = @_;
    if (defined $got && defined $expected && $got eq $expected) {
        Test::More::pass($name);
        return 1;
    }
    Test::More::ok(0, $name);
    if (!defined $got || !defined $expected || $NoDiff) {
        Test::More::diag("     got: " . esc($got));
        Test::More::diag("expected: " . esc($expected));
        return 0;
    }
    if (length($got) + length($expected) < 400) {
        Test::More::diag("     got: " . esc($got));
        Test::More::diag("expected: " . esc($expected));
    }
    require Text::Diff;
    my $diff = Text::Diff::diff(\$expected, \$got,
        { STYLE => 'Unified', FILENAME_A => 'expected', FILENAME_B => 'got' });
    Test::More::diag($diff);
    return 0;
}

# ---------------------------------------------------------------------------
# server process management
# ---------------------------------------------------------------------------

my $ServerPid;          # pid of the process we forked (master or single)
my $ServerIsMaster = 0;
my $PrevBlockWasMustDie = 0;

sub server_alive {
    return 0 unless $ServerPid;
    my $r = waitpid($ServerPid, POSIX::WNOHANG());
    if ($r == $ServerPid || $r == -1) {
        $ServerPid = undef;
        return 0;
    }
    return 1;
}

sub server_cmd {
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile);
    if ($UseValgrind) {
        my @vg = ('valgrind', '-q', '--num-callers=50', '--leak-check=full',
                  '--gen-suppressions=all', '--error-exitcode=0');
        my $supp = "$RepoRoot/t/valgrind.suppress";
        push @vg, "--suppressions=$supp" if -f $supp;
        unshift @cmd, @vg;
    }
    return @cmd;
}

sub spawn_server {
    my @cmd = server_cmd();
    my $pid = fork();
    die "fork failed: $!\n" unless defined $pid;
    if ($pid == 0) {
        POSIX::setsid();
        open STDIN, '<', '/dev/null';
        sysopen(my $err, $StderrFile, O_WRONLY | O_CREAT | O_APPEND);
        POSIX::dup2(fileno($err), 1);
        POSIX::dup2(fileno($err), 2);
        # do not leak inherited descriptors (e.g. the harness's pipes)
        if (opendir my $dh, '/proc/self/fd') {
            my @fds = grep { /^\d+$/ && $_ > 2 } readdir $dh;
            closedir $dh;
            POSIX::close($_) for @fds;
        }
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(127);
    }
    $ServerPid = $pid;
    return $pid;
}

# Is something LISTENing on $ServerPort?  Read from /proc/net/tcp* so that
# the probe does not show up in the server's error log (a probing connect()
# would log "client closed connection while waiting for request").
my $HaveProcNet = -r '/proc/net/tcp';
sub port_open {
    unless ($HaveProcNet) {
        my $s = IO::Socket::INET->new(
            PeerAddr => '127.0.0.1', PeerPort => $ServerPort, Proto => 'tcp',
        );
        if ($s) { close $s; return 1 }
        return 0;
    }
    my $hex = sprintf ':%04X', $ServerPort;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $f or next;
        while (my $l = <$fh>) {
            # sl local_address rem_address st ...
            my (undef, undef, $local, undef, $st) = split /\s+/, $l;
            next unless defined $st;
            if ($st eq '0A' && substr($local, -5) eq $hex) {
                close $fh;
                return 1;
            }
        }
        close $fh;
    }
    return 0;
}

# returns (1, '') when listening; (0, reason) when the process died/hung
sub wait_server_ready {
    my $limit = $UseValgrind ? 60 : 5;
    my $deadline = Time::HiRes::time() + $limit;
    while (Time::HiRes::time() < $deadline) {
        return (1, '') if port_open();
        if (!server_alive()) {
            return (0, "server exited during startup (status $?)");
        }
        Time::HiRes::sleep(0.002);
    }
    return (0, "server did not listen on port $ServerPort within ${limit}s");
}

sub wait_exit {
    my ($pid, $secs) = @_;
    my $deadline = Time::HiRes::time() + $secs;
    while (1) {
        my $r = waitpid($pid, POSIX::WNOHANG());
        return 1 if $r == $pid || $r == -1;
        return 0 if Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.001);
    }
}

sub stop_server {
    return unless $ServerPid;
    my $pid = $ServerPid;
    $ServerPid = undef;
    my $grace = $UseValgrind ? 30 : 3;
    kill 'QUIT', $pid;
    unless (wait_exit($pid, $grace)) {
        Test::More::diag("server $pid did not exit on QUIT; sending TERM");
        kill 'TERM', $pid;
        unless (wait_exit($pid, 2)) {
            Test::More::diag("server $pid did not exit on TERM; sending KILL");
            kill 'KILL', -$pid;
            kill 'KILL', $pid;
            wait_exit($pid, 2);
        }
    }
    # reap stray workers left in the process group, if any
    kill 0, -$pid and do {
        kill 'TERM', -$pid;
        Time::HiRes::sleep(0.01);
        kill 'KILL', -$pid;
    };
    check_sanitizer_reports();
}

# Sanitizer builds (ASan/LSan/UBSan) report on the server's stderr, often
# only when a worker exits — i.e. while the server is being stopped, between
# two blocks' log windows. After every stop the new stderr bytes are scanned
# and a report fails the block that ran last.
my $SanPos = 0;
my $SanLabel = 'server start';

sub check_sanitizer_reports {
    my $size = file_size($StderrFile);
    return if $size <= $SanPos;
    my $text = read_file_from($StderrFile, $SanPos);
    $SanPos = $size;
    return unless $text =~ /ERROR: (?:Address|Leak)Sanitizer|^\S+:\d+:\d+: runtime error: /m;
    Test::More::fail("$SanLabel - sanitizer report in server stderr");
    my @lines = split /\n/, $text;
    splice @lines, 60 if @lines > 60;
    Test::More::diag("  $_") for @lines;
}

sub kill_server_now {
    return unless $ServerPid;
    my $pid = $ServerPid;
    $ServerPid = undef;
    kill 'TERM', -$pid;
    kill 'TERM', $pid;
    unless (wait_exit($pid, 1)) {
        kill 'KILL', -$pid;
        kill 'KILL', $pid;
        wait_exit($pid, 1);
    }
}

sub child_pids {
    my $ppid = shift;
    my @kids;
    opendir my $dh, '/proc' or return ();
    for my $p (grep { /^\d+$/ } readdir $dh) {
        open my $fh, '<', "/proc/$p/stat" or next;
        my $st = <$fh>;
        close $fh;
        next unless defined $st;
        # pid (comm) state ppid ...
        if ($st =~ /\)\s+\S+\s+(\d+)/ && $1 == $ppid) {
            push @kids, $p;
        }
    }
    closedir $dh;
    return @kids;
}

# HUP the master and wait until the old workers are gone and new ones run
sub reload_server {
    my %old = map { $_ => 1 } child_pids($ServerPid);
    kill 'HUP', $ServerPid;
    unless (%old) {
        # a server without worker processes: nothing to watch
        Time::HiRes::sleep(0.05);
        return server_alive();
    }
    my $deadline = Time::HiRes::time() + ($UseValgrind ? 30 : 3);
    while (Time::HiRes::time() < $deadline) {
        return 0 unless server_alive();
        my @now = child_pids($ServerPid);
        my $new = grep { !$old{$_} } @now;
        my $old_left = grep { $old{$_} } @now;
        return 1 if $new && !$old_left;
        Time::HiRes::sleep(0.002);
    }
    return 0;
}

# ---------------------------------------------------------------------------
# servroot and nginx.conf
# ---------------------------------------------------------------------------

# A server left behind by an earlier run that was killed (or used
# TEST_NGINX_NO_CLEAN) would keep files in this servroot open: stop it.
sub kill_stale_server {
    open my $fh, '<', $PidFile or return;
    my $pid = <$fh>;
    close $fh;
    return unless defined $pid && $pid =~ /^\s*(\d+)/;
    $pid = $1;
    return if $ServerPid && $pid == $ServerPid;
    open my $cf, '<', "/proc/$pid/cmdline" or return;
    my $cmd = do { local $/; <$cf> } // '';
    close $cf;
    return unless index($cmd, $ServRoot) >= 0;
    kill 'TERM', $pid;
    for (1 .. 200) {
        last unless kill 0, $pid;
        Time::HiRes::sleep(0.005);
    }
    kill 'KILL', $pid if kill 0, $pid;
}

sub prepare_servroot {
    kill_stale_server();
    if (-d $ServRoot) {
        opendir my $dh, $ServRoot or die "cannot open $ServRoot: $!\n";
        for my $e (readdir $dh) {
            next if $e eq '.' || $e eq '..';
            File::Path::remove_tree("$ServRoot/$e");
        }
        closedir $dh;
    }
    File::Path::make_path($ServRoot, $ConfDir, $HtmlDir, $LogDir);
}

sub write_user_files {
    my $block = shift;
    File::Path::remove_tree($HtmlDir);
    File::Path::make_path($HtmlDir);
    my $uf = sect($block, 'user_files');
    return unless defined $uf;
    my @files;
    if (ref $uf eq 'ARRAY') {
        for my $f (@$uf) {
            die "user_files: each element must be [name, content(, mtime)]\n"
                unless ref $f eq 'ARRAY';
            push @files, [@$f];
        }
    } else {
        $uf = expand_env($uf, 'user_files');
        my $cur;
        for my $line (split /^/m, $uf) {
            if ($line =~ /^>>> (\S+)(?:\s+(\d+))?\s*$/) {
                $cur = [$1, '', $2];
                push @files, $cur;
            } elsif ($cur) {
                $cur->[1] .= $line;
            } elsif ($line =~ /\S/) {
                die "user_files: content before the first '>>> name' line\n";
            }
        }
    }
    for my $f (@files) {
        my ($name, $content, $mtime) = @$f;
        my $path = "$HtmlDir/$name";
        File::Path::make_path(File::Basename::dirname($path));
        open my $fh, '>', $path or die "cannot write $path: $!\n";
        binmode $fh;
        print $fh (defined $content ? $content : '');
        close $fh;
        if (defined $mtime) {
            my $t = $mtime;
            if ($mtime =~ /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?$/) {
                local $ENV{TZ} = 'UTC';
                POSIX::tzset();
                $t = POSIX::mktime($6 // 0, $5, $4, $3, $2 - 1, $1 - 1900);
            }
            utime $t, $t, $path;
        }
    }
}

sub build_config {
    my ($block, $master) = @_;
    my $level = sect($block, 'log_level');
    $level = $LogLevel unless defined $level && $level =~ /\S/;
    $level =~ s/^\s+|\s+$//g;

    my $main_config   = expand_env(sect($block, 'main_config')   // '', 'main_config');
    my $http_config   = expand_env(sect($block, 'http_config')   // '', 'http_config');
    my $config        = expand_env(sect($block, 'config')        // '', 'config');
    my $stream_config = expand_env(sect($block, 'stream_config') // '', 'stream_config');
    my $init_by_lua   = sect($block, 'init_by_lua_block');
    my $server_name   = sect($block, 'server_name');
    $server_name = 'localhost' unless defined $server_name && $server_name =~ /\S/;
    $server_name =~ s/^\s+|\s+$//g;

    my $conf = "# generated by t/lib/Test/Nginx/Socket.pm for $block->{name}[0]\n";
    if (my $mods = $ENV{TEST_NGINX_LOAD_MODULES}) {
        $conf .= "load_module $_;\n" for split ' ', $mods;
    }
    $conf .= "worker_processes $Workers;\n";
    $conf .= "daemon off;\n";
    $conf .= "master_process $master;\n";
    $conf .= "user root;\n" if $master eq 'on' && $> == 0;
    $conf .= "error_log logs/error.log $level;\n";
    $conf .= "pid logs/nginx.pid;\n";
    $conf .= "env TEST_NGINX_SERVER_PORT;\n";
    $conf .= "env $_;\n" for @EnvToNginx;
    $conf .= "\n$main_config\n" if $main_config =~ /\S/;
    $conf .= "\nevents {\n    worker_connections $WorkerConnections;\n}\n\n";
    $conf .= "http {\n";
    $conf .= "    access_log off;\n";
    $conf .= "    default_type text/plain;\n";
    $conf .= "    keepalive_timeout 68000ms;\n";
    if (defined $init_by_lua && $init_by_lua =~ /\S/) {
        $init_by_lua = expand_env($init_by_lua, 'init_by_lua_block');
        $conf .= "    init_by_lua_block {\n$init_by_lua\n    }\n";
    }
    $conf .= "$http_config\n" if $http_config =~ /\S/;
    $conf .= "    server {\n";
    $conf .= "        listen $ServerPort;\n";
    $conf .= "        server_name $server_name;\n";
    $conf .= "        client_max_body_size 30M;\n";
    $conf .= "$config\n";
    unless ($NoRootLocation || $config =~ /\blocation\s+\/\s*\{/) {
        $conf .= "        location / {\n";
        $conf .= "            root html;\n";
        $conf .= "            index index.html index.htm;\n";
        $conf .= "        }\n";
    }
    $conf .= "    }\n";
    $conf .= "}\n";
    if ($stream_config =~ /\S/) {
        $conf .= "\nstream {\n$stream_config\n}\n";
    }
    return $conf;
}

sub write_config {
    my ($block, $master) = @_;
    my $conf = build_config($block, $master);
    open my $fh, '>', $ConfFile or die "cannot write $ConfFile: $!\n";
    print $fh $conf;
    close $fh;
}

# ---------------------------------------------------------------------------
# HTTP client
# ---------------------------------------------------------------------------

# Builds the bytes of one request from a "--- request" style string.
sub build_request {
    my ($req, $more_headers, $conn) = @_;
    $req =~ s/\A(?:[ \t]*#[^\n]*\n|[ \t]*\n)+//;   # leading comments/blank
    $req =~ s/\A[ \t]+//;
    my ($line, $body) = split /\n/, $req, 2;
    $line = '' unless defined $line;
    $line =~ s/\s+$//;
    my ($method, $uri, $ver);
    if ($line =~ m{^(\S+)\s+(\S+)(?:\s+(HTTP/\d+\.\d+))?$}) {
        ($method, $uri, $ver) = ($1, $2, $3);
    } elsif ($line =~ m{^(\S+)$}) {
        ($method, $uri) = ($1, '/');
    } else {
        die "cannot parse request line: $line\n";
    }
    $ver ||= 'HTTP/1.1';
    $body = '' unless defined $body;
    $body =~ s/\n\z//;

    my @hdrs;
    if (defined $more_headers) {
        for my $h (split /\n/, $more_headers) {
            next unless $h =~ /\S/;
            next if $h =~ /^\s*#/;
            $h =~ s/^\s+|\s+$//g;
            push @hdrs, $h;
        }
    }
    my %has = map { /^([^:]+):/ ? (lc $1 => 1) : () } @hdrs;
    my @out;
    push @out, "Host: localhost" unless $has{host};
    push @out, "Connection: $conn" unless $has{connection} || $ver eq 'HTTP/1.0' && $conn eq 'close';
    push @out, @hdrs;
    unless ($has{'content-length'} || $has{'transfer-encoding'}) {
        if (length $body || $method =~ /^(?:POST|PUT|PATCH)$/) {
            push @out, "Content-Length: " . length($body);
        }
    }
    my $bytes = "$method $uri $ver\r\n" . join('', map { "$_\r\n" } @out) . "\r\n" . $body;
    return ($bytes, $method);
}

# Sends pieces over one connection and reads until EOF (or until $want
# complete responses were parsed, when $stop_early).  Returns a hashref.
sub http_exchange {
    my (%a) = @_;
    my $timeout = $a{timeout};
    my $deadline = Time::HiRes::time() + $timeout;
    my %res = (raw => '', timed_out => 0, error => undef);

    my $sock = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1', PeerPort => $ServerPort, Proto => 'tcp',
        Timeout => $timeout,
    );
    unless ($sock) {
        $res{error} = "connect to 127.0.0.1:$ServerPort failed: $!";
        return \%res;
    }
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';
    my $sel = IO::Select->new($sock);
    my @pieces = @{ $a{pieces} };
    my $write_ok = 1;
  PIECE:
    for my $i (0 .. $#pieces) {
        my $data = $pieces[$i];
        while (length $data) {
            my $left = $deadline - Time::HiRes::time();
            if ($left <= 0) { $res{timed_out} = 1; last PIECE }
            my @w = IO::Select->new($sock)->can_write($left) or next;
            my $n = syswrite($sock, $data);
            if (!defined $n) {
                next if $!{EAGAIN} || $!{EINTR};
                $write_ok = 0;   # peer closed early; read what it sent
                last PIECE;
            }
            substr($data, 0, $n, '');
        }
        if ($i < $#pieces && $a{delay}) {
            Time::HiRes::sleep($a{delay});
        }
    }

    while (!$res{timed_out}) {
        my $left = $deadline - Time::HiRes::time();
        if ($left <= 0) { $res{timed_out} = 1; last }
        my @r = $sel->can_read($left);
        next unless @r;
        my $n = sysread($sock, my $chunk, 65536);
        if (!defined $n) {
            next if $!{EAGAIN} || $!{EINTR};
            $res{error} = "read error: $!" unless $!{ECONNRESET};
            $res{reset} = 1 if $!{ECONNRESET};
            last;
        }
        last if $n == 0;
        $res{raw} .= $chunk;
        if ($a{stop_early}) {
            my @resps = parse_responses($res{raw}, $a{methods}, 0);
            my $complete = grep { $_->{complete} } @resps;
            last if $complete >= $a{want};
        }
    }
    close $sock;
    return \%res;
}

# Parses as many HTTP responses as $buf holds.  $eof says whether the
# connection was closed (needed for close-delimited bodies).
sub parse_responses {
    my ($buf, $methods, $eof) = @_;
    my @out;
    my $pos = 0;
    my $idx = 0;
    while ($pos < length $buf) {
        my $rest = substr($buf, $pos);
        my %r = (complete => 0, headers => [], header_map => {});
        if ($rest !~ m{\AHTTP/}) {
            # HTTP/0.9-style or garbage: everything is the body
            $r{body} = $rest;
            $r{raw} = $rest;
            $r{complete} = $eof ? 1 : 0;
            push @out, \%r;
            last;
        }
        if ($rest !~ /\r?\n\r?\n/) {
            $r{raw_headers} = $rest;
            $r{raw} = $rest;
            if ($rest =~ m{\AHTTP/\d+\.\d+\s+(\d{3})}) { $r{code} = $1 }
            push @out, \%r;
            last;
        }
        $rest =~ /\r?\n\r?\n/;
        my $hlen = $+[0];
        my $head = substr($rest, 0, $-[0]);
        $r{raw_headers} = substr($rest, 0, $hlen);
        my @lines = split /\r?\n/, $head;
        my $status = shift @lines;
        $r{status_line} = $status;
        if ($status =~ m{^HTTP/(\d+\.\d+)\s+(\d{3})(?:\s+(.*))?$}) {
            ($r{version}, $r{code}, $r{reason}) = ($1, $2, $3 // '');
        }
        my $last;
        for my $l (@lines) {
            if ($l =~ /^[ \t]/ && $last) {   # obsolete folding
                $last->[1] .= " $l";
                next;
            }
            my ($k, $v) = $l =~ /^([^:]+):[ \t]*(.*?)[ \t]*$/ or next;
            $last = [$k, $v];
            push @{ $r{headers} }, $last;
        }
        for my $h (@{ $r{headers} }) {
            my $k = lc $h->[0];
            $r{header_map}{$k} = exists $r{header_map}{$k}
                ? "$r{header_map}{$k}, $h->[1]" : $h->[1];
        }
        my $code = $r{code} // 0;
        my $bpos = $hlen;
        if ($code >= 100 && $code < 200 && $code != 101) {
            $pos += $hlen;      # interim response: skip it
            next;
        }
        my $method = $methods && defined $methods->[$idx] ? $methods->[$idx] : 'GET';
        my $te = $r{header_map}{'transfer-encoding'};
        my $cl = $r{header_map}{'content-length'};
        if ($method eq 'HEAD' || $code == 204 || $code == 304 || $code == 101) {
            $r{body} = '';
            $r{complete} = 1;
            $r{raw} = substr($rest, 0, $hlen);
            $pos += $hlen;
        } elsif (defined $te && $te =~ /chunked/i) {
            my $body = '';
            my $p = $bpos;
            my $ok = 0;
            while (1) {
                my $nl = index($rest, "\n", $p);
                last if $nl < 0;
                my $szline = substr($rest, $p, $nl - $p);
                $szline =~ s/\r$//;
                $szline =~ s/;.*//;
                if ($szline !~ /^\s*([0-9a-fA-F]+)\s*$/) {
                    $r{chunk_error} = "bad chunk size line " . esc($szline);
                    last;
                }
                my $sz = hex $1;
                $p = $nl + 1;
                if ($sz == 0) {
                    # trailers until an empty line
                    while (1) {
                        my $e = index($rest, "\n", $p);
                        last if $e < 0;
                        my $tl = substr($rest, $p, $e - $p);
                        $p = $e + 1;
                        if ($tl eq '' || $tl eq "\r") { $ok = 1; last }
                    }
                    last;
                }
                last if $p + $sz > length $rest;
                $body .= substr($rest, $p, $sz);
                $p += $sz;
                if (substr($rest, $p, 2) eq "\r\n") { $p += 2 }
                elsif (substr($rest, $p, 1) eq "\n") { $p += 1 }
                elsif ($p + 2 <= length $rest) {
                    $r{chunk_error} = "missing CRLF after chunk data";
                    last;
                } else { last }
            }
            $r{body} = $body;
            $r{complete} = $ok;
            $r{raw} = substr($rest, 0, $p);
            $pos += $p;
            if (!$ok) { push @out, \%r; last }
        } elsif (defined $cl && $cl =~ /^\s*(\d+)/) {
            my $len = $1;
            my $avail = length($rest) - $bpos;
            if ($avail >= $len) {
                $r{body} = substr($rest, $bpos, $len);
                $r{complete} = 1;
                $r{raw} = substr($rest, 0, $bpos + $len);
                $pos += $bpos + $len;
            } else {
                $r{body} = substr($rest, $bpos);
                $r{raw} = $rest;
                push @out, \%r;
                last;
            }
        } else {
            $r{body} = substr($rest, $bpos);
            $r{raw} = $rest;
            $r{complete} = $eof ? 1 : 0;
            $r{close_delimited} = 1;
            push @out, \%r;
            last;
        }
        push @out, \%r;
        $idx++;
    }
    return @out;
}

# ---------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------

sub pick {
    my ($v, $i) = @_;
    return $v unless ref $v eq 'ARRAY';
    return $v->[$i];
}

sub patterns_of {
    my $v = shift;
    return () unless defined $v;
    my @list = ref $v eq 'ARRAY' ? @$v : ($v);
    my @pats;
    for my $p (@list) {
        next unless defined $p;
        if (ref $p) { push @pats, $p; next }
        for my $l (split /\n/, $p) {
            next unless length $l;
            push @pats, $l;
        }
    }
    return @pats;
}

sub pat_desc {
    my $p = shift;
    return ref $p eq 'Regexp' ? "$p" : esc($p);
}

sub line_matches {
    my ($p, $text) = @_;
    if (ref $p eq 'Regexp') { return $text =~ $p }
    return index($text, $p) >= 0;
}

sub check_response {
    my ($block, $name, $resp, $i, $n, $methods) = @_;
    my $sfx = $n > 1 ? " (req $i)" : '';
    $resp ||= {};

    # status code
    my $ecl = sect($block, 'error_code_like');
    if (defined $ecl) {
        my $pat = pick($ecl, $i);
        $pat = qr/$pat/ unless ref $pat;
        Test::More::like($resp->{code} // '', $pat, "$name - status code ok$sfx");
    } else {
        # absent: 200 expected; present but empty: no response expected
        my $ec = has_sect($block, 'error_code')
               ? pick(sect($block, 'error_code'), $i) : 200;
        $ec = '' unless defined $ec;
        $ec =~ s/^\s+|\s+$//g;
        Test::More::is($ec eq '' ? ($resp->{code} // '') : $resp->{code}, $ec,
                       "$name - status code ok$sfx");
    }

    # headers
    my $hm = $resp->{header_map} || {};
    if (defined(my $rh = pick(sect($block, 'response_headers'), $i))) {
        $rh = expand_env($rh, 'response_headers');
        for my $l (split /\n/, $rh) {
            next unless $l =~ /\S/;
            $l =~ s/^\s+|\s+$//g;
            if ($l =~ /^!\s*(\S+)$/) {
                my $k = $1;
                Test::More::ok(!defined $hm->{lc $k}, "$name - header $k absent$sfx")
                    or Test::More::diag("  $k: " . esc($hm->{lc $k}));
            } elsif ($l =~ /^([^:]+?)\s*:\s*(.*)$/) {
                my ($k, $v) = ($1, $2);
                my $got = $hm->{lc $k};
                $got = '' if !defined $got && $v eq '';
                Test::More::is($got, $v, "$name - header $k ok$sfx");
            } else {
                die "bad response_headers line: $l\n";
            }
        }
    }
    if (defined(my $rh = pick(sect($block, 'response_headers_like'), $i))) {
        for my $l (split /\n/, $rh) {
            next unless $l =~ /\S/;
            $l =~ s/^\s+|\s+$//g;
            if ($l =~ /^!\s*(\S+)$/) {
                my $k = $1;
                Test::More::ok(!defined $hm->{lc $k}, "$name - header $k absent$sfx");
            } elsif ($l =~ /^([^:]+?)\s*:\s*(.*)$/) {
                my ($k, $v) = ($1, $2);
                Test::More::like($hm->{lc $k} // '', qr/^$v$/,
                                 "$name - header $k like ok$sfx");
            } else {
                die "bad response_headers_like line: $l\n";
            }
        }
    }
    if (defined(my $p = pick(sect($block, 'raw_response_headers_like'), $i))) {
        $p = qr/$p/s unless ref $p;
        Test::More::like($resp->{raw_headers} // '', $p,
                         "$name - raw_response_headers_like ok$sfx");
    }
    if (defined(my $p = pick(sect($block, 'raw_response_headers_unlike'), $i))) {
        $p = qr/$p/s unless ref $p;
        Test::More::unlike($resp->{raw_headers} // '', $p,
                           "$name - raw_response_headers_unlike ok$sfx");
    }
    # the whole response as received (status line, headers, framed body)
    if (defined(my $p = pick(sect($block, 'raw_response_like'), $i))) {
        $p = qr/$p/s unless ref $p;
        Test::More::like($resp->{raw} // '', $p, "$name - raw_response_like ok$sfx");
    }
    if (defined(my $p = pick(sect($block, 'raw_response_unlike'), $i))) {
        $p = qr/$p/s unless ref $p;
        Test::More::unlike($resp->{raw} // '', $p, "$name - raw_response_unlike ok$sfx");
    }

    # body
    if (has_sect($block, 'response_body')) {
        my $exp = pick(sect($block, 'response_body'), $i);
        $exp = '' unless defined $exp;
        if (ref $exp eq 'Regexp') {
            Test::More::like($resp->{body} // '', $exp,
                             "$name - response_body - like$sfx");
        } else {
            $exp =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            $exp =~ s/\$ServerPort\b/$ServerPort/g;
            $exp = expand_env($exp, 'response_body');
            is_str($resp->{body}, $exp, "$name - response_body - response is expected$sfx");
        }
    }
    if (defined(my $p = pick(sect($block, 'response_body_like'), $i))) {
        $p = qr/$p/s unless ref $p;
        Test::More::like($resp->{body} // '', $p,
                         "$name - response_body_like - response is expected$sfx");
    }
    if (defined(my $p = pick(sect($block, 'response_body_unlike'), $i))) {
        $p = qr/$p/s unless ref $p;
        Test::More::unlike($resp->{body} // '', $p,
                           "$name - response_body_unlike - response is expected$sfx");
    }
}

sub check_log_patterns {
    my ($name, $kind, $pats, $text, $what) = @_;
    for my $p (@$pats) {
        my $found = line_matches_any($p, $text);
        if ($kind eq 'yes') {
            Test::More::ok($found, "$name - pattern " . pat_desc($p)
                                   . " should match a line in $what");
        } else {
            Test::More::ok(!$found, "$name - pattern " . pat_desc($p)
                                    . " should not match any line in $what")
                or Test::More::diag("  matched: $found");
        }
    }
}

sub line_matches_any {
    my ($p, $text) = @_;
    for my $l (split /\n/, $text) {
        return $l if line_matches($p, $l);
    }
    return '';
}

sub grep_log {
    my ($pat, $text) = @_;
    my $out = '';
    for my $l (split /\n/, $text) {
        if (ref $pat eq 'Regexp') {
            while ($l =~ /$pat/g) {
                $out .= "$&\n";
                last if $+[0] == $-[0] && ++pos($l) > length $l;
            }
        } else {
            my $p = 0;
            while ((my $at = index($l, $pat, $p)) >= 0) {
                $out .= "$pat\n";
                $p = $at + (length($pat) || 1);
            }
        }
    }
    return $out;
}

sub diag_log_excerpt {
    my ($errlog, $stderr) = @_;
    my @lines = split /\n/, $errlog;
    unless ($Verbose) {
        # drop [debug] lines and their continuation lines (header dumps)
        my $keep = 1;
        @lines = grep {
            if (m{^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\]}) {
                $keep = $1 ne 'debug';
            }
            $keep;
        } @lines;
    }
    my $max = $Verbose ? 1000 : 40;
    my $skipped = @lines > $max ? @lines - $max : 0;
    @lines = @lines[-$max .. -1] if $skipped;
    if (@lines) {
        Test::More::diag("--- error.log (this block, non-debug"
            . ($skipped ? ", last $max of " . ($max + $skipped) : '') . "):");
        Test::More::diag("  $_") for @lines;
    } else {
        Test::More::diag("--- error.log: no non-debug lines in this block");
    }
    if (defined $stderr && $stderr =~ /\S/) {
        Test::More::diag("--- server stderr (this block):");
        Test::More::diag("  $_") for split /\n/, $stderr;
    }
}

# ---------------------------------------------------------------------------
# running a block
# ---------------------------------------------------------------------------

sub requests_of {
    my $block = shift;
    my @reqs;   # list of connections: {pieces => [...], methods => [...], want => n, stop_early}
    my $timeout = parse_seconds(sect($block, 'timeout'), 3);
    if ($UseValgrind) { $timeout *= 5 }
    my $more = sect($block, 'more_headers');
    $more = expand_env($more, 'more_headers');

    if (has_sect($block, 'pipelined_requests')) {
        my $pr = expand_env(sect($block, 'pipelined_requests'), 'pipelined_requests');
        my @list = ref $pr eq 'ARRAY' ? @$pr : grep { /\S/ } split /\n/, $pr;
        my ($bytes, @methods) = ('');
        for my $i (0 .. $#list) {
            my ($b, $m) = build_request($list[$i], pick($more, $i),
                                        $i == $#list ? 'close' : 'keep-alive');
            $bytes .= $b;
            push @methods, $m;
        }
        return ([{ pieces => [$bytes], methods => \@methods, want => scalar @list,
                   timeout => $timeout }], scalar @list);
    }
    if (has_sect($block, 'raw_request')) {
        my $raw = expand_env(sect($block, 'raw_request'), 'raw_request');
        my @pieces = ref $raw eq 'ARRAY' ? @$raw : ($raw);
        my $delay = parse_seconds(sect($block, 'raw_request_middle_delay'), 0.001);
        my ($m) = $pieces[0] =~ /^\s*(\S+)/;
        return ([{ pieces => \@pieces, methods => [$m // 'GET'], want => 1,
                   stop_early => 1, delay => $delay, timeout => $timeout }], 1);
    }
    my $req;
    if (has_sect($block, 'request_eval')) {
        my $code = sect($block, 'request_eval');
        $req = eval "package main; no strict; $code";
        die "request_eval failed: $@" if $@;
    } elsif (has_sect($block, 'request')) {
        $req = sect($block, 'request');
    }
    return ([], 0) unless defined $req;
    $req = expand_env($req, 'request');
    my @list = ref $req eq 'ARRAY' ? @$req : ($req);
    for my $i (0 .. $#list) {
        my ($b, $m) = build_request($list[$i], pick($more, $i), 'close');
        push @reqs, { pieces => [$b], methods => [$m], want => 1, timeout => $timeout };
    }
    return (\@reqs, scalar @list);
}

# (Re)starts the server for $block.  Returns ($ok, $why, $log_start,
# $stderr_start): the log offsets where this block's lines begin, taken after
# the previous server instance was stopped.
sub start_for_block {
    my ($block, $must_die) = @_;
    my $master = $MasterProcessEnabled;
    $master = 'on' if $UseHup;
    if ($UseHup && !$must_die && !$PrevBlockWasMustDie && $ServerPid && server_alive()) {
        write_config($block, $master);
        write_user_files($block);
        # lines written during the reload still carry the previous block's
        # log level, so this block's window starts once the reload is done
        if (reload_server() && server_alive() && port_open()) {
            return (1, '', file_size($ErrLogFile), file_size($StderrFile));
        }
        # reload failed (e.g. the new config is bad): full restart
    }
    stop_server();
    my @pos = (file_size($ErrLogFile), file_size($StderrFile));
    write_config($block, $master);
    write_user_files($block);
    spawn_server();
    return (1, '', @pos) if $must_die;
    return (wait_server_ready(), @pos);
}

sub run_block {
    my $block = shift;
    my $name = $block->{name}[0] // 'unnamed block';
    my $fails_before = fail_count();
    my $must_die = has_sect($block, 'must_die');

    my ($ok, $why, $log_start, $err_start) = start_for_block($block, $must_die);
    $PrevBlockWasMustDie = $must_die ? 1 : 0;

    if ($must_die) {
        my $secs = $UseValgrind ? 60 : 5;
        my $pid = $ServerPid;
        my $exited = $pid ? wait_exit($pid, $secs) : 1;
        my $status = $?;
        if ($exited) { $ServerPid = undef }
        Test::More::ok($exited && $status != 0,
                       "$name - server must fail to start")
            or Test::More::diag($exited ? "  server exited with status 0"
                                        : "  server is still running after ${secs}s");
        stop_server() unless $exited;
        my $text = read_file_from($StderrFile, $err_start)
                 . read_file_from($ErrLogFile, $log_start);
        check_log_patterns($name, 'yes', [patterns_of(sect($block, 'error_log'))],
                           $text, 'error.log/stderr');
        check_log_patterns($name, 'no', [patterns_of(sect($block, 'no_error_log'))],
                           $text, 'error.log/stderr');
        if (fail_count() > $fails_before) {
            diag_log_excerpt(read_file_from($ErrLogFile, $log_start),
                             read_file_from($StderrFile, $err_start));
        }
        return;
    }

    unless ($ok) {
        Test::More::fail("$name - server failed to start: $why");
        diag_log_excerpt(read_file_from($ErrLogFile, $log_start),
                         read_file_from($StderrFile, $err_start));
        Test::More::diag("--- nginx.conf:\n" . read_file_from($ConfFile, 0)) if $Verbose;
    }

    my ($conns, $nreq) = requests_of($block);
    my $ignore = has_sect($block, 'ignore_response');
    my $abort = has_sect($block, 'abort');
    my $wait = parse_seconds(sect($block, 'wait'), 0);

    my $iter_log_start = $log_start;
    for my $rep (0 .. $RepeatEach - 1) {
        $iter_log_start = file_size($ErrLogFile) if $rep > 0 && !$CheckAccumErrLog;
        my @resps;
        for my $c (@$conns) {
            my $r = http_exchange(%$c);
            if ($r->{error}) {
                Test::More::diag("$name - $r->{error}");
            }
            if ($r->{timed_out} && !$abort) {
                Test::More::fail("$name - client socket timed out after $c->{timeout}s"
                                 . " (use --- abort if expected)");
            }
            my @p = parse_responses($r->{raw}, $c->{methods}, !$r->{timed_out});
            for my $i (0 .. $c->{want} - 1) {
                my $resp = $p[$i];
                if (!$resp && !$r->{error} && !$r->{timed_out}) {
                    # connection closed without (more) response bytes
                    $resp = { body => '', complete => 1, headers => [],
                              header_map => {}, no_response => 1 };
                }
                push @resps, $resp;
            }
        }
        unless ($ignore) {
            for my $i (0 .. $nreq - 1) {
                my $resp = $resps[$i];
                if ($resp && $resp->{chunk_error}) {
                    Test::More::diag("$name - bad chunked encoding: $resp->{chunk_error}");
                }
                if ($resp && !$resp->{complete} && !$abort) {
                    Test::More::diag("$name - response $i is incomplete");
                }
                check_response($block, $name, $resp, $i, $nreq);
            }
        }

        Time::HiRes::sleep($wait) if $wait;

        my @yes = patterns_of(sect($block, 'error_log'));
        my @no  = patterns_of(sect($block, 'no_error_log'));
        my $text = read_file_from($ErrLogFile, $iter_log_start);
        if (@yes) {
            # log lines may land a moment after the response: poll briefly
            my $deadline = Time::HiRes::time() + 0.3;
            while (grep { !line_matches_any($_, $text) } @yes) {
                last if Time::HiRes::time() >= $deadline;
                Time::HiRes::sleep(0.005);
                $text = read_file_from($ErrLogFile, $iter_log_start);
            }
        }
        check_log_patterns($name, 'yes', \@yes, $text, 'error.log');
        check_log_patterns($name, 'no', \@no, $text, 'error.log');
        if (has_sect($block, 'grep_error_log')) {
            my $pat = sect($block, 'grep_error_log');
            $pat =~ s/\n\z// unless ref $pat;
            my $got = grep_log($pat, $text);
            my $exp = sect($block, 'grep_error_log_out');
            if (ref $exp eq 'ARRAY') {
                $exp = $rep <= $#$exp ? $exp->[$rep] : $exp->[-1];
            }
            if (ref $exp eq 'Regexp') {
                Test::More::like($got, $exp, "$name - grep_error_log_out");
            } else {
                is_str($got, $exp // '', "$name - grep_error_log_out");
            }
        }
    }

    my @sd_yes = patterns_of(sect($block, 'shutdown_error_log'));
    my @sd_no  = patterns_of(sect($block, 'no_shutdown_error_log'));
    if (@sd_yes || @sd_no) {
        my $pos = file_size($ErrLogFile);
        my $epos = file_size($StderrFile);
        stop_server();
        my $text = read_file_from($ErrLogFile, $pos) . read_file_from($StderrFile, $epos);
        check_log_patterns($name, 'yes', \@sd_yes, $text, 'error.log (shutdown)');
        check_log_patterns($name, 'no', \@sd_no, $text, 'error.log (shutdown)');
    }

    if ($UseValgrind) {
        my $e = read_file_from($StderrFile, $err_start);
        my @vg = grep { /^==\d+==/ } split /\n/, $e;
        if (@vg) {
            Test::More::fail("$name - valgrind reported errors");
            Test::More::diag($_) for @vg[0 .. ($#vg < 60 ? $#vg : 60)];
        }
    }

    if (fail_count() > $fails_before) {
        Test::More::diag("    (failing block: $name; servroot $ServRoot)");
        diag_log_excerpt(read_file_from($ErrLogFile, $log_start),
                         read_file_from($StderrFile, $err_start));
    }
}

sub run_tests {
    Test::More::plan('no_plan') unless $TB->has_plan;

    my @blocks = Test::Base::blocks();

    if (!-x $NginxBinary) {
        Test::More::fail("server binary $NginxBinary is not executable"
                         . " (set TEST_NGINX_BINARY)");
        return;
    }

    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;
    }
    unless ($NoShuffle) {
        @blocks = List::Util::shuffle(@blocks);
    }

    prepare_servroot();

    # Stop the server when the test file is interrupted or its output pipe
    # goes away, then die of the same signal.
    for my $sig (qw(INT TERM HUP PIPE)) {
        $SIG{$sig} = sub {
            kill_server_now() unless $NoClean;
            $SIG{$sig} = 'DEFAULT';
            kill $sig, $$;
        };
    }

    for my $block (@blocks) {
        my $t0 = Time::HiRes::time();
        # HUP mode: old workers of the previous block exit during this one.
        check_sanitizer_reports();
        eval { run_block($block); 1 } or do {
            my $err = $@ || 'unknown error';
            Test::More::fail(($block->{name}[0] // 'block') . " - harness error: $err");
        };
        $SanLabel = $block->{name}[0] // 'block';
        if ($ENV{TEST_NGINX_BLOCK_TIMES}) {
            Test::More::diag(sprintf "%6.1f ms  %s",
                (Time::HiRes::time() - $t0) * 1000, $block->{name}[0] // '?');
        }
    }

    finish();
}

sub run_test { run_block(@_) }

my $Finished = 0;
sub finish {
    return if $Finished++;
    if ($NoClean) {
        Test::More::diag("TEST_NGINX_NO_CLEAN: server left running (pid "
                         . ($ServerPid // 'none') . "), servroot $ServRoot")
            if $ServerPid;
        return;
    }
    stop_server();
    if ($ServRootIsPrivate) {
        File::Path::remove_tree($ServRoot);
    }
}

END {
    # make sure no server outlives the test file (e.g. after a die)
    if (!$NoClean && $ServerPid) {
        local $?;
        stop_server();
    }
}

# eval filter that evaluates in package main and does not swallow errors
package Test::Nginx::Socket::Filter;
our @ISA = ('Test::Base::Filter');

sub eval {
    my $self = shift;
    my $code = shift;
    my @ret = CORE::eval("package main; no strict; no warnings; $code");
    if ($@) {
        my $name = $self->current_block ? $self->current_block->name : '?';
        die "eval filter failed in block '$name': $@";
    }
    return @ret;
}

1;
