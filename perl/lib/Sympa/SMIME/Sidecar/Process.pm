# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# sympa-smime - S/MIME for Sympa on Bouncy Castle
#
# This program is free software; you can redistribute it and/or modify
# it under the terms of the GNU General Public License as published by
# the Free Software Foundation; either version 2 of the License, or
# (at your option) any later version.

package Sympa::SMIME::Sidecar::Process;

use strict;
use warnings;
use Errno qw();
use IO::Handle;
use IO::Select;
use IPC::Open3       qw();
use POSIX            qw();
use Symbol           qw();
use Text::ParseWords qw();
use Time::HiRes      qw();

use Sympa::SMIME::Config;

our $VERSION = '0.1.0';

# Seconds a sidecar gets to exit on its own once its stdin is closed, before
# it is killed.  A package variable so that tests can shorten it.
our $REAP_GRACE = 5;

use constant READ_CHUNK  => 1 << 16;
use constant WRITE_CHUNK => 1 << 16;
use constant STDERR_KEEP => 3;

# At most this many stderr lines of a sidecar wait for its first answer
# (_release_held).
use constant HELD_MAX => 20;

# Where the sidecar's own words go when it dies: long enough for the JVM to
# print why it could not start, short enough not to hold a mail up.
use constant DEATH_DRAIN => 1;

# JVM options given before the administrator's java_opts, always.  stdout is
# the protocol: whatever the JVM itself prints (its OutOfMemoryError line,
# unified logging's warnings) goes to stderr, and a sidecar out of memory
# exits at once, to be restarted, rather than limp on with threads dead.
use constant JVM_OPTIONS => qw(
    -XX:+ExitOnOutOfMemoryError
    -XX:+DisplayVMOutputToStderr
    -Xlog:disable
    -Xlog:all=warning:stderr
);

# Timeouts must not jump with the wall clock (NTP, daylight saving).
my $monotonic =
    eval { Time::HiRes::clock_gettime(Time::HiRes::CLOCK_MONOTONIC()); 1 };

sub now {
    return $monotonic
        ? Time::HiRes::clock_gettime(Time::HiRes::CLOCK_MONOTONIC())
        : Time::HiRes::time();
}

sub _log {
    return Sympa::SMIME::Config::log_message(@_);
}

# The command line of a sidecar for the settings $conf: (\@command), or
# (undef, why) when it cannot be built.
sub command {
    my ($class, $conf) = @_;

    my $java = find_java($conf->{java});
    unless (defined $java) {
        return (
            undef,
            sprintf(
                'java not found: "%s" (%s; set SYMPA_SMIME_JAVA or java in %s)',
                $conf->{java},
                (   $conf->{java} =~ m{/}
                    ? 'no such executable'
                    : "not in PATH $ENV{PATH}"
                ),
                $conf->{config_file}
            )
        );
    }
    unless (-f $conf->{jar} and -r _) {
        return (
            undef,
            sprintf(
                'jar not found: %s (set SYMPA_SMIME_JAR or jar in %s)',
                $conf->{jar}, $conf->{config_file}
            )
        );
    }
    my @options = Text::ParseWords::shellwords($conf->{java_opts});
    if (not @options and $conf->{java_opts} =~ /\S/) {
        # shellwords() gives nothing at all on an unbalanced quote.
        return (
            undef,
            sprintf(
                'java_opts cannot be parsed (%s): %s',
                $conf->{sources}{java_opts},
                $conf->{java_opts}
            )
        );
    }
    return [
        $java,
        owner_option(),
        JVM_OPTIONS,
        _archive_options($conf->{jar}),
        (   $conf->{idle_timeout}
            ? "-Dsympa.smime.idleExitSeconds=$conf->{idle_timeout}"
            : ()
        ),
        @options, '-jar',
        $conf->{jar}
    ];
}

