# No sidecar outlives its client, no zombie is left, and the exit status of
# the program is untouched.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use Test::More;
use SidecarTest qw(require_jar fake_java gone zombie perl_with_lib);

my $jar = require_jar();
$ENV{SYMPA_SMIME_JAR} = $jar;
require Sympa::SMIME::Sidecar;

# Object going out of scope.
my $pid;
{
    my $sidecar = Sympa::SMIME::Sidecar->new;
    $sidecar->call('service.version');
    $pid = $sidecar->pid;
    ok(!gone($pid), "running ($pid)");
}
ok(gone($pid),    'gone once the object is destroyed');
ok(!zombie($pid), 'not a zombie');
is(waitpid($pid, POSIX::WNOHANG()), -1, 'already reaped');

# A sidecar that ignores the end of its input is killed after the grace
# period.
{
    local $ENV{SYMPA_SMIME_FAKE} = 'deaf';
    no warnings 'once';
    local $Sympa::SMIME::Sidecar::REAP_GRACE = 1;
    my $deaf     = Sympa::SMIME::Sidecar->new(java => fake_java());
    my $deaf_pid = $deaf->call('test.echo')->{pid};
    $deaf->shutdown;
    ok(gone($deaf_pid), 'deaf sidecar killed after the grace period');
}

# At exit (END), with the program's exit status kept.
for my $case (
    ['exit 7',                                              7],
    ['open STDERR, ">", "/dev/null"; $! = 0; die "boom\n"', 255],
    ['0',                                                   0]
) {
    my ($end, $expected) = @$case;
    my $script =
          'use Sympa::SMIME::Sidecar; $| = 1;'
        . ' my $s = Sympa::SMIME::Sidecar->instance;'
        . ' $s->call("service.version"); print $s->pid, "\n";'
        . $end;
    open my $child, '-|', perl_with_lib(), '-e', $script
        or die "cannot run perl: $!";
    my $child_sidecar = <$child>;
    close $child;
    my $status = $? >> 8;
    chomp $child_sidecar if defined $child_sidecar;
    ok($child_sidecar, "script ending with '$end' ran a sidecar");
    is($status, $expected, 'exit status kept');
    ok( $child_sidecar && gone($child_sidecar),
        'its sidecar was reaped before it exited'
    );
}

done_testing;
