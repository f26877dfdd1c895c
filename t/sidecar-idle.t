# A sidecar with no request for idle_timeout seconds exits by itself; the
# next call starts a new one without an error, and a request sent as the
# sidecar decides to exit is answered by the next one, never lost.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use File::Temp  qw(tempdir);
use Time::HiRes qw(sleep time);
use Test::More;
use SidecarTest qw(require_jar gone zombie capture_syslog);

my $jar = require_jar();
$ENV{SYMPA_SMIME_JAR} = $jar;
require Sympa::SMIME::Sidecar;

# Inside Sympa, lines go to Sympa::Log with a level: that is what is checked.
my $syslog = capture_syslog();

sub logged {
    my $level = shift;
    return grep { $_->[0] eq $level } @$syslog;
}

sub wait_for {
    my ($what, $seconds) = @_;
    my $deadline = time + $seconds;
    until ($what->()) {
        return 0 if time > $deadline;
        sleep 0.05;
    }
    return 1;
}

# A java that also copies the sidecar's stderr to a file, so that the test
# sees the moment the sidecar decides to exit.
my $dir  = tempdir(CLEANUP => 1);
my $java = "$dir/java";
open my $fh, '>', $java or die $!;
print $fh qq{#!/bin/bash\nexec java "\$@" 2> >(tee -a "$dir/stderr" >&2)\n};
close $fh;
chmod 0755, $java;

sub decided {
    open my $fh, '<', "$dir/stderr" or return 0;
    return scalar grep {/idle exit: no request for 1 s/} <$fh>;
}

my $version = 'service.version';

# Idle: it exits, and the next call starts another without an error line.
{
    my $sidecar = Sympa::SMIME::Sidecar->new(
        idle_timeout => 1,
        java_opts    => '-Xmx64m -XX:+UseSerialGC',
    );
    is($sidecar->call($version)->{name}, 'sympa-smime', 'first call');
    my $pid = $sidecar->pid;
    ok( wait_for(sub { gone($pid) or zombie($pid) }, 30),
        'the sidecar exits after idle_timeout without a request'
    );
    @$syslog = ();
    is($sidecar->call($version)->{name}, 'sympa-smime',
        'the next call works');
    isnt($sidecar->pid, $pid, 'by a new sidecar');
    is_deeply([map { $_->[1] } logged('err'), logged('info')],
        [], 'no error or info line for an idle exit');
    ok( (   grep { $_->[1] =~ /pid $pid exited after idle_timeout/ }
                logged('debug')
        ),
        'a debug line says why'
    );
    $sidecar->shutdown;
}

# Busy: a sidecar answering one call after another does not exit, though
# the calls last longer than idle_timeout together.
{
    my $sidecar = Sympa::SMIME::Sidecar->new(
        idle_timeout => 2,
        java_opts    => '-Xmx64m -XX:+UseSerialGC',
    );
    $sidecar->call($version);
    my $pid = $sidecar->pid;
    foreach (1 .. 10) {
        sleep 0.4;
        $sidecar->call($version);
    }
    is($sidecar->pid, $pid, 'calls closer than idle_timeout keep it');
    $sidecar->shutdown;
}

# The race: the sidecar has decided to exit (and waits 3 s before it does,
# a pause only tests ask for) when the request is sent.  It reads no more,
# so the request goes unanswered; the client sends it again, to a new
# sidecar, and the caller sees only the answer.
{
    unlink "$dir/stderr";
    my $sidecar = Sympa::SMIME::Sidecar->new(
        java         => $java,
        idle_timeout => 1,
        java_opts    =>
            '-Xmx64m -XX:+UseSerialGC -Dsympa.smime.idleExitGraceMillis=3000',
    );
    $sidecar->call($version);
    my $pid = $sidecar->pid;
    ok(wait_for(\&decided, 30), 'the sidecar decides to exit');
    ok(!gone($pid),             'and is still running');
    @$syslog = ();
    my $result =
        eval { $sidecar->call('service.echo', {data_b64 => 'cmFjZQ=='}) };
    is($result && $result->{data_b64},
        'cmFjZQ==', 'the racing request is answered');
    isnt($sidecar->pid, $pid, 'by a new sidecar');
    is_deeply([map { $_->[1] } logged('err')], [], 'no error line');
    ok( (   grep { $_->[1] =~ /pid $pid exited idle as a request was sent/ }
                logged('debug')
        ),
        'a debug line says why it was sent again'
    );
    $sidecar->shutdown;
}

# 0: never.  The property is not even passed.
{
    my $sidecar = Sympa::SMIME::Sidecar->new(idle_timeout => 0);
    $sidecar->call($version);
    my $pid = $sidecar->pid;
    open my $cmd, '<', "/proc/$pid/cmdline" or die $!;
    my @args = split /\0/, do { local $/; <$cmd> };
    ok(!(grep {/idleExit/} @args), 'idle_timeout 0 passes no idle exit');
    $sidecar->shutdown;
}

ok( !eval { Sympa::SMIME::Sidecar->new(idle_timeout => 'soon'); 1 },
    'an idle_timeout that is not a whole number croaks'
);

done_testing;
