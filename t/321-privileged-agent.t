# The privileged agent as a process: its title, its user (the master's, while
# the workers drop to `user`), no listening socket in /proc/PID/fd, restart
# after SIGKILL, replacement on HUP (and none once a reload stops enabling
# it), a stop on QUIT after its premature timers and exit_worker_by_lua ran;
# process.type() in a signaller (-s reload) and in single-process mode; and a
# non-root master, where `user` is ignored and every process keeps the
# invoking user.
#
# Lunet only: Debian's nginx lacks OpenResty's privileged-agent core patch
# and lua-resty-core's ngx.process (semantics follow lua-resty-core's docs
# and t/process-type-*.t).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Time::HiRes qw(time sleep);
use POSIX ();
use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use Lunet::Proc qw(free_port alive children wait_until read_file http_get pid_file
                   cleanup_servers);

my $bin = $ENV{TEST_NGINX_BINARY} || abs_path("$FindBin::Bin/../build/release/lunet");

sub cmdline {
    my $c = read_file("/proc/$_[0]/cmdline");
    $c =~ s/\0+$//;
    $c =~ s/\0/ /g;
    return $c;
}

sub status_field {
    my ($pid, $field) = @_;
    for (split /\n/, read_file("/proc/$pid/status")) {
        return $1 if /^$field:\s+(\d+)/;
    }
    return -1;
}

# Inodes of the sockets in LISTEN state (TCP, v4 and v6).
sub listening_inodes {
    my %ino;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        for (split /\n/, read_file($f)) {
            my @c = split ' ';
            next unless @c > 9 && $c[3] eq '0A';
            $ino{$c[9]} = 1;
        }
    }
    return \%ino;
}

# How many listening sockets process $pid holds.
sub listening_fds {
    my ($pid) = @_;
    my $listen = listening_inodes();
    my $n = 0;
    for my $fd (glob "/proc/$pid/fd/*") {
        my $t = readlink($fd) // next;
        $n++ if $t =~ /^socket:\[(\d+)\]$/ && $listen->{$1};
    }
    return $n;
}

sub agents {
    my ($master) = @_;
    return grep { cmdline($_) =~ /^lunet: privileged agent process$/ } children($master);
}

sub workers_of {
    my ($master) = @_;
    return grep { cmdline($_) =~ /^lunet: worker process$/ } children($master);
}

sub write_conf {
    my ($dir, %o) = @_;
    my $listen = join '', map { "        listen 127.0.0.1:$_;\n" } @{ $o{ports} };
    my $enable = $o{agent} ? 'assert(process.enable_privileged_agent())' : '';
    open my $fh, '>', "$dir/conf/nginx.conf" or die;
    print $fh <<"CONF";
$o{user}
worker_processes 2;
daemon off;
master_process $o{master};
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    lua_shared_dict state 1m;
    init_by_lua_block {
        local process = require "ngx.process"
        ngx.log(ngx.WARN, "init_by_lua type: ", process.type())
        $enable
    }
    init_worker_by_lua_block {
        local process = require "ngx.process"
        local typ, pid = process.type(), ngx.worker.pid()
        if typ ~= "privileged agent" then return end
        ngx.shared.state:incr("agent starts", 1, 0)
        ngx.shared.state:set("agent", pid)
        ngx.log(ngx.WARN, "agent ", pid, " started")
        -- only ever runs as premature: when the agent stops or retires
        ngx.timer.at(3600, function(premature)
            ngx.log(ngx.WARN, "agent ", pid, " pending timer: premature=", tostring(premature))
        end)
    }
    exit_worker_by_lua_block {
        ngx.log(ngx.WARN, "exit_worker in ", require("ngx.process").type(), " ",
                ngx.worker.pid())
    }
    server {
$listen
        location / {
            content_by_lua_block {
                local process = require "ngx.process"
                ngx.say(process.type(), " ", ngx.worker.pid(), " ",
                        tostring(ngx.shared.state:get("agent")), " ",
                        tostring(ngx.shared.state:get("agent starts")), " ",
                        process.get_master_pid())
            }
        }
    }
}
CONF
    close $fh;
}

sub new_dir {
    my ($tag) = @_;
    my $dir = tempdir("lunet-agent-$tag-XXXXXX", TMPDIR => 1, CLEANUP => !$ENV{KEEP});
    cleanup_servers($dir);
    make_path("$dir/conf", "$dir/logs", "$dir/html");
    chmod 0755, $dir;
    return $dir;
}

# Starts lunet on $dir (as the given user if @as), returns the master's pid.
sub start {
    my ($dir, @as) = @_;
    my $pid = fork // die;
    if ($pid == 0) {
        open STDERR, '>', "$dir/logs/stderr.log";
    open STDOUT, '>', '/dev/null';
        open STDOUT, '>', '/dev/null';
        exec @as, $bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf" or POSIX::_exit(1);
    }
    return $pid;
}

