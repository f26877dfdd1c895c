# The sidecar's stderr goes to Sympa's log (or warn), never blocks it, and
# request params never appear in the log.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use Test::More;
use SidecarTest qw(require_jar fake_java);

my $jar = require_jar();
$ENV{SYMPA_SMIME_JAR} = $jar;
require Sympa::SMIME::Sidecar;

my $secret = 'S3cret-Passw0rd-' . $$;
my @warned;
$SIG{__WARN__} = sub { push @warned, $_[0] };

# 2 MB on stderr before the answer: far more than a pipe holds, so the
# sidecar would block for ever if stderr were not read while we wait.
my $fake   = Sympa::SMIME::Sidecar->new(java => fake_java(), timeout => 30);
my $answer = $fake->call('test.stderr',
    {lines => 2000, size => 1000, key_passwd => $secret});
is($answer->{params}{lines}, 2000, 'answer arrives despite a chatty stderr');
my @lines = grep {/^sidecar: line \d+ x+$/} @warned;
is(scalar @lines, 2000, 'every stderr line relayed through warn');
like($lines[0],  qr/^sidecar: line 1 x{1000}\n\z/, 'one warn per line');
like($lines[-1], qr/^sidecar: line 2000 /,         'in order');

# Inside Sympa, lines go to Sympa::Log at err or info.
my @syslog;
{
    no warnings 'once';
    *Sympa::Log::instance = sub { bless {}, 'Sympa::Log' };
    *Sympa::Log::syslog   = sub {
        my ($self, $level, $format, @args) = @_;
        push @syslog, [$level, sprintf $format, @args];
    };
}
@warned = ();
$fake->call('test.stderr', {lines => 2, size => 3, key_passwd => $secret});
is_deeply(
    \@syslog,
    [   ['info', 'sidecar: line 1 xxx'],
        ['info', 'sidecar: line 2 xxx'],
        [   'err',
            'sidecar: sympa-smime: error method=test.stderr reason=test: done'
        ],
    ],
    'Sympa::Log used when loaded: "error" lines at err, others at info'
);
is_deeply(\@warned, [], 'no warn then');
$fake->shutdown;

# The real sidecar: its error line reaches the log, not the params.
my $real  = Sympa::SMIME::Sidecar->new;
my $error = eval {
    $real->call('no.such.method', {key_passwd => $secret, key => '/k'});
    undef;
} || $@;
is($error->reason, 'unknown_method', 'real sidecar error');
ok( (   grep { $_->[0] eq 'debug' and $_->[1] =~ /reason=unknown_method/ }
            @syslog
    ),
    'its per-request stderr line logged at debug: the caller logs the failure'
);
ok( !(  grep { $_->[0] eq 'err' and $_->[1] =~ /reason=unknown_method/ }
        @syslog
    ),
    'and not a second time at err'
);
# And the failures the client reports itself.
my $crash = Sympa::SMIME::Sidecar->new(java => fake_java());
eval { $crash->call('test.exit', {key_passwd => $secret}) };
unlike("$@", qr/\Q$secret\E/, 'error message carries no params');

my @everything = ((map { $_->[1] } @syslog), @warned, "$error");
ok(@everything > 5, 'something was logged');
is((grep {/\Q$secret\E/} @everything), 0, 'the password appears nowhere');
$real->shutdown;

done_testing;
