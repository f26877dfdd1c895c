# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# sympa-smime - S/MIME for Sympa on Bouncy Castle
#
# This program is free software; you can redistribute it and/or modify
# it under the terms of the GNU General Public License as published by
# the Free Software Foundation; either version 2 of the License, or
# (at your option) any later version.

package Sympa::SMIME::Sidecar;

use strict;
use warnings;
use Carp  qw();
use Errno qw();
use IO::Handle;
use IO::Select;
use IPC::Open3       qw();
use MIME::Base64     qw();
use POSIX            qw();
use Scalar::Util     qw();
use Symbol           qw();
use Text::ParseWords qw();
use Time::HiRes      qw();

use Sympa::SMIME::Config;

our $VERSION = '0.1.0';

# Seconds a sidecar gets to exit on its own once its stdin is closed, before
# it is killed.  A package variable so that tests can shorten it.
our $REAP_GRACE = 5;

# Seconds during which a sidecar found unable to run (its JVM dies before
# answering anything) is not started again: each try costs a JVM start and
# log lines, for every message.  A package variable so that tests can
# shorten it.
our $RETRY_AFTER = 60;

use constant READ_CHUNK  => 1 << 16;
use constant WRITE_CHUNK => 1 << 16;
use constant STDERR_KEEP => 3;

# At most this many stderr lines of a sidecar wait for its first answer
# (_release_held).
use constant HELD_MAX => 20;

# Base64 members at least this long travel outside the JSON encoder and
# decoder (_request_line, _decode_line).
use constant RAW_MIN => 1024;

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

my $JSON_CLASS;

BEGIN {
    my @order  = qw(Cpanel::JSON::XS JSON::XS JSON::PP);
    my $forced = $ENV{SYMPA_SMIME_JSON};
    if (defined $forced and length $forced) {
        if (grep { $_ eq $forced } @order) {
            @order = ($forced, grep { $_ ne $forced } @order);
        } else {
            warn sprintf
                "sympa-smime: SYMPA_SMIME_JSON=%s is not one of %s; ignored\n",
                $forced, join(', ', @order);
        }
    }
    foreach my $class (@order) {
        (my $file = "$class.pm") =~ s{::}{/}g;
        # Sympa's die handler (Sympa::Crash) cannot tell this eval from a
        # crash while the module compiles ($^S is undef) and would exit.
        if (eval { local $SIG{__DIE__}; require $file; 1 }) {
            $JSON_CLASS = $class;
            last;
        }
        warn "sympa-smime: SYMPA_SMIME_JSON=$class cannot be loaded\n"
            if defined $forced and $class eq $forced;
    }
}

my $json = $JSON_CLASS->new->utf8->canonical;

my %OVERRIDABLE = map { $_ => 1 } Sympa::SMIME::Config->keys_in_order;

# One per process; a forked child inherits it and notices by itself.
my $instance;

# Every object that may own a sidecar, weakly, so that END can stop them
# before global destruction makes the order of DESTROY calls random.
my %live;

sub json_class { return $JSON_CLASS }

sub instance {
    my $class = shift;
    return $instance ||= $class->new;
}

sub new {
    my ($class, %overrides) = @_;

    foreach my $key (keys %overrides) {
        Carp::croak("unknown setting '$key'") unless $OVERRIDABLE{$key};
    }
    if (defined $overrides{timeout}) {
        Carp::croak('timeout must be a positive number of seconds')
            unless _is_positive($overrides{timeout});
    }
    if (defined $overrides{idle_timeout}) {
        Carp::croak('idle_timeout must be a whole number of seconds')
            unless $overrides{idle_timeout} =~ /\A\d+\z/;
    }
    my $self = bless {
        overrides => {%overrides},
        next_id   => 0,
        proc      => undef,
        busy      => 0,
    }, $class;
    $live{Scalar::Util::refaddr($self)} = $self;
    Scalar::Util::weaken($live{Scalar::Util::refaddr($self)});
    return $self;
}

sub config {
    my $self = shift;

    my $conf = Sympa::SMIME::Config->load;
    if (ref $self) {
        foreach my $key (keys %{$self->{overrides}}) {
            $conf->{$key} = $self->{overrides}{$key};
            $conf->{sources}{$key} = 'override';
        }
    }
    return $conf;
}

sub pid {
    my $self = shift;
    my $proc = $self->{proc};
    return undef unless $proc and $proc->{owner} == $$;
    return $proc->{pid};
}

sub call {
    my ($self, $method, $params, $options) = @_;

    _check_request($method, $params);
    my ($answer) = $self->_run([[$method, $params]], $options);
    die $answer->{error} if $answer->{error};
    return $answer->{result};
}

sub call_many {
    my ($self, $requests, $options) = @_;

    Carp::croak('call_many needs an arrayref of [method, params]')
        unless ref $requests eq 'ARRAY';
    foreach my $request (@$requests) {
        Carp::croak('each request must be [method, params]')
            unless ref $request eq 'ARRAY';
        _check_request(@$request);
    }
    my @answers = @$requests ? $self->_run($requests, $options) : ();
    return wantarray ? @answers : \@answers;
}

sub _check_request {
    my ($method, $params) = @_;
    Carp::croak('method name required')
        unless defined $method
        and length $method
        and not ref $method;
    Carp::croak('params must be a hashref')
        if defined $params and ref $params ne 'HASH';
    return;
}