# Starts a sidecar with the settings $conf.  Returns it, or (undef, why).
sub start {
    my ($class, $conf) = @_;

    my ($command, $why) = $class->command($conf);
    return (undef, $why) unless $command;

    my ($in, $out, $err) = (undef, undef, Symbol::gensym());
    my $pid = eval { IPC::Open3::open3($in, $out, $err, @$command) };
    unless ($pid) {
        $why = $@ || 'unknown error';
        $why =~ s/ at \S+ line \d+\.?\n?\z//;
        return (undef, "cannot start $command->[0] -jar $conf->{jar}: $why");
    }
    # Never block on a pipe: a full pipe must not stop us from reading the
    # other one, nor from noticing the timeout.
    $_->blocking(0) foreach $in, $out, $err;

    return bless {
        pid         => $pid,
        owner       => $$,
        in          => $in,
        out         => $out,
        err         => $err,
        out_buf     => '',
        out_scan    => 0,
        err_buf     => '',
        out_eof     => 0,
        err_eof     => 0,
        stderr_tail => [],
        conf        => $conf,
    }, $class;
}

sub pid  { return $_[0]->{pid} }
sub conf { return $_[0]->{conf} }

# Whether this process started it: a forked child inherits it, and must not
# use, signal nor reap it.
sub owned { return $_[0]->{owner} == $$ }

# A child's copies of the pipes are closed, without a word to the sidecar.
sub forget {
    my $self = shift;
    foreach my $fh (@{$self}{qw(in out err)}) {
        close $fh if $fh;
    }
    return;
}

# Whether it can no longer answer: it exited (reaped here, or by someone
# else, e.g. a SIGCHLD handler reaping every child), or it closed its
# stdout, which makes it of no use even if it runs.
sub ended {
    my $self = shift;
    local $?;
    my $waited = waitpid $self->{pid}, POSIX::WNOHANG();
    return 1 if $self->{out_eof} and $waited == 0;
    return 0 if $waited == 0;
    $self->{reaped} = 1;
    $self->{status} = $? if $waited > 0;
    return 1;
}

# A sidecar that ended because it had no request for idle_timeout seconds:
# it says so on stderr and exits with status 0.
sub idle_exit {
    my $self = shift;
    return (    $self->{idle_exit}
            and defined $self->{status}
            and $self->{status} == 0);
}

# The class-data-sharing archive made for this jar (by the build, or by
# sympa-smime-enable next to the installed jar): the JVM maps the classes
# it holds instead of loading and verifying them, which halves the time to
# the first answer.  -Xshare:auto: an archive the JVM cannot use (made for
# another jar or JDK, damaged) is skipped, with a warning on stderr at most,
# and the sidecar starts as without it.
sub archive_of {
    my $jar = pop;
    (my $archive = $jar) =~ s/\.jar\z//;
    return "$archive.jsa";
}

sub _archive_options {
    my $jar     = shift;
    my $archive = archive_of($jar);
    return () unless -f $archive and -r _;
    return ("-XX:SharedArchiveFile=$archive", '-Xshare:auto');
}

# -Dsympa.smime.owner=PROGRAM/PID: which process a sidecar belongs to, for
# ps.  The JVM ignores it.  Made at each start, so that the sidecar a forked
# child starts for itself names the child.
sub owner_option {
    my $program = $0;
    $program =~ s{\A.*/}{};
    $program =~ s{[^\w.+-]}{_}g;
    $program = 'perl' unless length $program;
    return "-Dsympa.smime.owner=$program/$$";
}

# The java to run: $java if it has a slash in it, else the first in PATH;
# undef when it is not an executable file.
sub find_java {
    my $java = shift;
    return undef unless defined $java and length $java;
    if ($java =~ m{/}) {
        return (-f $java and -x _) ? $java : undef;
    }
    foreach my $dir (split /:/, (defined $ENV{PATH} ? $ENV{PATH} : '')) {
        my $path = (length $dir ? $dir : '.') . '/' . $java;
        return $path if -f $path and -x _;
    }
    return undef;
}

