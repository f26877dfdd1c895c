# A forked child gets its own sidecar and leaves its parent's alone.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use Test::More;
use SidecarTest qw(require_jar gone zombie);

my $jar = require_jar();
$ENV{SYMPA_SMIME_JAR} = $jar;
require Sympa::SMIME::Sidecar;

my $sidecar = Sympa::SMIME::Sidecar->instance;
is($sidecar->call('service.version')->{name}, 'sympa-smime', 'parent call');
my $parent_sidecar = $sidecar->pid;

# Runs $code in a child; returns its exit status and what it printed.
sub in_child {
    my $code = shift;
    pipe my $reader, my $writer or die "pipe: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    unless ($pid) {
        close $reader;
        my $said = eval { $code->() };
        $said = "died: $@" unless defined $said;
        print $writer $said;
        close $writer;
        exit 0;
    }
    close $writer;
    my $said = do { local $/; <$reader> };
    waitpid $pid, 0;
    return ($? >> 8, $said);
}

my ($status, $said) = in_child(
    sub {
        my $child    = Sympa::SMIME::Sidecar->instance;
        my $pid_seen = defined $child->pid ? $child->pid : 'undef';
        my $name     = $child->call('service.version')->{name};
        my $again    = $child->call('service.health')->{status};
        return join ' ', $pid_seen, $name, $again, $child->pid;
    }
);
is($status, 0, 'child exited normally');
my ($pid_seen, $name, $again, $child_sidecar) = split ' ', $said;
is($pid_seen, 'undef', 'the child does not see its parent sidecar as its own')
    or diag $said;
is("$name $again", 'sympa-smime ok', 'calls work in the child');
ok($child_sidecar && $child_sidecar != $parent_sidecar,
    "child has its own sidecar ($child_sidecar, parent $parent_sidecar)");
ok(gone($child_sidecar), "child's sidecar reaped when the child exited");

ok(!gone($parent_sidecar) && !zombie($parent_sidecar),
    'parent sidecar still running');
is($sidecar->call('service.version')->{name},
    'sympa-smime', 'parent call after the child');
is($sidecar->pid, $parent_sidecar, 'parent sidecar pid unchanged');

# A child that never calls, exits through END, and one that is killed: the
# parent's sidecar must not notice.
($status) = in_child(sub {'nothing'});
is($status, 0, 'idle child exited');
{
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    unless ($pid) {
        kill 'KILL', $$;
    }
    waitpid $pid, 0;
}
($status, $said) = in_child(sub { die "child failure\n" });
like($said, qr/child failure/, 'child that dies');
is($sidecar->call('service.health')->{status},
    'ok', 'parent sidecar answers after children exit');
is($sidecar->pid, $parent_sidecar, 'still the same sidecar');

done_testing;
