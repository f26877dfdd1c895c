# The client passes the class-data-sharing archive next to the jar to the
# JVM when there is one, and the sidecar starts and answers with it, without
# it, and with one the JVM cannot use (made for another jar, or damaged):
# nothing but answers reaches stdout, and no error is logged.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use Test::More;
use SidecarTest qw(require_jar capture_syslog);

my $built = require_jar();
require Sympa::SMIME::Sidecar;
my $syslog = capture_syslog();

# A jar of our own, so that its archive can be made, damaged and removed.
my $dir     = tempdir(CLEANUP => 1);
my $jar     = "$dir/sympa-smime.jar";
my $archive = "$dir/sympa-smime.jsa";
copy($built, $jar) or die "$jar: $!";
is(Sympa::SMIME::Sidecar->archive_of($jar),
    $archive, 'the archive is next to the jar');

# Starts a sidecar, returns its answer to service.version, the JVM options
# it was given and whether it mapped the archive.
sub start {
    my $sidecar = Sympa::SMIME::Sidecar->new(jar => $jar);
    @$syslog = ();
    my $answer = eval { $sidecar->call('service.version') };
    my $pid    = $sidecar->pid;
    open my $cmd, '<', "/proc/$pid/cmdline" or die $!;
    my @args = split /\0/, do { local $/; <$cmd> };
    open my $maps, '<', "/proc/$pid/maps" or die $!;
    my $mapped = grep {/\Q$archive\E/} <$maps>;
    $sidecar->shutdown;
    return ($answer, \@args, $mapped);
}

sub errors {
    return [map { $_->[1] } grep { $_->[0] eq 'err' } @$syslog];
}

my ($answer, $args, $mapped) = start();
is($answer && $answer->{name}, 'sympa-smime', 'no archive: answers');
ok(!(grep {/SharedArchiveFile/} @$args), 'no archive: none passed');
is_deeply(errors(), [], 'no archive: no error');

system(   "java -XX:ArchiveClassesAtExit=$archive -Xlog:disable -jar $jar"
        . ' version >/dev/null 2>&1') == 0
    or BAIL_OUT('java cannot make an archive');
($answer, $args, $mapped) = start();
is($answer && $answer->{name}, 'sympa-smime', 'archive: answers');
ok((grep { $_ eq "-XX:SharedArchiveFile=$archive" } @$args),
    'archive: passed');
ok((grep { $_ eq '-Xshare:auto' } @$args),
    'archive: optional (-Xshare:auto)');
ok($mapped, 'archive: mapped by the JVM');
is_deeply(errors(), [], 'archive: no error');

# Made for another jar: the JVM warns on stderr and goes on.
utime time + 10, time + 10, $jar or die $!;
($answer, $args, $mapped) = start();
is($answer && $answer->{name}, 'sympa-smime', 'stale archive: answers');
ok(!$mapped, 'stale archive: not used');
is_deeply(errors(), [], 'stale archive: no error');

open my $fh, '>', $archive or die $!;
print $fh "not an archive\n";
close $fh;
($answer, $args, $mapped) = start();
is($answer && $answer->{name}, 'sympa-smime', 'damaged archive: answers');
is_deeply(errors(), [], 'damaged archive: no error');

done_testing;