# One round of I/O for $batch (Sympa::SMIME::Sidecar::Protocol::Batch):
# writes its lines and gives it the lines read until it is done.  Returns
# 'ok', 'timeout' (no line for $limit seconds), or ('dead' | 'garbage',
# why).
sub exchange {
    my ($self, $batch, $limit) = @_;

    local $SIG{PIPE} = 'IGNORE';
    my $io =
        Sympa::SMIME::Sidecar::Process::Exchange->new($self, $batch, $limit);
    my @failure = $io->run;
    return @failure if @failure;
    $batch->finish;

    # The sidecar logs a failure before answering it; pick up what is already
    # there so that the log line comes with its call, not with the next one.
    $self->drain_stderr(0);
    return 'ok';
}

sub _relay_stderr {
    my ($self, $eof) = @_;
    while ((my $nl = index $self->{err_buf}, "\n") >= 0) {
        my $line = substr $self->{err_buf}, 0, $nl + 1, '';
        $self->_relay_line($line);
    }
    if ($eof and length $self->{err_buf}) {
        $self->_relay_line($self->{err_buf});
        $self->{err_buf} = '';
    }
    return;
}

# What a sidecar says before its first answer waits for it: a JVM that does
# not start (a corrupt jar, a heap it cannot reserve) says why on stderr,
# and the error that it cannot run quotes those lines already, for the
# caller to log once (the shim: once per process).  So when the sidecar ends
# without having answered ($ended), its lines are logged at info at most;
# once it answers, they are logged as they come.
sub _release_held {
    my ($self, $ended) = @_;
    foreach my $held (@{delete $self->{held} || []}) {
        my ($level, $line) = @$held;
        $level = 'info' if $ended and $level eq 'err';
        _log($level, 'sidecar: %s', $line);
    }
    return;
}

# It answered: what it said before is no longer held.
sub answered {
    my $self = shift;
    $self->_release_held(0) unless $self->{answered}++;
    return;
}

sub _relay_line {
    my ($self, $line) = @_;
    $line =~ s/[\r\n]+\z//;
    return unless $line =~ /\S/;
    my $tail = $self->{stderr_tail};
    push @$tail, $line;
    shift @$tail while @$tail > STDERR_KEEP;
    # A per-request failure is also returned to the caller, who logs it
    # with the message it concerns (the shim does, with its reason code), so
    # it is only kept at debug level here: one failure, one log line.
    # So is the JVM's last word on running out of memory: the line saying
    # that the sidecar failed quotes it.
    $self->{idle_exit} = 1 if $line =~ /\Asympa-smime: info idle exit: /;
    my $level =
        $line =~ /\Asympa-smime: error method=\S+ id=(?!-)\S+ reason=/
        ? 'debug'
        : $line =~ /\Asympa-smime: info idle exit: / ? 'debug'
        : $line =~ /\ATerminating due to java\.lang\.OutOfMemoryError/
        ? 'debug'
        : $line =~ /error/i ? 'err'
        :                     'info';
    if ($self->{answered} or $self->{unheld}) {
        _log($level, 'sidecar: %s', $line);
    } else {
        push @{$self->{held}}, [$level, $line];

        # Not a JVM that cannot start: a sidecar that talks at length.
        if (@{$self->{held}} >= HELD_MAX) {
            $self->_release_held(0);
            $self->{unheld} = 1;
        }
    }
    return;
}

