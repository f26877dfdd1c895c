# A sidecar that does not answer in time is killed; the next call gets a
# new one.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use Test::More;
use SidecarTest qw(fake_java gone);
use Sympa::SMIME::Sidecar;

my @logged;
$SIG{__WARN__} = sub { push @logged, $_[0] };

# Safety net: a broken timeout must fail the test, not hang it.
$SIG{ALRM} = sub { die "test hung: the timeout did not fire\n" };

my $sidecar = Sympa::SMIME::Sidecar->new(java => fake_java(), timeout => 1);
my $pid     = $sidecar->call('test.echo')->{pid};

alarm 30;
my $error = eval { $sidecar->call('test.hang'); undef } || $@;
alarm 0;
is(ref $error && $error->reason, 'timeout', 'hanging call dies with timeout')
    or diag $error;
like($error->message, qr/within 1 s/, 'message gives the timeout');
ok(gone($pid), 'hanging sidecar killed and reaped');
is($sidecar->pid, undef, 'forgotten');
ok((grep {/sidecar: no answer from the sidecar \(pid $pid\)/} @logged),
    'logged');

my $echo = $sidecar->call('test.echo', {n => 2});
is($echo->{params}{n}, 2, 'next call works');
isnt($echo->{pid}, $pid, 'with a new process');

# Per-call timeout on an object with the default (60 s).
my $patient = Sympa::SMIME::Sidecar->new(java => fake_java());
is($patient->config->{timeout}, 60, 'default timeout 60 s');
alarm 30;
$error = eval { $patient->call('test.hang', {}, {timeout => 0.5}); undef }
    || $@;
alarm 0;
is(ref $error && $error->reason, 'timeout', 'per-call timeout');

# In a batch, what came before the hang is kept.
alarm 30;
my @answers = $sidecar->call_many(
    [['test.echo', {n => 1}], ['test.hang'], ['test.echo', {n => 3}]]);
alarm 0;
is($answers[0]{result}{params}{n}, 1, 'answer before the hang kept');
is($answers[1]{error} && $answers[1]{error}->reason,
    'timeout', 'hanging request: timeout');
is($answers[2]{error} && $answers[2]{error}->reason,
    'timeout', 'request stuck behind it: timeout');
is($sidecar->call('test.echo', {n => 4})->{params}{n}, 4, 'and recovers');

$sidecar->shutdown;
$patient->shutdown;
done_testing;
