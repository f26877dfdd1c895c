package SympaE2E::Sympa;

# One Sympa 6.2.70 instance for the end-to-end suite, run from the Debian
# package's programs with a configuration of its own.
#
# Everything lives under one state directory (configuration, list homes,
# spools, SQLite database, user certificates, captured mail, logs), which is
# wiped and rewritten on every run, so that the suite is idempotent. The one
# thing shared with the packaged instance is the incoming spool: Sympa's
# "queue" program has the path of /etc/sympa/sympa/sympa.conf compiled in and
# writes where that file's "queue" parameter (default /var/spool/sympa/msg)
# says, so this instance reads its incoming mail from there too.

use strict;
use warnings;
use Carp           qw(croak);
use File::Basename qw(dirname);
use File::Copy     qw(copy move);
use Fcntl          qw(:flock O_RDONLY O_CREAT);
use File::Path     qw(make_path remove_tree);
use POSIX          qw();
use Time::HiRes    qw(time);

use SympaE2E::Util
    qw(run_cmd try_cmd write_file read_file wait_until processes_in_sessions);

our $SBIN        = '/usr/lib/sympa/bin';
our $SITE_CONFIG = '/etc/sympa/sympa/sympa.conf';
our $PIDDIR      = '/run/sympa';
our $LOCK_FILE   = '/tmp/sympa-daemons.lock';
my @DAEMONS = qw(sympa_msg bulk);

sub new {
    my ($class, %opt) = @_;
    my $dir  = $opt{dir} or croak 'dir required';
    my $self = bless {
        dir        => $dir,
        domain     => $opt{domain}     || 'lists.example.org',
        listmaster => $opt{listmaster} || 'listmaster@lists.example.org',
        daemon_env => {},
        daemons    => {},
        log_level  => $opt{log_level} // 2,
        time_limit => $opt{time_limit} || 900,
        lock_wait  => $opt{lock_wait}  || 900,
        seen       => {},
    } => $class;
    my @pw = getpwnam('sympa') or croak 'no "sympa" user';
    @{$self}{qw(uid gid home)} = @pw[2, 3, 7];
    # private_queue: an instance that takes no mail (the web suite) keeps
    # off the shared spool, where it could remove another run's messages.
    $self->{incoming} =
        $opt{private_queue}
        ? "$dir/spool/msg"
        : _site_param('queue') || '/var/spool/sympa/msg';
    return $self;
}

sub dir         { $_[0]{dir} }
sub domain      { $_[0]{domain} }
sub config      {"$_[0]{dir}/etc/sympa.conf"}
sub incoming    { $_[0]{incoming} }
sub capture_dir {"$_[0]{dir}/capture"}
sub log_file    {"$_[0]{dir}/log/daemons.log"}
sub list_dir    {"$_[0]{dir}/list_data/$_[1]"}
sub cert_dir    {"$_[0]{dir}/X509-user-certs"}

# Reads one parameter of the packaged instance's sympa.conf.
sub _site_param {
    my $name = shift;
    open my $fh, '<', $SITE_CONFIG or return undef;
    while (<$fh>) {
        return $1 if /^\Q$name\E\s+(\S.*?)\s*$/;
    }
    return undef;
}

# Every run of Sympa's daemons on this machine (this harness, the demo,
# someone's "flock /tmp/sympa-daemons.lock ...") reads the one incoming
# spool, and _check_incoming_spool would take another run's messages for
# leftovers: the lock is held from prepare until the process exits.
# A run started under "flock /tmp/sympa-daemons.lock COMMAND" inherits the
# locked descriptor; locking that one again succeeds at once, where opening
# the file anew would wait for ever on our own parent.
sub take_lock {
    my $self = shift;
    return $self if $self->{lock};
    my $fh = _inherited_lock();
    unless ($fh) {
        sysopen $fh, $LOCK_FILE, O_RDONLY | O_CREAT, 0666
            or croak "$LOCK_FILE: $!";
    }
    unless (flock $fh, LOCK_EX | LOCK_NB) {
        warn "waiting for $LOCK_FILE: another run of Sympa's daemons "
            . "holds it\n";
        wait_until($self->{lock_wait}, sub { flock $fh, LOCK_EX | LOCK_NB })
            or croak "$LOCK_FILE still held after $self->{lock_wait} s";
    }
    $self->{lock} = $fh;
    return $self;
}