# Sends the requests, restarting a dead sidecar and resending what was not
# answered once, and returns one {result} or {error} per request, in order.
sub _run {
    my ($self, $requests, $options) = @_;

    my $timeout =
        ($options and defined $options->{timeout})
        ? $options->{timeout}
        : undef;
    Carp::croak('timeout must be a positive number of seconds')
        if defined $timeout and not _is_positive($timeout);

    $self->_forget_inherited;
    if ($self->{busy}) {
        # A die from a signal handler left a request half written or an
        # answer half read: the stream cannot be trusted any more.
        _log('info', 'sidecar: previous call was interrupted; restarting');
        $self->_stop(kill => 1);
    }

    my @answers = (undef) x @$requests;
    my $failure;
    my $first_death;
    my $idle_retried = 0;
    for (my $attempt = 1 ; $attempt <= 2 ; $attempt++) {
        my @todo = grep { not defined $answers[$_] } 0 .. $#$requests;
        last unless @todo;

        my $down = $self->{down};
        if ($down and _now() < $down->{until} and not $self->{proc}) {
            _log(
                'debug',
                'sidecar: not started again yet: %s',
                $down->{error}->message
            );
            $failure = $down->{error};
            last;
        }
        if (my $error = $self->_ensure_started) {
            $failure = $error;
            last;
        }
        my $proc  = $self->{proc};
        my $limit = defined $timeout ? $timeout : $proc->{conf}{timeout};

        # The restart after a death first asks the new sidecar a question of
        # its own: no answer means it does not run at all (a JVM that does
        # not start, a jar that is no sidecar), which says nothing of these
        # requests; an answer means they are what killed the first one, and
        # they are sent once more.
        if ($attempt == 2) {
            if (my $error = $self->_probe($limit)) {
                $failure = $error;
                last;
            }
            _log('err', 'sidecar: %s; restarting it', $first_death)
                if defined $first_death;
        }
        delete $self->{down};

        $self->{busy} = 1;
        my ($status, $detail) =
            $self->_exchange($requests, \@todo, \@answers, $limit);
        $self->{busy} = 0;
        last if $status eq 'ok';

        if ($status eq 'timeout') {
            my $pid = $proc->{pid};
            $self->_stop(kill => 1);
            $failure = Sympa::SMIME::Sidecar::Error->new(
                reason  => 'timeout',
                message => sprintf(
                    'no answer from the sidecar (pid %d) within %s s; it was killed',
                    $pid, $limit
                ),
            );
            # Returned to the caller, who logs it with the message it
            # concerns: one failure, one log line.
            _log('debug', 'sidecar: %s', $failure->message);
            last;
        }

        # The sidecar died or spoke garbage.
        my $pid = $proc->{pid};
        my $end = $self->_stop(kill => ($status eq 'garbage'));

        # It ended for want of requests just as these were sent: it read
        # none of them (it stops reading once it has decided), so they go
        # to a new sidecar, once, without counting as a failure.
        if (_idle_exit($proc) and not $idle_retried++) {
            _log(
                'debug',
                'sidecar: pid %d exited idle as a request was sent; sending it to a new one',
                $pid
            );
            $attempt--;
            next;
        }
        my $what = sprintf 'sidecar (pid %d) failed: %s; %s',
            $pid, $detail, $end;
        if ($attempt == 1) {
            # Said at err once the new sidecar answers (_probe): if it does
            # not, the sidecar cannot run at all, and that is the one line.
            $first_death = $what;
            _log('debug', 'sidecar: %s; restarting it', $what);
            next;
        }
        $failure = Sympa::SMIME::Sidecar::Error->new(
            reason  => 'sidecar_unavailable',
            message => "$what (after one restart)",
        );
        _log('debug', 'sidecar: %s', $failure->message);
    }

    foreach my $answer (@answers) {
        $answer ||= {
            error => $failure || Sympa::SMIME::Sidecar::Error->new(
                reason  => 'sidecar_unavailable',
                message => 'no answer from the sidecar',
            )
        };
    }
    return @answers;
}

# Sends service.version to the sidecar just started.  Returns undef when it
# answers, else an Error (cannot_run) after stopping it; no sidecar is then
# started for $RETRY_AFTER seconds.
sub _probe {
    my ($self, $limit) = @_;

    my $proc   = $self->{proc};
    my @answer = (undef);
    $self->{busy} = 1;
    my ($status, $detail) =
        $self->_exchange([['service.version', {}]], [0], \@answer, $limit);
    $self->{busy} = 0;
    return undef if $status eq 'ok';

    my $end = $self->_stop(kill => ($status ne 'dead'));
    $detail = "no answer within $limit s" if $status eq 'timeout';
    my $error = Sympa::SMIME::Sidecar::Error->new(
        reason     => 'sidecar_unavailable',
        cannot_run => 1,
        message    => sprintf(
            'sidecar (pid %d) does not run: %s; %s (after one restart)',
            $proc->{pid}, $detail, $end
        ),
    );
    _log('debug', 'sidecar: %s', $error->message);
    $self->{down} = {until => _now() + $RETRY_AFTER, error => $error};
    return $error;
}

# A child process must not use, signal or reap the sidecar of its parent:
# it only drops its copies of the pipes and starts its own when needed.
sub _forget_inherited {
    my $self = shift;
    my $proc = $self->{proc};
    return unless $proc and $proc->{owner} != $$;
    foreach my $fh (@{$proc}{qw(in out err)}) {
        close $fh if $fh;
    }
    $self->{proc} = undef;
    $self->{busy} = 0;
    return;
}

# Returns undef when a sidecar is ready, an Error otherwise.
sub _ensure_started {
    my $self = shift;

    my $proc = $self->{proc};
    if ($proc) {
        local $?;
        my $waited = waitpid $proc->{pid}, POSIX::WNOHANG();
        # 0: still running.  Anything else: it exited (-1: someone else,
        # e.g. a SIGCHLD handler reaping every child, got its status).
        # A sidecar that closed its stdout is of no use even if it runs.
        return undef if $waited == 0 and not $proc->{out_eof};
        if ($waited != 0) {
            $proc->{reaped} = 1;
            $proc->{status} = $? if $waited > 0;
        }
        my $end = $self->_stop;
        if (_idle_exit($proc)) {
            _log(
                'debug',
                'sidecar: pid %d exited after idle_timeout; starting a new one',
                $proc->{pid}
            );
        } else {
            _log('err', 'sidecar: pid %d was gone (%s); starting a new one',
                $proc->{pid}, $end);
        }
    }
    return $self->_start;
}

