# A sidecar that dies, or talks nonsense, is replaced once per call.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use Test::More;
use SidecarTest qw(require_jar fake_java gone zombie);

my $jar = require_jar();
$ENV{SYMPA_SMIME_JAR} = $jar;
require Sympa::SMIME::Sidecar;

my @logged;
$SIG{__WARN__} = sub { push @logged, $_[0] };

sub error_of {
    my $code = shift;
    return eval { $code->(); undef } || $@;
}

# The real sidecar killed under our feet.
my $sidecar = Sympa::SMIME::Sidecar->new;
is($sidecar->call('service.version')->{name}, 'sympa-smime', 'first call');
my $first = $sidecar->pid;
kill 'KILL', $first;
is($sidecar->call('service.version')->{name},
    'sympa-smime', 'call after kill -9 succeeds');
my $second = $sidecar->pid;
ok($second && $second != $first, "new sidecar ($first -> $second)");
ok(gone($first),                 'the killed one was reaped, no zombie');

# Killed while a request is on its way: the request is sent again.
kill 'KILL', $second;
my @answers = $sidecar->call_many([map { ['service.health'] } 1 .. 10]);
is(scalar(grep { $_->{result} && $_->{result}{status} eq 'ok' } @answers),
    10, 'batch after kill -9 fully answered');
isnt($sidecar->pid, $second, 'on a new sidecar');
$sidecar->shutdown;

# A sidecar that exits while it handles the request.
{
    my $fake  = Sympa::SMIME::Sidecar->new(java => fake_java());
    my $error = error_of(
        sub {
            $fake->call('test.exit', {pad => 'z' x (4 * 1024 * 1024)});
        }
    );
    is(ref $error && $error->reason,
        'sidecar_unavailable', 'dies twice: sidecar_unavailable');
    like($error->message, qr/exited with status 3/, 'says how it ended');
    like($error->message, qr/after one restart/, 'after exactly one retry');
    is($error->code, 0,     'client error code 0');
    is($fake->pid,   undef, 'no sidecar left');
    my $echo = $fake->call('test.echo', {a => 1});
    is($echo->{params}{a}, 1, 'next call starts a working one');
    ok(!gone($echo->{pid}), 'running');
    $fake->shutdown;
    ok(gone($echo->{pid}), 'and reaped by shutdown');
}

# A sidecar that cannot start at all.
{
    local $ENV{SYMPA_SMIME_FAKE} = 'crash';
    my $fake = Sympa::SMIME::Sidecar->new(java => fake_java());
    # 4 MB to a process that exits without reading: the write fails with
    # EPIPE, and SIGPIPE must not kill us.
    my $error = error_of(
        sub { $fake->call('service.version', {pad => 'p' x (4 << 20)}) });
    is(ref $error && $error->reason, 'sidecar_unavailable', 'crash at start');
    like(
        $error->message,
        qr/cannot write to its stdin|closed its stdout/,
        'write failure or EOF noticed'
    );
    like(
        $error->message,
        qr/fake sidecar cannot start/,
        'its last stderr line is in the message'
    );
    ok((grep {/sidecar: Error: fake sidecar cannot start/} @logged),
        'and in the log');
    my @many = $fake->call_many([['a'], ['b']]);
    is_deeply(
        [map { $_->{error} && $_->{error}->reason } @many],
        ['sidecar_unavailable', 'sidecar_unavailable'],
        'call_many does not die, one error each'
    );
}

# Garbage on stdout: the stream cannot be trusted, the sidecar is killed.
{
    local $ENV{SYMPA_SMIME_FAKE} = 'garbage';
    my $fake  = Sympa::SMIME::Sidecar->new(java => fake_java());
    my $error = error_of(sub { $fake->call('service.version') });
    is(ref $error && $error->reason, 'sidecar_unavailable', 'garbage');
    like($error->message, qr/not JSON-RPC/,       'says so');
    like($error->message, qr/killed by signal 9/, 'it was killed');
}
{
    my $fake  = Sympa::SMIME::Sidecar->new(java => fake_java());
    my $pid   = $fake->call('test.echo')->{pid};
    my @mixed = $fake->call_many([['test.echo', {n => 1}], ['test.garbage']]);
    is($mixed[0]{result}{params}{n}, 1, 'answer before the garbage kept');
    is($mixed[1]{error} && $mixed[1]{error}->reason,
        'sidecar_unavailable', 'garbage twice: unavailable');
    ok(gone($pid), 'garbling sidecar killed and reaped');
    $fake->shutdown;
}

# A valid answer to a request that was not sent: the sidecar mixes its
# answers up, so none of them can be trusted.
{
    my $fake = Sympa::SMIME::Sidecar->new(java => fake_java(), timeout => 30);
    my $pid  = $fake->call('test.echo')->{pid};
    my $error = error_of(sub { $fake->call('test.wrongid') });
    is(ref $error && $error->reason,
        'sidecar_unavailable', 'an answer to another id: unavailable');
    like($error->message, qr/it answered id \d+, which was not asked/,
        'says so');
    ok(gone($pid), 'that sidecar was killed and reaped');
    my @mixed =
        $fake->call_many([['test.echo', {n => 1}], ['test.wrongid']]);
    is($mixed[0]{result}{params}{n}, 1, 'the good answer of a batch kept');
    $fake->shutdown;
}

done_testing;