sub _inherited_lock {
    opendir my $dh, '/proc/self/fd' or return undef;
    for my $fd (grep {/\A\d+\z/} readdir $dh) {
        my $target = readlink "/proc/self/fd/$fd" // next;
        next unless $target eq $LOCK_FILE;
        open my $fh, '<&=', $fd or next;
        return $fh;
    }
    return undef;
}

# Wipes the state directory and lays out a fresh one.
sub prepare {
    my $self = shift;
    my $dir  = $self->{dir};
    $self->take_lock;
    remove_tree($dir) if -e $dir;
    make_path($dir, {mode => 0755});
    chmod 0755, $dir;
    for my $sub (
        qw(etc list_data spool db X509-user-certs capture log bin
        static arc bounce)
    ) {
        make_path("$dir/$sub");
    }
    for my $sub (
        qw(moderation digest auth outgoing subscribe topic bounce task
        automatic bulk tmp viewmail)
    ) {
        make_path("$dir/spool/$sub");
    }
    copy(dirname(__FILE__) . '/../../bin/capture-sendmail',
        "$dir/bin/capture-sendmail")
        or croak "copy capture-sendmail: $!";
    chmod 0755, "$dir/bin/capture-sendmail";
    copy(
        '/etc/sympa/data_structure.version',
        "$dir/etc/data_structure.version"
    );
    $self->_chown_tree($dir);
    chown 0, 0, $dir, "$dir/bin", "$dir/bin/capture-sendmail";

    make_path($PIDDIR) unless -d $PIDDIR;
    chown $self->{uid}, $self->{gid}, $PIDDIR;
    make_path($self->{incoming});
    make_path("$self->{incoming}/bad");
    chown $self->{uid}, $self->{gid}, $self->{incoming},
        "$self->{incoming}/bad";
    $self->_check_incoming_spool;
    return $self;
}

sub _chown_tree {
    my ($self, @paths) = @_;
    run_cmd(['chown', '-R', "$self->{uid}:$self->{gid}", @paths]);
}

# Our messages carry Message-IDs <e2e.*@example.net> (SympaE2E::Mail).
sub _ours {
    my $file = shift;
    open my $fh, '<', $file or return 0;
    # A lexical: callers run this in grep, where $_ is their file name.
    while (my $line = <$fh>) {
        return 1 if $line =~ /^Message-ID:\s*<e2e\.[^>]*\@example\.net>/i;
        return 0 if $line =~ /^\r?$/;
    }
    return 0;
}

# Our messages in the shared incoming spool and its quarantine.
sub own_mail {
    my $self = shift;
    return
        grep { -f $_ && _ours($_) }
        glob "$self->{incoming}/* $self->{incoming}/bad/*";
}

# Leftovers of an interrupted run are removed from the shared incoming
# spool; anybody else's mail there would be processed by this instance, so
# the suite refuses to run.
sub _check_incoming_spool {
    my $self = shift;
    my @foreign;
    for my $file (grep { -f $_ } glob "$self->{incoming}/*") {
        if   (_ours($file)) { unlink $file }
        else                { push @foreign, $file }
    }
    croak sprintf "%s holds %d message(s) that are not the suite's; "
        . "let the packaged Sympa process them or move them away first\n",
        $self->{incoming}, scalar @foreign
        if @foreign;
    unlink grep { _ours($_) } glob "$self->{incoming}/bad/*";
    return;
}