# Reads what the sidecar has to say on stderr for up to $wait seconds (0:
# only what is there now), stopping at EOF.  stdout is read too, and its
# content dropped, so that a sidecar flushing answers nobody waits for
# cannot block on a full pipe while we wait for it to exit.
sub drain_stderr {
    my ($self, $wait) = @_;

    my $read = IO::Select->new;
    $read->add($self->{err}) unless $self->{err_eof};
    $read->add($self->{out}) if $wait and not $self->{out_eof};
    my $deadline = now() + $wait;
    while ($read->count) {
        my $left = $deadline - now();
        $left = 0 if $left < 0;
        local $! = 0;
        my @ready = $read->can_read($left);
        # A signal (the SIGCHLD of this very sidecar, a timer of the host)
        # interrupts select(): wait again for the time left, or its last
        # words are lost.
        next if not @ready and $!{EINTR} and $left > 0;
        last unless @ready;
        foreach my $fh (@ready) {
            my $is_out = ($fh == $self->{out});
            my $chunk  = '';
            my $n      = sysread $fh, $chunk, READ_CHUNK;
            next if not defined $n and ($!{EAGAIN} or $!{EINTR});
            if (not $n) {
                $read->remove($fh);
                $self->{$is_out ? 'out_eof' : 'err_eof'} = 1;
                $self->_relay_stderr(1) unless $is_out;
                next;
            }
            next if $is_out;
            $self->{err_buf} .= $chunk;
            $self->_relay_stderr(0);
        }
        last if $left <= 0;
    }
    return;
}

# Ends the sidecar, which this process started.  Without kill, it gets its
# stdin closed and $REAP_GRACE seconds to exit by itself.  Returns how it
# ended, for the log.
sub stop {
    my ($self, %options) = @_;
    local ($?, $!);

    # Killed before its stdin is closed, so that it cannot take the EOF for
    # a normal end and pass for healthy in the log.
    if ($options{kill} and not $self->{reaped}) {
        kill 'KILL', $self->{pid};
    }
    close $self->{in};
    my $deadline = now() + ($options{kill} ? 0 : $REAP_GRACE);
    # Its last words (why the JVM could not start, a stack trace) are what
    # the administrator needs.
    $self->drain_stderr($options{kill} ? DEATH_DRAIN : $REAP_GRACE);
    until ($self->{reaped}) {
        my $waited = waitpid $self->{pid}, POSIX::WNOHANG();
        if ($waited != 0) {
            $self->{status} = $? if $waited > 0;
            $self->{reaped} = 1;
            last;
        }
        last if now() >= $deadline;
        Time::HiRes::sleep(0.05);
    }
    unless ($self->{reaped}) {
        kill 'KILL', $self->{pid};
        $self->{status} = $? if waitpid($self->{pid}, 0) > 0;
        $self->{reaped} = 1;
    }
    close $self->{out};
    close $self->{err};
    $self->_relay_stderr(1);
    $self->_release_held(1);

    my $tail = $self->{stderr_tail};
    my $how =
        !defined $self->{status} ? 'exit status unknown'
        : ($self->{status} & 127)
        ? sprintf('killed by signal %d',   $self->{status} & 127)
        : sprintf('exited with status %d', $self->{status} >> 8);
    $how .= '; last stderr: ' . join ' / ', @$tail if @$tail;
    $how =
        "it ran out of memory (give it a larger heap: -Xmx in java_opts); $how"
        if grep {/OutOfMemoryError/} @$tail;
    return $how;
}

package Sympa::SMIME::Sidecar::Process::Exchange;

use strict;
use warnings;

# The state of one round of I/O: the lines still to write, the pipes still
# open, and the time by which the next answer must come.
sub new {
    my ($class, $proc, $batch, $limit) = @_;

    my $read = IO::Select->new;
    $read->add($proc->{out}) unless $proc->{out_eof};
    $read->add($proc->{err}) unless $proc->{err_eof};
    return bless {
        proc     => $proc,
        batch    => $batch,
        out      => [map { [$_, 0] } $batch->lines],    # [\line, written]
        read     => $read,
        write    => IO::Select->new($proc->{in}),
        limit    => $limit,
        deadline => Sympa::SMIME::Sidecar::Process::now() + $limit,
    }, $class;
}

