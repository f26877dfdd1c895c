# Helpers shared by the t/sidecar-*.t tests.
package SidecarTest;

use strict;
use warnings;
use Cwd      qw();
use Exporter qw(import);
use FindBin;
use Test::More;

use Prerequisite qw(missing);

our @EXPORT_OK = qw($ROOT jar require_jar fake_java gone zombie perl_with_lib
    capture_syslog);

our $ROOT = Cwd::abs_path("$FindBin::Bin/..");

# The tests must not depend on the settings of the machine they run on.
delete $ENV{$_}
    foreach grep { /^SYMPA_SMIME_/ and $_ ne 'SYMPA_SMIME_JAR' } keys %ENV;
$ENV{SYMPA_SMIME_CONFIG} = '/dev/null';

sub jar {
    return $ENV{SYMPA_SMIME_JAR} || "$ROOT/target/sympa-smime.jar";
}

sub require_jar {
    my $jar = jar();
    missing(
        "sidecar jar not built: $jar is missing (run mvn -B -q -DskipTests package, or set SYMPA_SMIME_JAR)"
    ) unless -f $jar;
    missing('java is not installed')
        unless grep { -x "$_/java" } split /:/, $ENV{PATH};
    return $jar;
}

# Makes Sympa::Log look loaded, as inside Sympa, and returns the arrayref
# its lines go to: [level, text] each.
sub capture_syslog {
    my @syslog;
    no warnings qw(once redefine);
    *Sympa::Log::instance = sub { bless {}, 'Sympa::Log' };
    *Sympa::Log::syslog   = sub {
        my ($self, $level, $format, @args) = @_;
        push @syslog, [$level, sprintf $format, @args];
    };
    return \@syslog;
}

sub fake_java { return "$ROOT/t/lib/fake-java" }

# A process is gone when the kernel no longer lists it; a zombie is still
# listed, and is a failure to reap.
sub gone {
    my $pid = shift;
    return !-e "/proc/$pid" if -d '/proc/self';
    return !kill 0, $pid;
}

sub zombie {
    my $pid = shift;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh>;
    return $stat =~ /\)\s+Z\s/ ? 1 : 0;
}

# Command prefix to run a Perl one-liner with the module under test.
sub perl_with_lib {
    return ($^X, "-I$ROOT/perl/lib", "-I$ROOT/t/lib");
}

1;