# Moves our messages out of the shared incoming spool into the state
# directory, for inspection: those quarantined in its "bad" spool, and
# those no daemon took before they stopped (the packaged Sympa would
# otherwise process them later).
sub _collect_own_mail {
    my $self = shift;
    for (
        ['incoming-bad',  "$self->{incoming}/bad/*"],
        ['incoming-left', "$self->{incoming}/*"]
    ) {
        my ($sub, $glob) = @$_;
        my @ours = grep { -f $_ && _ours($_) } glob $glob or next;
        make_path("$self->{dir}/$sub");
        move($_, "$self->{dir}/$sub") for @ours;
        # A daemon stopped while it held a message leaves Sympa's
        # LockedFile beside it, which the next run would take for mail.
        unlink grep { -f $_ } map {"$_,lock"} @ours;
    }
    return;
}

# Writes sympa.conf. %crypto: cafile, capath, key_passwd.
sub write_config {
    my ($self, %crypto) = @_;
    my $dir   = $self->{dir};
    my %param = (
        domain              => $self->{domain},
        listmaster          => $self->{listmaster},
        lang                => 'en',
        db_type             => 'SQLite',
        db_name             => "$dir/db/sympa.sqlite",
        home                => "$dir/list_data",
        etc                 => "$dir/etc",
        spool               => "$dir/spool",
        queue               => $self->{incoming},
        queuebulk           => "$dir/spool/bulk",
        queuemod            => "$dir/spool/moderation",
        queuedigest         => "$dir/spool/digest",
        queueauth           => "$dir/spool/auth",
        queueoutgoing       => "$dir/spool/outgoing",
        queuesubscribe      => "$dir/spool/subscribe",
        queuetopic          => "$dir/spool/topic",
        queuebounce         => "$dir/spool/bounce",
        queuetask           => "$dir/spool/task",
        queueautomatic      => "$dir/spool/automatic",
        tmpdir              => "$dir/spool/tmp",
        viewmail_dir        => "$dir/spool/viewmail",
        bounce_path         => "$dir/bounce",
        arc_path            => "$dir/arc",
        static_content_path => "$dir/static",
        css_path            => "$dir/static/css",
        pictures_path       => "$dir/static/pictures",
        ssl_cert_dir        => $self->cert_dir,
        sendmail            => "$dir/bin/capture-sendmail",
        sendmail_aliases    => 'none',
        log_level           => $self->{log_level},
        log_smtp            => 'on',
        sleep               => 1,
        incoming_max_count  => 1,
        bulk_max_count      => 1,
        bulk_lazytime       => 1,
        bulk_sleep          => 1,
        %crypto,
    );
    write_file(
        $self->config,
        join('',
            "# Written by the sympa-smime end-to-end suite.\n",
            map {"$_\t$param{$_}\n"} sort keys %param),
        0640
    );
    chown $self->{uid}, $self->{gid}, $self->config;
    return $self->config;
}

# Environment of every Sympa program we run.
sub _env {
    my ($self, %extra) = @_;
    my %env = (
        PATH =>
            '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        HOME         => $self->{home},
        LANG         => 'C.UTF-8',
        SYMPA_CONFIG => $self->config,
        %extra,
    );
    $env{$_} //= $ENV{$_} for grep { defined $ENV{$_} } qw(JAVA_HOME);
    return map {"$_=$env{$_}"} sort keys %env;
}

# Command prefix running the rest as the sympa user with a clean
# environment.
sub _as_sympa {
    my ($self, %env) = @_;
    return ('setpriv', "--reuid=$self->{uid}", "--regid=$self->{gid}",
        '--init-groups', 'env', '-i', $self->_env(%env));
}

# Runs a Sympa command-line program as the sympa user; dies on failure.
sub run {
    my ($self, $cmd, %opt) = @_;
    my ($rc,   $out, $err) = try_cmd(
        [$self->_as_sympa(%{$self->{daemon_env}}), 'timeout', '120', @$cmd],
        %opt);
    croak sprintf "%s failed (%d):\n%s%s", join(' ', @$cmd), $rc, $out, $err
        if $rc;
    return $out . $err;
}

sub init_database {
    my $self = shift;
    $self->run(
        ["$SBIN/sympa.pl", '--health_check', '--config', $self->config]);
}