sub stop {
    my ($pid) = @_;
    kill 'QUIT', $pid;
    my $ok = wait_until(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, 10);
    unless ($ok) { kill 'KILL', $pid; waitpid($pid, 0); }
    return $ok;
}

my @started;
END { for (@started) { kill 'KILL', $_ if alive($_) } }

# ---------------------------------------------------------------- as root
SKIP: {
    skip 'the user checks need root', 1 unless $> == 0;
    my $dir = new_dir('root');
    my ($pa, $pb) = (free_port(), free_port());
    write_conf($dir, user => 'user nobody;', master => 'on', agent => 1, ports => [$pa, $pb]);
    my $m = start($dir);
    push @started, $m;
    my $log = sub { read_file("$dir/logs/error.log") };

    ok(wait_until(sub { defined http_get($pa, "/") }, 10), 'server answers');
    ok(wait_until(sub { agents($m) == 1 && workers_of($m) == 2 }),
       'the master forks two workers and one agent titled "lunet: privileged agent process"')
        or diag(join "\n", map { "$_: " . cmdline($_) } children($m));
    my ($agent) = agents($m);
    my @workers = workers_of($m);
    ok(wait_until(sub { $log->() =~ /agent $agent started/ }), 'the agent ran init_worker_by_lua');

    is(status_field($m, 'Uid'), 0, 'master runs as root');
    is(status_field($agent, 'Uid'), 0, 'agent keeps the master\'s user (root)');
    is(status_field($agent, 'Gid'), 0, 'agent keeps the master\'s group');
    ok(wait_until(sub { !grep { status_field($_, 'Uid') != 65534 } @workers }),
       'workers drop to "user nobody"');

    cmp_ok(listening_fds($workers[0]), '==', 2, 'a worker holds both listening sockets');
    is(listening_fds($agent), 0, 'the agent holds no listening socket');
    is(listening_fds($m), 2, 'the master holds both listening sockets');

    my $body = http_get($pa, "/") // '';
    like($body, qr/^worker (\d+) $agent 1 $m$/, 'requests go to workers; they see the agent');
    my ($wpid) = $body =~ /^worker (\d+)/;
    ok((grep { $_ == $wpid } @workers), 'served by one of the workers');

    # -- SIGKILL: the master replaces the agent, init_worker_by_lua runs again
    kill 'KILL', $agent;
    ok(wait_until(sub { my @a = agents($m); @a == 1 && $a[0] != $agent }, 10),
       'a killed agent is replaced');
    my ($agent2) = agents($m);
    like($log->(), qr/\[alert\] \d+#\d+: privileged agent process $agent exited on signal 9/,
         'the master logs the agent\'s death');
    like($log->(), qr/start privileged agent process $agent2/, 'and the start of the new one');
    ok(wait_until(sub { (http_get($pa, "/") // '') =~ /^worker \d+ $agent2 2 / }),
       'the new agent ran init_worker_by_lua (second start)');
    is(status_field($agent2, 'Uid'), 0, 'the new agent is root again');
    is(listening_fds($agent2), 0, 'and holds no listening socket');
    is_deeply([sort { $a <=> $b } workers_of($m)], [sort { $a <=> $b } @workers],
              'the workers were left alone');

    # -- HUP with a config that drops port B: new workers and a new agent;
    # the old agent's pending timer runs as premature and exit_worker runs
    write_conf($dir, user => 'user nobody;', master => 'on', agent => 1, ports => [$pa]);
    kill 'HUP', $m;
    ok(wait_until(sub {
        my @a = agents($m);
        @a == 1 && $a[0] != $agent2 && !alive($agent2) && !(grep { alive($_) } @workers)
            && $log->() =~ /privileged agent process $agent2 exited/
    }, 10), 'HUP: the agent is replaced like the workers, the old one exits');
    my ($agent3) = agents($m);
    my $text = $log->();
    like($text, qr/agent $agent2 pending timer: premature=true/,
         'the retired agent ran its pending timer as premature');
    like($text, qr/exit_worker in privileged agent $agent2/,
         'the retired agent ran exit_worker_by_lua');
    like($text, qr/privileged agent process $agent2 exited with code 0/, 'and exited with 0');
    ok(wait_until(sub { $log->() =~ /agent $agent3 started/ }), 'the new agent started');
    is(status_field($agent3, 'Uid'), 0, 'the new generation\'s agent is root');
    is(listening_fds($agent3), 0, 'and holds no listening socket');
    my @workers2 = workers_of($m);
    is(scalar(@workers2), 2, 'two new workers');
    is(listening_fds($_), 1, "new worker $_ holds only the listening socket still configured")
        for @workers2;
    is(listening_fds($m), 1, 'the master closed the dropped listener');
    ok(!defined(IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $pb, Proto => 'tcp',
                                      Timeout => 1)),
       'nobody listens on the dropped port any more');
    my @init_types = $log->() =~ /init_by_lua type: (\w+)/g;
    is_deeply(\@init_types, ['master', 'master'], 'init_by_lua ran as "master" at start and HUP');

    # -- a signaller: lunet -s reload runs init_by_lua as "signaller"
    write_conf($dir, user => 'user nobody;', master => 'on', agent => 0, ports => [$pa]);
    system($bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf", '-s', 'reload') == 0
        or diag("lunet -s reload failed: $?");
    ok(wait_until(sub { $log->() =~ /init_by_lua type: signaller/ }),
       'init_by_lua in "lunet -s reload" says "signaller"');

    # -- the reload it sent uses a config without enable_privileged_agent:
    # the agent retires and none replaces it
    ok(wait_until(sub { !alive($agent3) && workers_of($m) == 2 && !(grep { alive($_) } @workers2) },
                  10), 'reload without enable_privileged_agent: the agent exits');
    sleep 0.3;    # a respawn would happen at once
    is(scalar(agents($m)), 0, 'and is not replaced');
    like($log->(), qr/agent $agent3 pending timer: premature=true/, 'after its premature timer');

    # -- QUIT with an agent: its premature timer and exit_worker, then exit
    write_conf($dir, user => 'user nobody;', master => 'on', agent => 1, ports => [$pa]);
    kill 'HUP', $m;
    ok(wait_until(sub { agents($m) == 1 }, 10), 'a reload that enables it again forks an agent');
    my ($agent4) = agents($m);
    ok(wait_until(sub { $log->() =~ /agent $agent4 started/ }), 'which starts');
    ok(stop($m), 'QUIT: the server exits');
    $text = $log->();
    like($text, qr/agent $agent4 pending timer: premature=true.*exit_worker in privileged agent $agent4.*privileged agent process $agent4 exited with code 0.*\[notice\] \d+#\d+: exit$/s,
         'QUIT: the agent ran its premature timer, then exit_worker_by_lua, then exited, then the master');
    unlike($text, qr/premature=false/, 'the pending timer never ran as a normal run');
    unlike($text, qr/exited on signal (?!9)|\[emerg\]|\[crit\]/, 'no other abnormal exit');
    unlike(read_file("$dir/logs/stderr.log"), qr/ERROR: (?:Address|Leak)Sanitizer|runtime error: /,
           'no sanitizer report');
}

# ------------------------------------------------- a master that is not root
SKIP: {
    skip 'needs root to start a master as "nobody"', 1
        unless $> == 0 && -x '/usr/bin/setpriv';
    my $dir = new_dir('nobody');
    my $port = free_port();
    write_conf($dir, user => 'user root;', master => 'on', agent => 1, ports => [$port]);
    system('chown', '-R', 'nobody:nogroup', $dir) == 0 or die;
    my $m = start($dir, '/usr/bin/setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups');
    push @started, $m;
    ok(wait_until(sub { defined http_get($port, "/") }, 10), 'non-root server answers');
    ok(wait_until(sub { agents($m) == 1 && workers_of($m) == 2 }), 'with an agent');
    my ($agent) = agents($m);
    is(status_field($m, 'Uid'), 65534, 'master runs as nobody');
    is(status_field($agent, 'Uid'), 65534, 'the agent keeps the master\'s user (nobody)');
    is(status_field($_, 'Uid'), 65534, "worker $_ too: \"user\" is ignored") for workers_of($m);
    like(read_file("$dir/logs/error.log"),
         qr/\[warn\] .*the "user" directive makes sense only if the master process runs with super-user privileges, ignored/,
         'the "user" directive is ignored with nginx\'s warning');
    is(listening_fds($agent), 0, 'the agent holds no listening socket');
    ok(stop($m), 'QUIT: the server exits');
}

# ------------------------------------------------------------ single process
{
    my $dir = new_dir('single');
    my $port = free_port();
    write_conf($dir, user => '', master => 'off', agent => 1, ports => [$port]);
    my $m = start($dir);
    push @started, $m;
    ok(wait_until(sub { defined http_get($port, "/") }, 10), 'single-process server answers');
    like(http_get($port, "/") // '', qr/^single $m nil nil $m$/,
         'type() is "single" and get_master_pid() its own pid; no agent');
    my @kids = children($m);
    is(scalar(@kids), 0, 'enable_privileged_agent forks nothing with master_process off');
    like(read_file("$dir/logs/error.log"), qr/init_by_lua type: single/,
         'init_by_lua says "single"');
    ok(stop($m), 'QUIT: the server exits');
}

done_testing();
