# The client in a process that handles signals, as Sympa's daemons do: a
# SIGCHLD handler that reaps every child itself (so our waitpid finds
# nothing), and signals that interrupt select() and sysread() (EINTR).
# Calls, restarts, timeouts and shutdowns must still work, leave no
# zombie, and lose none of what the sidecar says on stderr.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use POSIX       qw(WNOHANG);
use Time::HiRes qw();
use Test::More;
use SidecarTest qw(require_jar fake_java gone);

my $jar = require_jar();
$ENV{SYMPA_SMIME_JAR} = $jar;
require Sympa::SMIME::Sidecar;
no warnings 'once';
$Sympa::SMIME::Sidecar::REAP_GRACE = 2;

my @logged;
$SIG{__WARN__} = sub { push @logged, $_[0] };

# Safety net: a wait that never ends must fail the test, not hang it.
$SIG{ALRM} = sub { die "test hung\n" };

sub error_of {
    my $code = shift;
    return eval { $code->(); undef } || $@;
}

# Waits (up to 10 s) until the process is gone, reaped by the handler.
sub wait_gone {
    my $pid = shift;
    foreach (1 .. 200) {
        return 1 if gone($pid);
        Time::HiRes::sleep(0.05);
    }
    return 0;
}

# A host that reaps every child as soon as it exits.
my $reaped = 0;
$SIG{CHLD} = sub { $reaped++ while waitpid(-1, WNOHANG) > 0 };

{
    my $sidecar = Sympa::SMIME::Sidecar->new;
    is $sidecar->call('service.version')->{name}, 'sympa-smime',
        'SIGCHLD reaper: first call';
    my $first = $sidecar->pid;
    kill 'KILL', $first;
    ok wait_gone($first), 'SIGCHLD reaper: the host reaped the killed one';
    ok $reaped,           'SIGCHLD reaper: really by the host';
    @logged = ();
    is $sidecar->call('service.version')->{name}, 'sympa-smime',
        'SIGCHLD reaper: the next call starts a new sidecar';
    isnt $sidecar->pid, $first, 'SIGCHLD reaper: another process';
    ok( (   grep {/sidecar: pid $first was gone \(exit status unknown\)/}
                @logged
        ),
        'SIGCHLD reaper: logged, status unknown'
    ) or diag explain \@logged;
    my $second = $sidecar->pid;
    alarm 30;
    $sidecar->shutdown;
    alarm 0;
    ok gone($second), 'SIGCHLD reaper: shutdown ends it';
    is $sidecar->pid, undef, 'SIGCHLD reaper: forgotten';
}

{
    my $fake  = Sympa::SMIME::Sidecar->new(java => fake_java(), timeout => 1);
    my $pid   = $fake->call('test.echo')->{pid};
    my $error = error_of(sub { $fake->call('test.exit') });
    is ref $error && $error->reason, 'sidecar_unavailable',
        'SIGCHLD reaper: a sidecar that exits twice: sidecar_unavailable';
    ok gone($pid), 'SIGCHLD reaper: the first one is gone';
    $pid = $fake->call('test.echo')->{pid};
    alarm 30;
    $error = error_of(sub { $fake->call('test.hang') });
    alarm 0;
    is ref $error && $error->reason, 'timeout', 'SIGCHLD reaper: timeout';
    ok wait_gone($pid), 'SIGCHLD reaper: the hanging one is killed';
    is $fake->call('test.echo', {n => 5})->{params}{n}, 5,
        'SIGCHLD reaper: and replaced';
    $fake->shutdown;
}

{
    local $ENV{SYMPA_SMIME_FAKE} = 'crash';
    my $fake  = Sympa::SMIME::Sidecar->new(java => fake_java());
    my $error = error_of(sub { $fake->call('service.version') });
    like $error, qr/fake sidecar cannot start/,
        'SIGCHLD reaper: the last words of a sidecar that cannot start';
}

# A signal handler of the host that dies (an alarm around the call) leaves
# a request without its answer: the next call starts a new sidecar.
{
    my $fake = Sympa::SMIME::Sidecar->new(java => fake_java());
    my $pid  = $fake->call('test.echo')->{pid};
    my $error;
    {
        local $SIG{ALRM} = sub { die "host timeout\n" };
        Time::HiRes::alarm(0.3);
        $error = error_of(sub { $fake->call('test.hang') });
        alarm 0;
    }
    is $error, "host timeout\n", 'die in a signal handler: goes through';
    @logged = ();
    my $echo = $fake->call('test.echo', {n => 6});
    is $echo->{params}{n}, 6, 'die in a signal handler: the next call works';
    isnt $echo->{pid},     $pid, 'die in a signal handler: on a new sidecar';
    ok gone($pid), 'die in a signal handler: the old one is killed';
    ok( (   grep {/sidecar: previous call was interrupted; restarting/}
                @logged
        ),
        'die in a signal handler: logged'
    ) or diag explain \@logged;
    $fake->shutdown;
}

# Signals that interrupt every wait: a timer firing every 20 ms.
$SIG{ALRM} = sub { };
Time::HiRes::setitimer(Time::HiRes::ITIMER_REAL(), 0.02, 0.02);

{
    my $sidecar = Sympa::SMIME::Sidecar->new;
    my $payload = 'x' x (1 << 20);
    my @answers = $sidecar->call_many(
        [map { ['service.echo', {data_b64 => $payload}] } 1 .. 8]);
    is scalar(grep { ($_->{result}{data_b64} // '') eq $payload } @answers),
        8, 'EINTR: every answer of a batch of 1 MiB requests';
    $sidecar->shutdown;
}

{
    local $ENV{SYMPA_SMIME_FAKE} = 'lastwords';
    my $fake = Sympa::SMIME::Sidecar->new(java => fake_java());
    my $pid  = $fake->call('test.echo')->{pid};
    @logged = ();
    $fake->shutdown;
    ok gone($pid), 'EINTR: shutdown ends it, no zombie';
    ok( (grep {/sidecar: fake sidecar: last words/} @logged),
        'EINTR: what it says on stderr while it exits is logged'
    ) or diag explain \@logged;
}

{
    local $ENV{SYMPA_SMIME_FAKE} = 'crash';
    my $fake  = Sympa::SMIME::Sidecar->new(java => fake_java());
    my $error = error_of(sub { $fake->call('service.version') });
    like $error, qr/fake sidecar cannot start/,
        'EINTR: the last words of a sidecar that cannot start';
}

Time::HiRes::setitimer(Time::HiRes::ITIMER_REAL(), 0);

done_testing;