# Creates a list from the "e2e" creation template; %param fills the
# template (send, subscribe, subject ...).
sub create_list {
    my ($self, $name, %param) = @_;
    my $tpl = "$self->{dir}/etc/create_list_templates/e2e";
    unless (-e "$tpl/config.tt2") {
        make_path($tpl);
        write_file("$tpl/config.tt2", <<'EOF');
subject [% subject %]

status open

visibility noconceal

send [% send %]

subscribe [% subscribe %]

unsubscribe [% unsubscribe %]

review owner

footer_type mime

process_archive off

[% FOREACH o = owner -%]
owner
  email [% o.email %]
  profile privileged

[% END -%]
creation
  date_epoch [% creation.date_epoch %]
  date       [% creation.date %]
[% IF creation_email -%]
  email      [% creation_email %]
[% END -%]
EOF
        $self->_chown_tree("$self->{dir}/etc/create_list_templates");
    }
    my %xml = (
        listname    => $name,
        type        => 'e2e',
        subject     => "List $name",
        description => "sympa-smime end-to-end list $name",
        status      => 'open',
        topic       => 'other',
        send        => 'private',
        subscribe   => 'open',
        unsubscribe => 'open',
        %param,
    );
    my $xml = join '', qq{<?xml version="1.0" encoding="UTF-8"?>\n<list>\n},
        (map {"  <$_>$xml{$_}</$_>\n"} sort keys %xml),
        qq{  <owner multiple="1"><email>$self->{listmaster}</email></owner>\n},
        "</list>\n";
    my $file = write_file("$self->{dir}/etc/$name.xml", $xml, 0644);
    $self->run(
        [   "$SBIN/sympa.pl", '--config',
            $self->config,    '--create_list',
            '--robot',        $self->{domain},
            '--input_file',   $file
        ]
    );
    croak "list $name was not created"
        unless -f $self->list_dir($name) . '/config';
    return $self->list_dir($name);
}