sub _start {
    my $self = shift;

    my $conf = $self->config;
    if (defined $conf->{error}) {
        return Sympa::SMIME::Sidecar::Error->new(
            reason     => 'sidecar_unavailable',
            cannot_run => 1,
            message    => $conf->{error},
        );
    }
    my $java = find_java($conf->{java});
    unless (defined $java) {
        return Sympa::SMIME::Sidecar::Error->new(
            reason     => 'sidecar_unavailable',
            cannot_run => 1,
            message    => sprintf(
                'java not found: "%s" (%s; set SYMPA_SMIME_JAVA or java in %s)',
                $conf->{java},
                (   $conf->{java} =~ m{/}
                    ? 'no such executable'
                    : "not in PATH $ENV{PATH}"
                ),
                $conf->{config_file}
            ),
        );
    }
    unless (-f $conf->{jar} and -r _) {
        return Sympa::SMIME::Sidecar::Error->new(
            reason     => 'sidecar_unavailable',
            cannot_run => 1,
            message    => sprintf(
                'jar not found: %s (set SYMPA_SMIME_JAR or jar in %s)',
                $conf->{jar}, $conf->{config_file}
            ),
        );
    }
    my @options = Text::ParseWords::shellwords($conf->{java_opts});
    if (not @options and $conf->{java_opts} =~ /\S/) {
        # shellwords() gives nothing at all on an unbalanced quote.
        return Sympa::SMIME::Sidecar::Error->new(
            reason     => 'sidecar_unavailable',
            cannot_run => 1,
            message    => sprintf(
                'java_opts cannot be parsed (%s): %s',
                $conf->{sources}{java_opts},
                $conf->{java_opts}
            ),
        );
    }
    my @command = (
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
    );

    my ($in, $out, $err) = (undef, undef, Symbol::gensym());
    my $pid = eval { IPC::Open3::open3($in, $out, $err, @command) };
    unless ($pid) {
        my $why = $@ || 'unknown error';
        $why =~ s/ at \S+ line \d+\.?\n?\z//;
        return Sympa::SMIME::Sidecar::Error->new(
            reason     => 'sidecar_unavailable',
            cannot_run => 1,
            message    => "cannot start $java -jar $conf->{jar}: $why",
        );
    }
    # Never block on a pipe: a full pipe must not stop us from reading the
    # other one, nor from noticing the timeout.
    $_->blocking(0) foreach $in, $out, $err;

    $self->{proc} = {
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
    };
    return undef;
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

# A sidecar that ended because it had no request for idle_timeout seconds:
# it says so on stderr and exits with status 0.
sub _idle_exit {
    my $proc = shift;
    return (    $proc->{idle_exit}
            and defined $proc->{status}
            and $proc->{status} == 0);
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

# One round of I/O: writes the requests of @$todo, reads until each has an
# answer.  Returns 'ok', 'timeout', or ('dead' | 'garbage', why).
sub _exchange {
    my ($self, $requests, $todo, $answers, $limit) = @_;

    my $proc = $self->{proc};
    my %pending;    # id => index in @$requests
    my @sent;       # ids in the order they were written
    my @out;        # [\line, bytes written]
    foreach my $i (@$todo) {
        my ($method, $params) = @{$requests->[$i]};
        my $id   = ++$self->{next_id};
        my $line = eval { _request_line($id, $method, $params) };
        unless (defined $line) {
            # JSON modules' messages name the offending type, not the data.
            (my $why = $@) =~ s/ at \S+ line \d+\.?\n?\z//;
            $answers->[$i] = {
                error => Sympa::SMIME::Sidecar::Error->new(
                    reason  => 'malformed_input',
                    message => "params cannot be sent as JSON: $why",
                    method  => $method,
                )
            };
            next;
        }
        $pending{$id} = $i;
        push @sent, $id;
        push @out,  [\$line, 0];
    }
    return 'ok' unless %pending;

    my $read = IO::Select->new;
    $read->add($proc->{out}) unless $proc->{out_eof};
    $read->add($proc->{err}) unless $proc->{err_eof};
    my $write = IO::Select->new($proc->{in});

    # Answers the sidecar could not tie to a request (a line it could not
    # read): it answers every line exactly once, so once all else is in,
    # they belong to the requests still unanswered, in the order sent.
    my @anonymous;

    local $SIG{PIPE} = 'IGNORE';
    my $deadline = _now() + $limit;
    while (keys %pending > @anonymous or @out) {
        my $left = $deadline - _now();
        return 'timeout' if $left <= 0;

        local $! = 0;
        my ($readable, $writable) =
            IO::Select->select($read, (@out ? $write : undef), undef, $left);
        unless ($readable or $writable) {
            next if $! == 0 or $!{EINTR};
            return ('dead', "select: $!");
        }

        if ($writable and @$writable) {
            while (@out) {
                my ($line, $offset) = @{$out[0]};
                my $n = syswrite $proc->{in}, $$line, WRITE_CHUNK, $offset;
                unless (defined $n) {
                    last if $!{EAGAIN} or $!{EWOULDBLOCK} or $!{EINTR};
                    return ('dead', "cannot write to its stdin: $!");
                }
                $out[0][1] += $n;
                shift @out if $out[0][1] >= length $$line;
            }
        }

        foreach my $fh (@{$readable || []}) {
            my $is_out = ($fh == $proc->{out});
            my $buf    = $is_out ? \$proc->{out_buf} : \$proc->{err_buf};
            my $n      = sysread $fh, $$buf, READ_CHUNK, length $$buf;
            unless (defined $n) {
                next if $!{EAGAIN} or $!{EWOULDBLOCK} or $!{EINTR};
                return ('dead', "cannot read from it: $!") if $is_out;
                $n = 0;
            }
            if ($n == 0) {
                $read->remove($fh);
                if ($is_out) {
                    $proc->{out_eof} = 1;
                } else {
                    $proc->{err_eof} = 1;
                    $self->_relay_stderr(1);
                }
                next;
            }
            unless ($is_out) {
                $self->_relay_stderr(0);
                next;
            }
            while (
                (my $nl = index $proc->{out_buf}, "\n", $proc->{out_scan}) >=
                0) {
                my $line = substr $proc->{out_buf}, 0, $nl + 1, '';
                $proc->{out_scan} = 0;
                next unless $line =~ /\S/;
                my $message = eval { _decode_line($line) };
                return ('garbage', 'it wrote a line that is not JSON-RPC')
                    unless ref $message eq 'HASH'
                    and (exists $message->{result}
                    or ref $message->{error} eq 'HASH');
                _release_held($proc, 0) unless $proc->{answered}++;
                my $id = $message->{id};
                if (not defined $id) {
                    push @anonymous, $message;
                } elsif (exists $pending{$id}) {
                    my $i = delete $pending{$id};
                    $answers->[$i] = _answer($message, $requests->[$i][0]);
                    # A batch is as slow as its length; the timeout is
                    # about a sidecar that stopped answering.
                    $deadline = _now() + $limit;
                } else {
                    # Every id is sent once, to a sidecar started for this
                    # client: an answer to another one means the sidecar
                    # mixes its answers up, so none can be trusted (and the
                    # one awaited would only come with the timeout).
                    return ('garbage',
                        ref $id
                        ? 'it answered with an id that is neither a string nor a number'
                        : "it answered id $id, which was not asked");
                }
            }
            $proc->{out_scan} = length $proc->{out_buf};
        }
        # Answers already read are kept even when the sidecar died right
        # after writing them; only the others are sent again.
        return ('dead', 'it closed its stdout')
            if $proc->{out_eof} and keys %pending > @anonymous;
    }

    my @unanswered = grep { exists $pending{$_} } @sent;
    foreach my $id (@unanswered) {
        my $i = $pending{$id};
        $answers->[$i] = _answer(shift @anonymous, $requests->[$i][0]);
    }

    # The sidecar logs a failure before answering it; pick up what is already
    # there so that the log line comes with its call, not with the next one.
    $self->_drain_stderr(0);
    return 'ok';
}

sub _answer {
    my ($message, $method) = @_;
    if (ref $message->{error} eq 'HASH') {
        return {
            error => Sympa::SMIME::Sidecar::Error->from_rpc(
                $message->{error}, $method
            )
        };
    }
    return {result => $message->{result}};
}

# Copy of the params where byte strings holding UTF-8 become character
# strings, so that they reach the sidecar as the same text: Sympa keeps
# paths and passwords as UTF-8 bytes, which JSON would otherwise take for
# Latin-1.  _b64 members are ASCII by construction and can be large.
sub _prepare {
    my ($data, $key) = @_;
    my $ref = ref $data;
    if ($ref eq 'HASH') {
        return {map { ($_ => _prepare($data->{$_}, $_)) } keys %$data};
    } elsif ($ref eq 'ARRAY') {
        return [map { _prepare($_) } @$data];
    } elsif ($ref) {
        return $data;
    }
    # Numbers must stay numbers: a regexp match would turn them into
    # strings in JSON's eyes.
    return $data
        if not defined $data
        or Scalar::Util::looks_like_number($data)
        or (defined $key and $key =~ /_b64\z/)
        or utf8::is_utf8($data);
    return $data unless $data =~ /[\x80-\xFF]/;
    my $copy = $data;
    utf8::decode($copy);
    return $copy;
}

# One request line.  Large base64 members are put in as they are, not through
# the JSON encoder, which would only scan them for characters to escape
# (base64 has none): 2.3 ms of the 3.7 MB line of a 2 MB decryption, against
# 0.06 ms.  The encoder writes a token of this process where each goes; were
# a token anywhere else in the line, it is encoded whole instead.
sub _request_line {
    my ($id, $method, $params) = @_;

    my $request = {
        jsonrpc => '2.0',
        id      => $id,
        method  => $method,
        (defined $params ? (params => _prepare($params)) : ()),
    };
    my $prepared = $request->{params};
    my (%raw, %key_of);
    foreach my $key (sort grep { /_b64\z/ } keys %{$prepared || {}}) {
        my $value = $prepared->{$key};
        next unless defined $value           and not ref $value;
        next unless length $value >= RAW_MIN and _is_base64($value);
        my $token = _token($key);
        # ASCII, so that splicing it into the encoder's bytes cannot upgrade
        # them to characters.
        utf8::downgrade($value);
        $raw{$token}      = $value;
        $key_of{$token}   = $key;
        $prepared->{$key} = $token;
    }
    my $line = $json->encode($request);
    foreach my $token (sort keys %raw) {
        my $at = index $line, qq{"$token"};
        if ($at < 0 or index($line, $token, $at + 1 + length $token) >= 0) {
            $prepared->{$key_of{$_}} = $raw{$_} foreach keys %raw;
            return $json->encode($request) . "\n";
        }
        substr($line, $at + 1, length $token) = $raw{$token};
    }
    return $line . "\n";
}

# One answer line decoded.  Large base64 strings, the members whose name ends
# in "_b64", are cut out before the JSON decoder sees the line, and put back
# in its result: the decoder would copy them character by character.  A
# quote in JSON text always opens or closes a string, so '_b64":"' is a name
# ending in _b64 followed by its string value; a value holding anything but
# base64 (an escape) is left to the decoder.
sub _decode_line {
    my $line = shift;

    my %raw;
    my $from = 0;
    while ((my $at = index $line, '_b64":"', $from) >= 0) {
        my $start = $at + 7;
        my $end   = index $line, '"', $start;
        last if $end < 0;
        $from = $end + 1;
        next if $end - $start < RAW_MIN;
        my $value = substr $line, $start, $end - $start;
        next unless _is_base64($value);
        my $token = _token(scalar keys %raw);
        substr($line, $start, $end - $start) = $token;
        $raw{$token} = $value;
        $from = $start + length($token) + 1;
    }
    my $message = $json->decode($line);
    _put_back($message, \%raw) if %raw;
    return $message;
}

# A string no JSON value holds but by our doing: a token of this process.
my $nonce = sprintf '%d.%d.%d', $$, time, int rand 1_000_000_000;

sub _token {
    my $name = shift;
    return "sympa-smime-raw:$name:$nonce";
}

# Replaces, anywhere in $data, every string that is a key of %$raw.
sub _put_back {
    my ($data, $raw) = @_;
    my $ref = ref $data;
    my @slots =
          $ref eq 'HASH'  ? (map { \$data->{$_} } keys %$data)
        : $ref eq 'ARRAY' ? (map { \$_ } @$data)
        :                   ();
    foreach my $slot (@slots) {
        if (ref $$slot) {
            _put_back($$slot, $raw);
        } elsif (defined $$slot and exists $raw->{$$slot}) {
            $$slot = $raw->{$$slot};
        }
    }
    return;
}

# Standard base64 without line breaks (RFC 4648, padded).  tr/// and index
# rather than one regular expression: 0.65 ms instead of 1.8 over 2.7 MB.
sub _is_base64 {
    my $text = shift;
    return 0 if $text =~ tr{A-Za-z0-9+/=}{}c;
    my $pad = index $text, '=';
    return 1 if $pad < 0;
    my $tail = length($text) - $pad;
    return ($tail <= 2 and substr($text, $pad) =~ tr/=// == $tail) ? 1 : 0;
}

sub _relay_stderr {
    my ($self, $eof) = @_;
    my $proc = $self->{proc};
    while ((my $nl = index $proc->{err_buf}, "\n") >= 0) {
        my $line = substr $proc->{err_buf}, 0, $nl + 1, '';
        _relay_line($proc, $line);
    }
    if ($eof and length $proc->{err_buf}) {
        _relay_line($proc, $proc->{err_buf});
        $proc->{err_buf} = '';
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
    my ($proc, $ended) = @_;
    foreach my $held (@{delete $proc->{held} || []}) {
        my ($level, $line) = @$held;
        $level = 'info' if $ended and $level eq 'err';
        _log($level, 'sidecar: %s', $line);
    }
    return;
}

sub _relay_line {
    my ($proc, $line) = @_;
    $line =~ s/[\r\n]+\z//;
    return unless $line =~ /\S/;
    push @{$proc->{stderr_tail}}, $line;
    shift @{$proc->{stderr_tail}} while @{$proc->{stderr_tail}} > STDERR_KEEP;
    # A per-request failure is also returned to the caller, who logs it
    # with the message it concerns (the shim does, with its reason code), so
    # it is only kept at debug level here: one failure, one log line.
    # So is the JVM's last word on running out of memory: the line saying
    # that the sidecar failed quotes it.
    $proc->{idle_exit} = 1 if $line =~ /\Asympa-smime: info idle exit: /;
    my $level =
        $line =~ /\Asympa-smime: error method=\S+ id=(?!-)\S+ reason=/
        ? 'debug'
        : $line =~ /\Asympa-smime: info idle exit: / ? 'debug'
        : $line =~ /\ATerminating due to java\.lang\.OutOfMemoryError/
        ? 'debug'
        : $line =~ /error/i ? 'err'
        :                     'info';
    if ($proc->{answered} or $proc->{unheld}) {
        _log($level, 'sidecar: %s', $line);
    } else {
        push @{$proc->{held}}, [$level, $line];

        # Not a JVM that cannot start: a sidecar that talks at length.
        if (@{$proc->{held}} >= HELD_MAX) {
            _release_held($proc, 0);
            $proc->{unheld} = 1;
        }
    }
    return;
}

# Reads what the sidecar has to say on stderr for up to $wait seconds (0:
# only what is there now), stopping at EOF.  stdout is read too, and its
# content dropped, so that a sidecar flushing answers nobody waits for
# cannot block on a full pipe while we wait for it to exit.
sub _drain_stderr {
    my ($self, $wait) = @_;
    my $proc = $self->{proc};

    my $read = IO::Select->new;
    $read->add($proc->{err}) unless $proc->{err_eof};
    $read->add($proc->{out}) if $wait and not $proc->{out_eof};
    my $deadline = _now() + $wait;
    while ($read->count) {
        my $left = $deadline - _now();
        $left = 0 if $left < 0;
        local $! = 0;
        my @ready = $read->can_read($left);
        # A signal (the SIGCHLD of this very sidecar, a timer of the host)
        # interrupts select(): wait again for the time left, or its last
        # words are lost.
        next if not @ready and $!{EINTR} and $left > 0;
        last unless @ready;
        foreach my $fh (@ready) {
            my $is_out = ($fh == $proc->{out});
            my $chunk  = '';
            my $n      = sysread $fh, $chunk, READ_CHUNK;
            next if not defined $n and ($!{EAGAIN} or $!{EINTR});
            if (not $n) {
                $read->remove($fh);
                $proc->{$is_out ? 'out_eof' : 'err_eof'} = 1;
                $self->_relay_stderr(1) unless $is_out;
                next;
            }
            next if $is_out;
            $proc->{err_buf} .= $chunk;
            $self->_relay_stderr(0);
        }
        last if $left <= 0;
    }
    return;
}

# Ends the current sidecar of this process and forgets it.  Without kill,
# it gets its stdin closed and $REAP_GRACE seconds to exit by itself.
# Returns how it ended, for the log.
sub _stop {
    my ($self, %options) = @_;
    my $proc = $self->{proc} or return 'not running';
    local ($?, $!);

    if ($proc->{owner} != $$) {
        $self->_forget_inherited;
        return 'left to its owner';
    }

    # Killed before its stdin is closed, so that it cannot take the EOF for
    # a normal end and pass for healthy in the log.
    if ($options{kill} and not $proc->{reaped}) {
        kill 'KILL', $proc->{pid};
    }
    close $proc->{in};
    my $deadline = _now() + ($options{kill} ? 0 : $REAP_GRACE);
    # Its last words (why the JVM could not start, a stack trace) are what
    # the administrator needs.
    $self->_drain_stderr($options{kill} ? DEATH_DRAIN : $REAP_GRACE);
    until ($proc->{reaped}) {
        my $waited = waitpid $proc->{pid}, POSIX::WNOHANG();
        if ($waited != 0) {
            $proc->{status} = $? if $waited > 0;
            $proc->{reaped} = 1;
            last;
        }
        last if _now() >= $deadline;
        Time::HiRes::sleep(0.05);
    }
    unless ($proc->{reaped}) {
        kill 'KILL', $proc->{pid};
        $proc->{status} = $? if waitpid($proc->{pid}, 0) > 0;
        $proc->{reaped} = 1;
    }
    close $proc->{out};
    close $proc->{err};
    $self->_relay_stderr(1);
    _release_held($proc, 1);
    $self->{proc} = undef;
    $self->{busy} = 0;

    my $how =
        !defined $proc->{status} ? 'exit status unknown'
        : ($proc->{status} & 127)
        ? sprintf('killed by signal %d',   $proc->{status} & 127)
        : sprintf('exited with status %d', $proc->{status} >> 8);
    $how .= '; last stderr: ' . join ' / ', @{$proc->{stderr_tail}}
        if @{$proc->{stderr_tail}};
    $how =
        "it ran out of memory (give it a larger heap: -Xmx in java_opts); $how"
        if grep { /OutOfMemoryError/ } @{$proc->{stderr_tail}};
    return $how;
}

sub shutdown {
    my $self = shift;
    local ($@, $!, $?);
    eval { $self->_stop };
    return;
}

sub DESTROY {
    my $self = shift;
    local ($@, $!, $?);
    eval { $self->_stop };
    return;
}

END {
    local ($@, $!, $?);
    foreach my $self (grep { defined } values %live) {
        eval { $self->_stop };
    }
}

# Timeouts must not jump with the wall clock (NTP, daylight saving).
my $monotonic =
    eval { Time::HiRes::clock_gettime(Time::HiRes::CLOCK_MONOTONIC()); 1 };

sub _now {
    return $monotonic
        ? Time::HiRes::clock_gettime(Time::HiRes::CLOCK_MONOTONIC())
        : Time::HiRes::time();
}

sub _log {
    my ($level, $format, @args) = @_;
    Sympa::SMIME::Config::log_message($level, $format, @args);
    return;
}

sub _is_positive {
    my $value = shift;
    return (    defined $value
            and $value =~ /\A(?:\d+(?:\.\d*)?|\.\d+)\z/
            and $value > 0);
}

sub encode_bytes {
    my $bytes = shift;
    Carp::croak('encode_bytes: undefined value') unless defined $bytes;
    # A string with the UTF8 flag on goes as print() would write it to
    # Sympa's spool or to sendmail: as bytes when every character is one
    # (a byte string upgraded by a concatenation with a character string,
    # whose 8-bit bytes must not be encoded twice), else in UTF-8.  $bytes
    # is our own copy.
    utf8::downgrade($bytes, 1) or utf8::encode($bytes);
    return MIME::Base64::encode_base64($bytes, '');
}

sub decode_bytes {
    my $b64 = shift;
    Carp::croak('decode_bytes: undefined value') unless defined $b64;
    Carp::croak('decode_bytes: not base64')      unless _is_base64($b64);
    return MIME::Base64::decode_base64($b64);
}

package Sympa::SMIME::Sidecar::Error;

use strict;
use warnings;
use overload
    '""'     => \&as_string,
    'bool'   => sub { 1 },
    fallback => 1;

sub new {
    my ($class, %args) = @_;
    return bless {
        reason     => (defined $args{reason}  ? $args{reason}  : 'internal'),
        message    => (defined $args{message} ? $args{message} : ''),
        code       => (defined $args{code}    ? $args{code}    : 0),
        data       => $args{data},
        method     => $args{method},
        cannot_run => ($args{cannot_run} ? 1 : 0),
    }, $class;
}

sub from_rpc {
    my ($class, $error, $method) = @_;
    my $code = $error->{code};
    $code = 0 unless defined $code and $code =~ /\A-?\d+\z/;
    my $data = ref $error->{data} eq 'HASH' ? $error->{data} : undef;
    # The sidecar gives every error its reason (docs/protocol.md): the one
    # table of reasons is Reason.java, and no copy of it lives here.  An
    # error without one comes from something else speaking on the pipe.
    my $reason = $data && $data->{reason};
    $reason = 'internal' unless defined $reason and $reason =~ /\A\w+\z/;
    return $class->new(
        reason  => $reason,
        message => $error->{message},
        code    => $code + 0,
        data    => $data,
        method  => $method,
    );
}

sub throw {
    my $class = shift;
    die $class->new(@_);
}

sub reason  { return $_[0]->{reason} }
sub message { return $_[0]->{message} }
sub code    { return $_[0]->{code} }
sub data    { return $_[0]->{data} }
sub method  { return $_[0]->{method} }

sub cannot_run { return $_[0]->{cannot_run} }

sub as_string {
    my $self = shift;
    return sprintf '%s: %s', $self->{reason}, $self->{message};
}

1;
__END__

=encoding utf-8

=head1 NAME

Sympa::SMIME::Sidecar - Client of the sympa-smime sidecar

=head1 SYNOPSIS

  use Sympa::SMIME::Sidecar;

  my $sidecar = Sympa::SMIME::Sidecar->instance;
  my $result  = eval {
      $sidecar->call('smime.verify',
          {   message_b64 => Sympa::SMIME::Sidecar::encode_bytes($msg),
              cafile      => $cafile,
          }
      );
  };
  if (my $error = $@) {
      die $error unless ref $error;    # a bug of ours, not a sidecar error
      $log->syslog('err', 'S/MIME: %s', $error);   # "reason: message"
      return undef if $error->reason eq 'no_matching_key';
  }
  my $entity = Sympa::SMIME::Sidecar::decode_bytes($result->{content_b64});

  # Many requests in one go (bulk encryption): no die, one answer each.
  my @answers = $sidecar->call_many(
      [map { ['smime.encrypt', {entity_b64 => $b64, recipients => [$_]}] }
          @recipients]
  );
  foreach my $answer (@answers) {
      if ($answer->{error}) { ... $answer->{error}->reason ... }
      else                  { ... $answer->{result}{message_b64} ... }
  }

=head1 DESCRIPTION

Talks to the sympa-smime sidecar, a Java process (C<java -jar
sympa-smime.jar>) speaking JSON-RPC 2.0 on its stdin and stdout, one JSON
object per line (see F<docs/protocol.md>).

The sidecar is started on the first call, once per process, and kept for
the next calls.  It is restarted when it died (the call is then sent again,
once), killed when it does not answer in time, and stopped when the process
exits.  Its stderr lines go to Sympa's log.

The command is C<java> with C<-Dsympa.smime.owner=PROGRAM/PID> (the base
name of C<$0> and the pid of the process that starts it, so that C<ps> tells
the sidecars apart; see L</owner_option>), C<-XX:+ExitOnOutOfMemoryError
-XX:+DisplayVMOutputToStderr -Xlog:disable -Xlog:all=warning:stderr>, then
C<-XX:SharedArchiveFile=ARCHIVE -Xshare:auto> when the class-data-sharing
archive of the jar (F<sympa-smime.jsa> next to F<sympa-smime.jar>, see
L</archive_of>) exists, then C<-Dsympa.smime.idleExitSeconds=N> for a
non-zero C<idle_timeout>, then C<java_opts>, then C<-jar> and the jar:
whatever the JVM itself prints goes to stderr, never to the protocol on
stdout, and a sidecar out of memory exits, to be restarted.  An archive the
JVM cannot use (made for another jar or JDK) is skipped by the JVM, with a
warning in the log at most.  Answers are read while requests are written, as
the sidecar stops reading requests while its memory budget is spent.

=head2 Idle exit

A sidecar that has had no request for C<idle_timeout> seconds (default 300;
0: never) exits by itself, with status 0 and an C<idle exit> line on its
stderr, so that a process which no longer does S/MIME (a web child between
logins) does not keep a JVM.  The next call starts a new one; this is logged
at C<debug> only.  The sidecar decides, not the client: a Sympa process
waiting for work (a web child in its FastCGI accept, a daemon asleep between
spool scans) runs no code of ours and could not stop it.

A request sent as the sidecar decides to exit is not lost: once it has
decided, the sidecar reads nothing more, so the request finds its stdout
closed without an answer, and the client sends it to a new sidecar; this
resend does not count as the one retry after a failure.

=head2 Processes

Each process has its own sidecar.  A child created by C<fork> that calls the
sidecar notices that the sidecar belongs to its parent: it closes its copies
of the pipes, without signalling the parent's sidecar, and starts its own.
A child that exits never stops nor reaps its parent's sidecar.

=head2 Failures

Failures are L</Sympa::SMIME::Sidecar::Error> objects.  Besides the reasons
of F<docs/protocol.md>, the client itself gives these:

=over

=item C<sidecar_unavailable> (code 0)

Java or the jar is missing, the configuration file can be changed by others
than root and Sympa's user, the sidecar cannot be started, or it died (or
wrote something that is not JSON-RPC, or an answer to a request it was not
sent; it is then killed) twice in a row while handling the call.

After the first death, the new sidecar is asked C<service.version> before
the call is sent again.  When it does not answer either, the sidecar cannot
run at all (a JVM that does not start, a jar that is no sidecar): the error
then says C<does not run>, and for C<$Sympa::SMIME::Sidecar::RETRY_AFTER>
seconds (60) no sidecar is started again, each call failing at once with the
same error.  The errors of a sidecar that cannot run (missing java or jar,
untrusted configuration, unparsable C<java_opts>, a failed start, this one)
have C<cannot_run> set; a sidecar that answered C<service.version> but dies
again on the call does not: the call is what kills it.  The
message names the path or tells how the sidecar ended, with its last stderr
lines; for a sidecar that ran out of memory it says so, and that C<-Xmx> in
C<java_opts> gives it a larger heap.

=item C<timeout> (code 0)

No answer within the timeout; the sidecar was killed and reaped, and the
next call starts a new one.

=item C<internal>

Also given to an error that comes without C<data.reason>, which the sidecar
always sends (F<docs/protocol.md> lists the reasons; C<Reason.java> is their
one table).

=back

=head2 Text and bytes

Members ending in C<_b64> carry bytes: build them with L</encode_bytes>,
read them with L</decode_bytes>.

Other strings in params may be character strings or byte strings; byte
strings that are valid UTF-8 are sent as the text they encode, as Sympa
keeps paths and passwords as UTF-8 bytes; other byte strings are taken as
Latin-1.  Strings in results are character strings (JSON is text): use
C<utf8::encode> on a copy where Sympa expects bytes.

=head1 METHODS

=over

=item instance ( )

Class method.  The sidecar client of this process, created on the first
call.  Creating it does not start the sidecar.

=item new ( [ setting =E<gt> value, ... ] )

Class method.  A client of its own, independent of L</instance>, with its
own sidecar.  Settings given here (C<jar>, C<java>, C<java_opts>,
C<timeout>, C<cipher>, C<key_transport>) override those of L</config>.
Mostly for tests.

=item call ( $method, [ \%params, [ { timeout =E<gt> $seconds } ] ] )

Sends one request and returns the C<result> of the answer (usually a
hashref).  Dies with a L</Sympa::SMIME::Sidecar::Error> on any failure.
Dies with a plain message (C<croak>) when called wrongly.

=item call_many ( [ [ $method, \%params ], ... ], [ { timeout =E<gt> $seconds } ] )

Sends all the requests at once (pipelined; the sidecar runs them in
parallel) and returns one hashref per request, in the order of the requests:
C<{result =E<gt> ...}> or C<{error =E<gt> $error}>.  Returns a list in list
context, an arrayref in scalar context.  Does not die on sidecar failures.

The timeout applies to the wait for the next answer: a long batch does not
time out as long as answers keep coming.

=item config ( )

Class or instance method.  The settings, as L<Sympa::SMIME::Config/load>
returns them (plus the overrides given to L</new> when called on an object):
C<jar>, C<java>, C<java_opts>, C<timeout>, C<cipher>, C<key_transport>,
C<crl_path>, C<crl_required>, C<config_file>, C<sources>, and C<error> when
the configuration file cannot be trusted (no sidecar is then started).

=item pid ( )

The pid of the sidecar this process runs, or C<undef> when none is running.

=item shutdown ( )

Stops the sidecar now: closes its stdin (it then finishes and exits 0),
waits up to C<$Sympa::SMIME::Sidecar::REAP_GRACE> seconds (5), then kills
it with SIGKILL, and reaps it.  The next call starts a new one.  Also done
when the object is destroyed and at exit (END).  C<$?>, C<$!> and C<$@> are
left as they were, so the exit status of the program is not changed.

=item archive_of ( $jar )

Class method.  The class-data-sharing archive the client looks for next to
C<$jar>: the same name with F<.jsa> for F<.jar>.  The build makes one for
F<target/sympa-smime.jar>, and L<sympa-smime-enable> one for the installed
jar.

=item owner_option ( )

Function.  C<-Dsympa.smime.owner=PROGRAM/PID>, as put on the command line of
a sidecar started now: the base name of C<$0> (characters other than
letters, digits, C<.>, C<+>, C<-> and C<_> as C<_>) and C<$$>.

=item find_java ( $java )

Function.  The java that would run: C<$java> when it holds a C</>, else the
first C<$java> in C<PATH>; undef when that is not an executable file.

=item json_class ( )

Function.  The JSON module in use: L<Cpanel::JSON::XS> if installed, else
L<JSON::XS>, else L<JSON::PP>.  C<SYMPA_SMIME_JSON> set to one of these
names, when the module is loaded, tries that one first.

=back

=head1 FUNCTIONS

=over

=item encode_bytes ( $bytes )

Base64 of the bytes, without line breaks.  A string with the UTF8 flag on
is taken as C<print> would write it: its characters as bytes when they are
all below 256 (an upgraded byte string: 8-bit bytes are never encoded
twice), else its UTF-8 form.  The caller's string is left as it is.  Croaks
on C<undef>.

=item decode_bytes ( $base64 )

The bytes.  Croaks on C<undef> or on anything that is not base64 without
line breaks.

=back

=head2 Sympa::SMIME::Sidecar::Error

Stringifies to C<"reason: message">.  Accessors: C<reason> (stable snake_case
code, see above and F<docs/protocol.md>), C<message> (one line, never key
material nor passwords), C<code> (the JSON-RPC code, 0 for errors of the
client itself), C<data> (the error's C<data> hashref, if any), C<method>, C<cannot_run>
(true when the sidecar cannot run at all, see L</Failures>, rather than
failing on this call).

C<new(reason =E<gt> ..., message =E<gt> ..., code =E<gt> ..., data =E<gt> ...,
method =E<gt> ...)> makes one (reason C<internal> by default),
C<from_rpc(\%error, $method)> one from a JSON-RPC C<error> member (see
L</Failures> for the reason of a standard error), and C<throw(...)> dies
with a new one.

=head1 CONFIGURATION

See L<Sympa::SMIME::Config> and F<docs/configuration.md>: environment
variables C<SYMPA_SMIME_JAR>, C<SYMPA_SMIME_JAVA>, C<SYMPA_SMIME_JAVA_OPTS>,
C<SYMPA_SMIME_TIMEOUT>, C<SYMPA_SMIME_CIPHER>, C<SYMPA_SMIME_KEY_TRANSPORT>,
then F</etc/sympa/sympa-smime.conf> (or C<SYMPA_SMIME_CONFIG>), then
defaults.  C<SYMPA_SMIME_JSON> picks the JSON module (see L</json_class>).

Settings are read again each time a sidecar is started.

=head1 SEE ALSO

L<Sympa::SMIME::Config>, F<docs/protocol.md>, F<docs/configuration.md>.

=cut