# Writes and reads until the batch is done.  Returns () then, else the
# failure: 'timeout' or ('dead' | 'garbage', why).
sub run {
    my $self  = shift;
    my $proc  = $self->{proc};
    my $batch = $self->{batch};
    while (not $batch->done or @{$self->{out}}) {
        my ($readable, $writable, @failure) = $self->_wait;
        return @failure if @failure;
        if ($writable) {
            @failure = $self->_write_pending;
            return @failure if @failure;
        }
        foreach my $fh (@$readable) {
            @failure = $self->_read_ready($fh);
            return @failure if @failure;
        }
        # Answers already read are kept even when the sidecar died right
        # after writing them; only the others are sent again.
        return ('dead', 'it closed its stdout')
            if $proc->{out_eof} and not $batch->done;
    }
    return;
}

# Waits for a pipe to be ready, until the deadline.  Returns the readable
# handles and whether stdin is writable (nothing when a signal cut the wait
# short), else (undef, undef, failure).
sub _wait {
    my $self = shift;

    my $left = $self->{deadline} - Sympa::SMIME::Sidecar::Process::now();
    return (undef, undef, 'timeout') if $left <= 0;
    local $! = 0;
    my ($readable, $writable) =
        IO::Select->select($self->{read},
        (@{$self->{out}} ? $self->{write} : undef),
        undef, $left);
    unless ($readable or $writable) {
        return ([], 0) if $! == 0 or $!{EINTR};
        return (undef, undef, 'dead', "select: $!");
    }
    return ($readable || [], ($writable && @$writable ? 1 : 0));
}

# Writes what stdin takes now of the lines still to write.
sub _write_pending {
    my $self = shift;
    my $out  = $self->{out};
    my $in   = $self->{proc}{in};
    while (@$out) {
        my ($line, $offset) = @{$out->[0]};
        my $n = syswrite $in, $$line,
            Sympa::SMIME::Sidecar::Process::WRITE_CHUNK,
            $offset;
        unless (defined $n) {
            return if $!{EAGAIN} or $!{EWOULDBLOCK} or $!{EINTR};
            return ('dead', "cannot write to its stdin: $!");
        }
        $out->[0][1] += $n;
        shift @$out if $out->[0][1] >= length $$line;
    }
    return;
}

# Reads what the pipe $fh has: stderr goes to the log, stdout to the batch.
sub _read_ready {
    my ($self, $fh) = @_;
    my $proc   = $self->{proc};
    my $is_out = ($fh == $proc->{out});
    my $buf    = $is_out ? \$proc->{out_buf} : \$proc->{err_buf};
    my $n = sysread $fh, $$buf, Sympa::SMIME::Sidecar::Process::READ_CHUNK,
        length $$buf;
    unless (defined $n) {
        return if $!{EAGAIN} or $!{EWOULDBLOCK} or $!{EINTR};
        return ('dead', "cannot read from it: $!") if $is_out;
        $n = 0;
    }
    if ($n == 0) {
        $self->{read}->remove($fh);
        if ($is_out) {
            $proc->{out_eof} = 1;
        } else {
            $proc->{err_eof} = 1;
            $proc->_relay_stderr(1);
        }
        return;
    }
    unless ($is_out) {
        $proc->_relay_stderr(0);
        return;
    }
    return $self->_take_lines;
}

# Gives the complete lines read on stdout to the batch.  The part of a line
# already scanned for its end is not scanned again.
sub _take_lines {
    my $self = shift;
    my $proc = $self->{proc};
    while ((my $nl = index $proc->{out_buf}, "\n", $proc->{out_scan}) >= 0) {
        my $line = substr $proc->{out_buf}, 0, $nl + 1, '';
        $proc->{out_scan} = 0;
        next unless $line =~ /\S/;
        my ($taken, $why) = $self->{batch}->take($line);
        return ('garbage', $why) if $taken eq 'garbage';
        $proc->answered;
        return ('garbage', $why) if $taken eq 'stray';
        # A batch is as slow as its length; the timeout is about a sidecar
        # that stopped answering.
        $self->{deadline} =
            Sympa::SMIME::Sidecar::Process::now() + $self->{limit}
            if $taken eq 'answer';
    }
    $proc->{out_scan} = length $proc->{out_buf};
    return;
}

