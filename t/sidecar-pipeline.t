# call_many: pipelining, answers out of order, errors in a batch, answers
# the sidecar cannot tie to a request.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use Test::More;
use SidecarTest qw(require_jar fake_java);

my $jar = require_jar();
$ENV{SYMPA_SMIME_JAR} = $jar;
require Sympa::SMIME::Sidecar;

my $sidecar = Sympa::SMIME::Sidecar->new;

# 100 requests in flight at once, mixed with failures.
my @requests = map {
    $_ % 10 == 7
        ? ['no.such.method', {n => $_}]
        : [($_ % 2 ? 'service.health' : 'service.version'), {n => $_}]
} 0 .. 99;
my @answers;
{
    local $SIG{__WARN__} = sub { };    # the sidecar logs the 10 failures
    @answers = $sidecar->call_many(\@requests);
}
is(scalar @answers, 100, '100 answers');
my $pid = $sidecar->pid;
my $bad = 0;
for my $n (0 .. 99) {
    my $answer = $answers[$n];
    my $ok =
        $n % 10 == 7 ? ($answer->{error}
            && $answer->{error}->reason eq 'unknown_method'
            && !exists $answer->{result})
        : $n % 2 ? ($answer->{result} && $answer->{result}{status} eq 'ok')
        :   ($answer->{result} && $answer->{result}{name} eq 'sympa-smime');
    $bad++                     unless $ok;
    diag explain [$n, $answer] unless $ok;
}
is($bad, 0, 'every answer matches its request, in request order');

my $answers = $sidecar->call_many([['service.version']]);
is(ref $answers,                'ARRAY',       'arrayref in scalar context');
is($answers->[0]{result}{name}, 'sympa-smime', 'batch of one');
is_deeply([$sidecar->call_many([])], [], 'empty batch');
is($sidecar->pid, $pid, 'all on the same sidecar');
$sidecar->shutdown;

# A line over the sidecar's limit is answered too_large, with its id since
# the client sends the id first (with id null, one request per line would
# still tell the client which request it was).
my $small = Sympa::SMIME::Sidecar->new(
    java_opts => '-Dsympa.smime.maxLineBytes=2000');
my @mixed;
{
    local $SIG{__WARN__} = sub { };
    @mixed = $small->call_many(
        [   ['service.version', {}],
            ['service.version', {pad => 'x' x 5000}],
            ['service.health',  {}],
        ]
    );
}
is($mixed[0]{result}{name},  'sympa-smime', 'small request answered');
is($mixed[1]{error}->reason, 'too_large',   'oversized request: too_large')
    or diag explain $mixed[1];
is($mixed[2]{result}{status}, 'ok', 'next request answered');
my $error = do {
    local $SIG{__WARN__} = sub { };
    eval { $small->call('service.version', {pad => 'y' x 5000}) };
    $@;
};
is(ref $error && $error->reason, 'too_large', 'call dies with too_large');
$small->shutdown;

# Answers coming last first are put back in order.
{
    local $ENV{SYMPA_SMIME_FAKE}   = 'reverse';
    local $ENV{SYMPA_SMIME_FAKE_N} = 20;
    my $fake = Sympa::SMIME::Sidecar->new(java => fake_java());
    my @reversed =
        $fake->call_many([map { ["test.n$_", {n => $_}] } 1 .. 20]);
    is_deeply(
        [map { $_->{result}{params}{n} } @reversed],
        [1 .. 20],
        'out-of-order answers matched by id'
    );
    $fake->shutdown;
}

done_testing;
