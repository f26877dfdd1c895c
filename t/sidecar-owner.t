# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# ps tells the sidecars apart: each one's command line carries
# -Dsympa.smime.owner=PROGRAM/PID of the process it belongs to, and the
# sidecar a forked child starts for itself names the child.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use Test::More;
use SidecarTest qw(require_jar gone);

plan skip_all => 'no /proc' unless -d '/proc/self';
$ENV{SYMPA_SMIME_JAR} = require_jar();
require Sympa::SMIME::Sidecar;

sub cmdline {
    my $pid = shift;
    open my $fh, '<', "/proc/$pid/cmdline" or return [];
    local $/;
    return [split /\0/, scalar <$fh>];
}

my $program = 'sidecar-owner.t';
my $sidecar = Sympa::SMIME::Sidecar->instance;
is $sidecar->call('service.version')->{name}, 'sympa-smime', 'a sidecar runs';
my $parent_sidecar = $sidecar->pid;
my $argv           = cmdline($parent_sidecar);
is $argv->[1], "-Dsympa.smime.owner=$program/$$",
    'its command line names this program and pid, right after java';
is scalar(grep {/^-Dsympa\.smime\.owner=/} @$argv), 1, 'once';

# A forked child, as bulk.pl's workers are.
pipe my $read, my $write or die $!;
my $child = fork // die "fork: $!";
unless ($child) {
    close $read;
    my $ok   = eval { $sidecar->call('service.version'); 1 };
    my $pid  = $sidecar->pid // 0;
    my @args = @{cmdline($pid)};
    print $write join("\t", ($ok ? 1 : 0), $pid, $$, @args), "\n";
    close $write;
    $sidecar->shutdown;
    exit 0;
}
close $write;
my ($ok, $pid, $child_pid, @child_argv) = split /\t/, scalar(<$read>) // '';
chomp @child_argv;
waitpid $child, 0;
is $ok,        1,               'the child calls';
isnt $pid,     $parent_sidecar, 'on a sidecar of its own';
is $child_pid, $child,          'child pid reported';
is $child_argv[1], "-Dsympa.smime.owner=$program/$child",
    "the child's sidecar names the child";
is cmdline($parent_sidecar)->[1], "-Dsympa.smime.owner=$program/$$",
    "the parent's sidecar still names the parent";
is $sidecar->pid, $parent_sidecar, 'and the parent keeps it';

# Odd characters in a program name do not make odd arguments.
{
    local $0 = '/usr/lib/cgi-bin/sympa/wws ympa;x.fcgi';
    is Sympa::SMIME::Sidecar::owner_option(),
        "-Dsympa.smime.owner=wws_ympa_x.fcgi/$$",
        'the base name, other characters as _';
}

$sidecar->shutdown;
ok gone($parent_sidecar), 'stopped';
done_testing();
