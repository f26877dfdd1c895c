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
use Carp         qw();
use Scalar::Util qw();

use Sympa::SMIME::Config;
use Sympa::SMIME::Sidecar::Process;
use Sympa::SMIME::Sidecar::Protocol;

our $VERSION = '0.1.0';

# Seconds during which a sidecar found unable to run (its JVM dies before
# answering anything) is not started again: each try costs a JVM start and
# log lines, for every message.  A package variable so that tests can
# shorten it.
our $RETRY_AFTER = 60;

{
    no warnings 'once';

    # Seconds a sidecar gets to exit by itself once its stdin is closed: the
    # process part's, under its old name too, which tests localize.
    *REAP_GRACE = *Sympa::SMIME::Sidecar::Process::REAP_GRACE;

    # The public functions of the two parts, where callers have always found
    # them.
    *json_class   = \&Sympa::SMIME::Sidecar::Protocol::json_class;
    *encode_bytes = \&Sympa::SMIME::Sidecar::Protocol::encode_bytes;
    *decode_bytes = \&Sympa::SMIME::Sidecar::Protocol::decode_bytes;
    *archive_of   = \&Sympa::SMIME::Sidecar::Process::archive_of;
    *owner_option = \&Sympa::SMIME::Sidecar::Process::owner_option;
    *find_java    = \&Sympa::SMIME::Sidecar::Process::find_java;

    # The private ones that tests call.  _prepare is the same glob, so that
    # bench/profile-paths.pl, wrapping it under this name, times the calls
    # the protocol part makes.
    *_request_line = \&Sympa::SMIME::Sidecar::Protocol::request_line;
    *_decode_line  = \&Sympa::SMIME::Sidecar::Protocol::decode_line;
    *_is_base64    = \&Sympa::SMIME::Sidecar::Protocol::is_base64;
    *_token        = \&Sympa::SMIME::Sidecar::Protocol::_token;
    *_prepare      = *Sympa::SMIME::Sidecar::Protocol::_prepare;
}

my %OVERRIDABLE = map { $_ => 1 } Sympa::SMIME::Config->keys_in_order;

# One per process; a forked child inherits it and notices by itself.
my $instance;

# Every object that may own a sidecar, weakly, so that END can stop them
# before global destruction makes the order of DESTROY calls random.
my %live;

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
        protocol  => Sympa::SMIME::Sidecar::Protocol->new,
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
    return undef unless $proc and $proc->owned;
    return $proc->pid;
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
    for (my $attempt = 1; $attempt <= 2; $attempt++) {
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
        my $limit = defined $timeout ? $timeout : $proc->conf->{timeout};

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
            my $pid = $proc->pid;
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
        my $pid = $proc->pid;
        my $end = $self->_stop(kill => ($status eq 'garbage'));

        # It ended for want of requests just as these were sent: it read
        # none of them (it stops reading once it has decided), so they go
        # to a new sidecar, once, without counting as a failure.
        if ($proc->idle_exit and not $idle_retried++) {
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

# One round of requests: the protocol part makes the lines and ties the
# answers to them, the process part moves them.  Returns 'ok', 'timeout',
# or ('dead' | 'garbage', why).
sub _exchange {
    my ($self, $requests, $todo, $answers, $limit) = @_;

    my $batch = $self->{protocol}->batch($requests, $todo, $answers);
    return 'ok' unless $batch->lines;
    return $self->{proc}->exchange($batch, $limit);
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
            $proc->pid, $detail, $end
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
    return unless $proc and not $proc->owned;
    $proc->forget;
    $self->{proc} = undef;
    $self->{busy} = 0;
    return;
}

# Returns undef when a sidecar is ready, an Error otherwise.
sub _ensure_started {
    my $self = shift;

    my $proc = $self->{proc};
    if ($proc) {
        return undef unless $proc->ended;
        my $end = $self->_stop;
        if ($proc->idle_exit) {
            _log(
                'debug',
                'sidecar: pid %d exited after idle_timeout; starting a new one',
                $proc->pid
            );
        } else {
            _log('err', 'sidecar: pid %d was gone (%s); starting a new one',
                $proc->pid, $end);
        }
    }

    my $conf = $self->config;
    my ($started, $why) =
        defined $conf->{error}
        ? (undef, $conf->{error})
        : Sympa::SMIME::Sidecar::Process->start($conf);
    return Sympa::SMIME::Sidecar::Error->new(
        reason     => 'sidecar_unavailable',
        cannot_run => 1,
        message    => $why,
    ) unless $started;
    $self->{proc} = $started;
    return undef;
}

# Ends the current sidecar of this process and forgets it.  Without kill,
# it gets its stdin closed and $REAP_GRACE seconds to exit by itself.
# Returns how it ended, for the log.
sub _stop {
    my ($self, %options) = @_;
    my $proc = $self->{proc} or return 'not running';

    unless ($proc->owned) {
        $self->_forget_inherited;
        return 'left to its owner';
    }
    my $how = $proc->stop(%options);
    $self->{proc} = undef;
    $self->{busy} = 0;
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
    foreach my $self (grep {defined} values %live) {
        eval { $self->_stop };
    }
}

sub _now { return Sympa::SMIME::Sidecar::Process::now() }

sub _log {
    return Sympa::SMIME::Config::log_message(@_);
}

sub _is_positive {
    my $value = shift;
    return (    defined $value
            and $value =~ /\A(?:\d+(?:\.\d*)?|\.\d+)\z/
            and $value > 0);
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

The work is in two parts: L<Sympa::SMIME::Sidecar::Protocol> (the lines:
requests, ids, answers, errors) and L<Sympa::SMIME::Sidecar::Process> (the
JVM: start, pipes, stderr, reaping).  This module decides when to start,
retry and give up, and is the only one callers use.

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

L<Sympa::SMIME::Config>, L<Sympa::SMIME::Sidecar::Process>,
L<Sympa::SMIME::Sidecar::Protocol>, F<docs/protocol.md>,
F<docs/configuration.md>.

=cut
