# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Which failures mean that the sidecar cannot run (cannot_run, on which the
# shim may fall back to Crypt::SMIME) and which concern the call: a sidecar
# that dies handling a request, and whose restarted successor answers a
# question of the client's own, was killed by the request.  A sidecar that
# cannot run is not started again for $RETRY_AFTER seconds.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw();
use SidecarTest qw(require_jar fake_java capture_syslog);

$ENV{SYMPA_SMIME_JAR} = require_jar();
require Sympa::SMIME::Sidecar;
my $syslog = capture_syslog();

sub error_of {
    my $code = shift;
    return eval { $code->(); undef } || $@;
}

# The lines the client logged, debug ones aside.
sub logged {
    return map {"$_->[0] $_->[1]"} grep { $_->[0] !~ /^debug/ } @$syslog;
}

# Killed by the request: not cannot_run, one err line for the first death.
{
    my $fake = Sympa::SMIME::Sidecar->new(java => fake_java());
    @$syslog = ();
    my $error = error_of(sub { $fake->call('test.exit') });
    is ref $error && $error->reason, 'sidecar_unavailable',
        'killed by the request: sidecar_unavailable';
    ok !$error->cannot_run, 'killed by the request: not cannot_run';
    like $error->message,
        qr/failed: .*exited with status 3 \(after one restart\)/,
        'says how';
    is scalar(grep {/\Aerr sidecar: .* restarting it\z/} logged()), 1,
        'the first death logged at err once the new one answered';
    is $fake->call('test.echo', {a => 1})->{params}{a}, 1,
        'and the next call runs at once';
    $fake->shutdown;
}

# A JVM that does not start: cannot_run, and no new try for a while.
{
    local $ENV{SYMPA_SMIME_FAKE} = 'crash';
    no warnings qw(once);
    local $Sympa::SMIME::Sidecar::RETRY_AFTER = 2;
    my $fake = Sympa::SMIME::Sidecar->new(java => fake_java());
    @$syslog = ();
    my $error = error_of(sub { $fake->call('service.version') });
    ok $error->cannot_run, 'dies at start: cannot_run';
    like $error->message,
        qr/does not run: .*exited with status 1.*fake sidecar cannot start/,
        'says it does not run, how it ended and its last words';
    is_deeply [grep {/\Aerr /} logged()], [],
        'no err line, not even its words: the caller logs the error, which quotes them';
    is
        scalar(grep {/\Ainfo sidecar: Error: fake sidecar cannot start/}
            logged()), 2, 'its words at info';
    my $starts = grep {/fake sidecar cannot start/} logged();
    is $starts, 2, 'two starts: the first, and the one asked service.version';

    @$syslog = ();
    my $again = error_of(sub { $fake->call('service.version') });
    ok $again->cannot_run, 'within RETRY_AFTER: cannot_run';
    is "$again", "$error", 'the same error';
    is scalar(grep {/fake sidecar cannot start/} logged()), 0, 'and no start';

    Time::HiRes::sleep(2.2);
    @$syslog = ();
    error_of(sub { $fake->call('service.version') });
    ok scalar(grep {/fake sidecar cannot start/} logged()),
        'after RETRY_AFTER: started again';
}

# Missing java or jar: cannot_run, at once.
foreach my $case (
    [java => '/no/such/java', qr/java not found/],
    [jar  => '/no/such.jar',  qr/jar not found/],
) {
    my ($key, $value, $why) = @$case;
    my $sidecar = Sympa::SMIME::Sidecar->new($key => $value);
    my $error   = error_of(sub { $sidecar->call('service.version') });
    ok $error->cannot_run, "$key missing: cannot_run";
    like $error->message, $why, "$key missing: says so";
}

# Refusals and timeouts are answers about the call.
{
    my $sidecar = Sympa::SMIME::Sidecar->new;
    my $error   = error_of(
        sub {
            $sidecar->call('x509.parse', {pem => "not a certificate\n"});
        }
    );
    is ref $error && $error->reason, 'bad_certificate', 'a refusal ...';
    ok !$error->cannot_run, '... is not cannot_run';
    $sidecar->shutdown;

    local $ENV{SYMPA_SMIME_FAKE} = 'hang';
    my $fake =
        Sympa::SMIME::Sidecar->new(java => fake_java(), timeout => 0.5);
    $error = error_of(sub { $fake->call('service.version') });
    is ref $error && $error->reason, 'timeout', 'a timeout ...';
    ok !$error->cannot_run, '... is not cannot_run';
}

done_testing();