1;
__END__

=encoding utf-8

=head1 NAME

Sympa::SMIME::Sidecar::Process - One sidecar process: start, I/O, end

=head1 SYNOPSIS

  use Sympa::SMIME::Sidecar::Process;

  my ($proc, $why) = Sympa::SMIME::Sidecar::Process->start($conf);
  die $why unless $proc;
  my ($status, $detail) = $proc->exchange($batch, $conf->{timeout});
  my $how = $proc->stop(kill => ($status ne 'ok'));

=head1 DESCRIPTION

The process part of L<Sympa::SMIME::Sidecar>: one JVM running the sidecar,
from C<open3> to C<waitpid>.  It moves lines and knows nothing of JSON: the
batch it is given (L<Sympa::SMIME::Sidecar::Protocol/Sympa::SMIME::Sidecar::Protocol::Batch>)
makes the lines and reads the answers.  When to start one, retry or give up
is the client's business.

Its pipes never block: requests are written while answers are read (the
sidecar stops reading while its memory budget is spent), and stderr is read
all along, so that a chatty sidecar cannot fill its pipe.

Stderr lines go to Sympa's log (L<Sympa::SMIME::Config/log_message>):
per-request failure lines (the caller logs the failure itself), the idle
exit line and the JVM's out-of-memory line at C<debug>, lines with "error"
at C<err>, the others at C<info>.  Until the first answer they are held:
a JVM that cannot start says why there, and the error that it cannot run
quotes those lines, so when it ends without an answer they are logged at
C<info> at most.  The last three are kept for L</stop>'s account.

=head1 METHODS

=over

=item command ( $conf )

Class method.  The command line for the settings C<$conf> (as
L<Sympa::SMIME::Sidecar/config> gives them): C<(\@command)>, or
C<(undef, $why)> when java or the jar is missing or C<java_opts> cannot be
split.  See L<Sympa::SMIME::Sidecar/DESCRIPTION> for what it holds.

=item start ( $conf )

Class method.  Starts a sidecar: the object, or C<(undef, $why)>.

=item pid ( ), conf ( )

Its pid, and the settings it was started with.

=item owned ( )

True in the process that started it, false in a forked child, which must not
use, signal nor reap it.

=item forget ( )

Closes this process's copies of its pipes, and nothing else: for a child.

=item exchange ( $batch, $limit )

Writes the lines of C<$batch>, and gives it the lines read on stdout until it
is done; then reads what stderr already holds.  Returns C<'ok'>,
C<'timeout'> when no answer came for C<$limit> seconds, or C<('dead', $why)>
(it closed its stdout, a pipe failed) or C<('garbage', $why)> (the batch
refused a line).  The loop runs over a
C<Sympa::SMIME::Sidecar::Process::Exchange> state, in steps: wait for a
pipe, write what is pending, read what is ready, take complete lines.

=item ended ( )

True when it exited (it is then reaped, even when someone else took its
status) or closed its stdout.

=item idle_exit ( )

True when it exited for want of requests (C<idle_timeout>): status 0 after
its C<idle exit> line.

=item stop ( [ kill =E<gt> 1 ] )

Ends it: closes its stdin and gives it C<$REAP_GRACE> seconds (5) to exit,
reading its last words meanwhile, then kills it; with C<kill>, kills it at
once.  Reaps it.  Returns how it ended, for the log: C<exited with status
N> or C<killed by signal N>, its last stderr lines, and a hint about C<-Xmx>
when it ran out of memory.

=back

=head1 FUNCTIONS

=over

=item now ( )

Seconds on the monotonic clock, which timeouts use.

=item archive_of ( $jar ), owner_option ( ), find_java ( $java )

See L<Sympa::SMIME::Sidecar/METHODS>.

=back

=head1 SEE ALSO

L<Sympa::SMIME::Sidecar>, L<Sympa::SMIME::Sidecar::Protocol>.

=cut