# Installs a file in a list's directory, owned by sympa.
sub install_list_file {
    my ($self, $list, $name, $content, $mode) = @_;
    my $path = $self->list_dir($list) . "/$name";
    write_file($path, $content, $mode // 0640);
    chown $self->{uid}, $self->{gid}, $path;
    return $path;
}

sub add_subscribers {
    my ($self, $list, @emails) = @_;
    $self->run(
        [   "$SBIN/sympa", 'add',
            '--config',    $self->config,
            '--quiet',     "$list\@$self->{domain}"
        ],
        stdin => join('', map {"$_\n"} @emails)
    );
}

# The list's current subscribers, from "sympa dump".
sub subscribers {
    my ($self, $list) = @_;
    my $out = $self->run(
        [   "$SBIN/sympa", 'dump',
            '--config',    $self->config,
            "$list\@$self->{domain}"
        ]
    );
    my $file = $self->list_dir($list) . '/member.dump';
    my @emails;
    if (-f $file) {
        for (split /\n/, read_file($file)) {
            push @emails, lc $1 if /^email\s+(\S+)/;
        }
    }
    return @emails;
}

# Hands a message to Sympa with its own "queue" program, as an MTA alias
# would: queue LOCAL@DOMAIN < message.
sub inject {
    my ($self, $local, $bytes) = @_;
    my ($rc, $out, $err) =
        try_cmd([$self->_as_sympa, "$SBIN/queue", "$local\@$self->{domain}"],
        stdin => $bytes);
    croak "queue $local failed ($rc): $out$err" if $rc;
    return;
}

# Extra environment for the daemons (and commands): the shim's PERL5LIB and
# PERL5OPT in shim mode.
sub set_daemon_env {
    my ($self, %env) = @_;
    $self->{daemon_env} = {%env};
}

# Starts sympa_msg.pl and bulk.pl in the foreground, each in a session of
# its own, under "timeout", with their stderr (where --foreground copies the
# log) appended to the log file.
sub start_daemons {
    my $self = shift;
    croak 'daemons already running' if %{$self->{daemons}};
    for my $name (@DAEMONS) {
        unlink "$PIDDIR/$name.pid";
        my $pid = fork // croak "fork: $!";
        if (!$pid) {
            POSIX::setsid();
            open STDIN,  '<',  '/dev/null';
            open STDOUT, '>>', $self->log_file or POSIX::_exit(127);
            open STDERR, '>&', \*STDOUT;
            {
                exec $self->_as_sympa(%{$self->{daemon_env}}), 'timeout',
                    '--kill-after=5', $self->{time_limit},
                    "$SBIN/$name.pl", '--foreground', '--config',
                    $self->config;
            }
            POSIX::_exit(127);
        }
        $self->{daemons}{$name} = $pid;
    }
    # Ready when each daemon has written its PID file.
    wait_until(
        60,
        sub {
            !grep { !-s "$PIDDIR/$_.pid" || !$self->_alive($_) } @DAEMONS;
        }
    ) or croak "daemons did not start:\n" . $self->log_tail(40);
    return;
}

sub _alive {
    my ($self, $name) = @_;
    my $pid = $self->{daemons}{$name} or return 0;
    return kill(0, $pid) && waitpid($pid, POSIX::WNOHANG()) == 0;
}

sub daemons_alive {
    my $self = shift;
    return !grep { !$self->_alive($_) } @DAEMONS;
}

# Every process of the daemons' sessions: pid => [ppid, command name].
sub session_processes {
    my $self = shift;
    return processes_in_sessions(values %{$self->{daemons}});
}

# The Java sidecars: java processes whose parent is a Sympa daemon.
sub sidecar_pids {
    my $self  = shift;
    my $procs = $self->session_processes;
    my %perl  = map { $_ => 1 }
        grep { $procs->{$_}[1] =~ /perl|sympa|bulk/ } keys %$procs;
    return sort { $a <=> $b }
        grep    { $procs->{$_}[1] eq 'java' && $perl{$procs->{$_}[0]} }
        keys %$procs;
}

# True while $pid runs (zombies do not count).
sub pid_alive {
    my ($self, $pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $line = <$fh> // return 0;
    return $line !~ /^\d+ \(.*\) [ZX] /s;
}

# Stops the daemons: SIGTERM, then SIGKILL to whatever is left in their
# sessions (sidecars included).
sub stop_daemons {
    my $self    = shift;
    my %daemons = %{$self->{daemons}} or return;
    kill 'TERM', map { -$_ } values %daemons;
    # Our own children ("timeout") stay in the session as zombies until
    # reaped.
    wait_until(
        15,
        sub {
            waitpid $_, POSIX::WNOHANG() for values %daemons;
            !%{$self->session_processes};
        }
    );
    my $left = $self->session_processes;
    kill 'KILL', keys %$left if %$left;
    kill 'KILL', map { -$_ } values %daemons;
    waitpid $_, 0 for values %daemons;
    wait_until(5, sub { !%{$self->session_processes} });
    $self->{daemons} = {};
    unlink map {"$PIDDIR/$_.pid"} @DAEMONS;
    return;
}

sub cleanup {
    my $self = shift;
    $self->stop_daemons;
    $self->_collect_own_mail;
    return;
}

# Files still waiting in a spool: the incoming spool and the outgoing
# (bulk) spool, not counting their "bad" quarantines.
sub pending {
    my $self = shift;
    my @pending;
    for my $dir ($self->{incoming}, "$self->{dir}/spool/bulk/msg",
        "$self->{dir}/spool/bulk/pct") {
        opendir my $dh, $dir or next;
        push @pending, map {"$dir/$_"}
            grep { !/^\./ && -f "$dir/$_" } readdir $dh;
    }
    for my $dir (glob "$self->{dir}/spool/bulk/pct/*") {
        next unless -d $dir;
        opendir my $dh, $dir or next;
        push @pending, map {"$dir/$_"} grep { !/^\./ } readdir $dh;
    }
    return @pending;
}

# Waits until both spools are empty and no new mail has been captured for
# a second. Returns true when that happened before the deadline (or as soon
# as a daemon is found dead).
sub settle {
    my ($self,  $seconds) = @_;
    my ($count, $since)   = (-1, time);
    return wait_until(
        $seconds // 60,
        sub {
            return 1 unless $self->daemons_alive;
            my $n = () = glob $self->capture_dir . '/*.eml';
            if ($self->pending or $n != $count) {
                ($count, $since) = ($n, time);
                return 0;
            }
            return time - $since >= 1;
        }
    );
}

# Captured messages, oldest first, as SympaE2E::Captured objects.
sub captures {
    my $self = shift;
    my $dir  = $self->capture_dir;
    return map { $self->{seen}{$_} //= SympaE2E::Captured->load($_) }
        sort glob "$dir/*.eml";
}

# Log text written since the offset returned by log_mark.
sub log_mark { -s $_[0]->log_file || 0 }

sub log_since {
    my ($self, $mark) = @_;
    open my $fh, '<', $self->log_file or return '';
    seek $fh, $mark // 0, 0;
    local $/;
    return <$fh> // '';
}

sub log_tail {
    my ($self, $n) = @_;
    my @lines = split /\n/, $self->log_since(0);
    splice @lines, 0, @lines - $n if @lines > $n;
    return join '', map {"$_\n"} @lines;
}

# Files in the incoming spool's quarantine (and those already collected).
sub bad_spool {
    my $self = shift;
    return
        grep { -f $_ }
        glob "$self->{incoming}/bad/* $self->{dir}/incoming-bad/*";
}

package SympaE2E::Captured;

# One message captured by capture-sendmail: envelope and bytes.

use SympaE2E::Util qw(read_file);

sub load {
    my ($class, $eml) = @_;
    (my $env = $eml) =~ s/\.eml\z/.env/;
    my (%self, @rcpt);
    $self{file}  = $eml;
    $self{bytes} = read_file($eml);
    for (split /\n/, read_file($env)) {
        $self{from} = $1 if /^from (.*)$/;
        push @rcpt, lc $1 if /^rcpt (.*)$/;
    }
    $self{rcpt} = \@rcpt;
    my ($head) = split /\r?\n\r?\n/, $self{bytes}, 2;
    $head =~ s/\r?\n[ \t]+/ /g;
    for (split /\r?\n/, $head) {
        my ($k, $v) = /^([^:\s]+):\s*(.*)$/ or next;
        push @{$self{header}{lc $k}}, $v;
    }
    return bless \%self, $class;
}

sub file  { $_[0]{file} }
sub bytes { $_[0]{bytes} }
sub rcpt  { @{$_[0]{rcpt}} }
sub from  { $_[0]{from} }

sub header {
    my ($self, $name) = @_;
    my $v = $self->{header}{lc $name} or return undef;
    return wantarray ? @$v : $v->[0];
}

sub body {
    my $self = shift;
    return (split /\r?\n\r?\n/, $self->{bytes}, 2)[1] // '';
}

sub content_type {
    my $self = shift;
    my $ct   = lc($self->header('Content-Type') // 'text/plain');
    $ct =~ s/\s*;.*//s;
    return $ct;
}

sub is_to {
    my ($self, $email) = @_;
    return scalar grep { $_ eq lc $email } $self->rcpt;
}

1;
__END__

=head1 NAME

SympaE2E::Sympa - a throwaway Sympa instance run from the Debian package

=head1 DESCRIPTION

C<prepare> takes F</tmp/sympa-daemons.lock> (C<take_lock>; held until the
process exits, so that two runs never share the incoming spool) and lays
out the state directory; C<write_config>,
C<init_database>, C<create_list>, C<add_subscribers> set the instance up;
C<start_daemons> / C<stop_daemons> run sympa_msg.pl and bulk.pl in the
foreground as the sympa user; C<inject> hands mail to Sympa's C<queue>;
C<settle> waits for the spools to drain; C<captures> returns what Sympa
sent, as L<SympaE2E::Captured> objects; C<own_mail> lists its messages
still in the shared incoming spool.

=cut
