# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# The process part of the client (Sympa::SMIME::Sidecar::Process), with the
# fake java of t/lib: the command line, the start, one round of I/O, the
# timeout, the stderr relay, how a sidecar ends and is reaped.  The lines it
# moves are the protocol part's business: a batch here takes any line.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use Test::More;
use POSIX       qw();
use Time::HiRes qw(time);
use SidecarTest qw(fake_java gone zombie capture_syslog);

use Sympa::SMIME::Sidecar::Process;

my $syslog = capture_syslog();

# Lines in, the answers' lines kept: as many as were written.
package LineBatch {

    sub new {
        my ($class, @methods) = @_;
        my $id = 0;
        return bless {
            lines => [
                map {
                    my $line = sprintf
                        qq({"jsonrpc":"2.0","id":%d,"method":"%s"}\n),
                        ++$id, $_;
                    \$line
                } @methods
            ],
            taken => [],
        }, $class;
    }
    sub lines { return @{$_[0]->{lines}} }
    sub done  { return @{$_[0]->{taken}} >= @{$_[0]->{lines}} }

    sub take {
        my ($self, $line) = @_;
        push @{$self->{taken}}, $line;
        return 'answer';
    }
    sub finish { $_[0]->{finished} = 1; return }
}

package main;

sub conf {
    return {
        java         => fake_java(),
        jar          => fake_java(),  # any readable file: the fake ignores it
        java_opts    => '',
        idle_timeout => 0,
        config_file  => '/etc/sympa/sympa-smime.conf',
        sources      => {java_opts => 'default'},
        @_,
    };
}

sub start {
    my ($proc, $why) = Sympa::SMIME::Sidecar::Process->start(conf(@_));
    die "cannot start the fake sidecar: $why\n" unless $proc;
    return $proc;
}

# The command line.
{
    my ($command) = Sympa::SMIME::Sidecar::Process->command(
        conf(java_opts => q{-Xmx64m '-Dx=a b'}, idle_timeout => 7));
    is $command->[0], fake_java(), 'the java first';
    like $command->[1], qr{\A-Dsympa\.smime\.owner=[\w.+-]+/$$\z},
        'then who owns it';
    is_deeply [@$command[2 .. 5]],
        [Sympa::SMIME::Sidecar::Process::JVM_OPTIONS],
        'then the fixed JVM options';
    is_deeply [@$command[-5 .. -1]],
        [
        '-Dsympa.smime.idleExitSeconds=7', '-Xmx64m',
        '-Dx=a b',                         '-jar',
        fake_java()
        ],
        'then the idle exit, java_opts as the shell splits them, and the jar';

    my ($none, $why) = Sympa::SMIME::Sidecar::Process->command(
        conf(java => '/nonexistent/java'));
    ok !$none, 'no command without java';
    like $why, qr{java not found: "/nonexistent/java" \(no such executable},
        'says why';
    (undef, $why) = Sympa::SMIME::Sidecar::Process->command(
        conf(jar => '/nonexistent.jar'));
    like $why, qr{jar not found: /nonexistent\.jar}, 'nor without the jar';
    (undef, $why) =
        Sympa::SMIME::Sidecar::Process->command(conf(java_opts => q{-Dx='a}));
    like $why, qr{java_opts cannot be parsed \(default\): -Dx='a},
        'nor with java_opts the shell cannot split';
}

# One round of I/O, then an ordinary end: stdin closed, it exits 0.
{
    my $proc = start();
    ok $proc->owned,  'this process owns it';
    ok !$proc->ended, 'it runs';
    my $batch = LineBatch->new(('service.echo') x 3);
    is $proc->exchange($batch, 10), 'ok', 'three lines, three answers';
    ok $batch->{finished}, 'the batch is finished';
    like $batch->{taken}[2], qr/"id":3\b.*\n\z/, 'whole lines, in order';
    my $pid = $proc->pid;
    is $proc->stop, 'exited with status 0', 'stopped: it exited by itself';
    ok gone($pid), 'and was reaped';
}

# Stderr: held until the first answer (a JVM that cannot start says why
# there, and the error quotes it), then relayed as it comes.
{
    local $ENV{SYMPA_SMIME_FAKE} = 'lastwords';
    my $proc = start();
    @$syslog = ();
    my $batch = LineBatch->new('test.stderr');
    ${($batch->lines)[0]} =~ s/}\n/,"params":{"lines":2,"size":1}}\n/;
    is $proc->exchange($batch, 10), 'ok', 'an answer after stderr lines';
    is_deeply [map { $_->[1] } @$syslog],
        [
        'sidecar: line 1 x',
        'sidecar: line 2 x',
        'sidecar: sympa-smime: error method=test.stderr reason=test: done'
        ],
        'its stderr lines in the log by the end of the round';
    @$syslog = ();
    like $proc->stop, qr/\Aexited with status 0; last stderr: .*last words\z/,
        'its last words are in how it ended';
    is_deeply $syslog, [['info', 'sidecar: fake sidecar: last words']],
        'and in the log';
}

# A sidecar that dies before answering: its stderr is held, then logged at
# info at most, since the error quotes it.
{
    local $ENV{SYMPA_SMIME_FAKE} = 'crash';
    my $proc = start();
    @$syslog = ();
    my @failure = $proc->exchange(LineBatch->new('service.echo'), 10);
    is_deeply \@failure, ['dead', 'it closed its stdout'], 'dead';
    ok $proc->ended, 'ended';
    like $proc->stop,
        qr/\Aexited with status 1; last stderr: Error: fake sidecar cannot start/,
        'how it ended, with its words';
    is_deeply [map { $_->[0] } @$syslog], ['info'],
        'its error line logged at info only';
}

# The timeout: no answer within the limit.
{
    my $proc    = start();
    my $started = time;
    my @failure = $proc->exchange(LineBatch->new('test.hang'), 1);
    my $waited  = time - $started;
    is_deeply \@failure, ['timeout'], 'no answer: timeout';
    ok $waited >= 1 && $waited < 5, "after the limit ($waited s)";
    my $pid = $proc->pid;
    is $proc->stop(kill => 1), 'killed by signal 9', 'killed';
    ok gone($pid) && !zombie($pid), 'and reaped, no zombie';
}

# A sidecar that does not exit when its stdin closes gets $REAP_GRACE.
{
    local $ENV{SYMPA_SMIME_FAKE} = 'deaf';
    local $Sympa::SMIME::Sidecar::Process::REAP_GRACE = 1;
    my $proc = start();
    is $proc->exchange(LineBatch->new('service.echo'), 10), 'ok', 'answers';
    my $started = time;
    is $proc->stop, 'killed by signal 9', 'killed after the grace';
    ok time - $started < 4, 'soon after';
}

# Idle exit: status 0 after the line that says so.
{
    my $proc = start(idle_timeout => 1);
    ok !$proc->idle_exit, 'not idle while it runs';
    $proc->{status} = 0;
    $proc->_relay_line("sympa-smime: info idle exit: no request for 1 s\n");
    ok $proc->idle_exit, 'idle exit: its line and status 0';
    delete $proc->{status};
    $proc->stop(kill => 1);
}

# A forked child leaves its parent's sidecar alone.
{
    my $proc = start();
    my $pid  = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $ok = !$proc->owned;
        $proc->forget;
        POSIX::_exit($ok ? 0 : 1);
    }
    waitpid $pid, 0;
    is $?, 0, 'a child does not own it';
    is $proc->exchange(LineBatch->new('service.echo'), 10), 'ok',
        'the parent still talks to it';
    $proc->stop;
}

done_testing;
