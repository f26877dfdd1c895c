# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# The line a process logs when it has loaded the shim, as a daemon opens its
# log: the shim's version, the program and pid, the jar, java, Sympa's version
# and what happens if the sidecar cannot run; at err when the jar or java is
# missing; and a warning for a Sympa outside the tested versions.  Once per
# process, even though daemons open their log more than once.  No sidecar
# needed.
use strict;
use warnings;
use Test::More;

use lib 't/lib';
use SMIMETest;

# Runs a Sympa-like process with the shim loaded as daemons load it, which
# opens its log twice; $version, when given, is what Sympa::Constants says.
# Returns its log lines, "level message".
sub notice_lines {
    my ($version, %env) = @_;
    my $script = <<'EOF';
use lib $ENV{SYMPA_LIB} || '/usr/share/sympa/lib';
use Sympa::Log;
use Sympa::Message;
no warnings qw(redefine once);
*Sympa::Log::syslog = sub {
    my (undef, $level, $format, @args) = @_;
    printf "%s $format\n", $level, @args;
};
*Sympa::Constants::VERSION = sub () { $ENV{FAKE_SYMPA_VERSION} }
    if $ENV{FAKE_SYMPA_VERSION};
Sympa::Log->instance->openlog('local1', 'native');
Sympa::Log->instance->openlog('local1', 'native');
EOF
    local %ENV = %ENV;
    delete $ENV{$_} foreach grep {/^SYMPA_SMIME_/} keys %ENV;
    %ENV = (
        %ENV,
        PERL5LIB           => "$ROOT/perl/lib",
        PERL5OPT           => '-MSympa::SMIME::Shim',
        SYMPA_SMIME_JAR    => "$ROOT/target/sympa-smime.jar",
        SYMPA_SMIME_CONFIG => '/dev/null',
        (defined $version ? (FAKE_SYMPA_VERSION => $version) : ()),
        %env,
    );
    open my $ph, '-|', $^X, '-e', $script or die "perl: $!";
    my @lines = <$ph>;
    close $ph;
    chomp @lines;
    return @lines;
}

my $java = (grep { -x "$_/java" } split /:/, $ENV{PATH})[0];
plan skip_all => 'java is not in PATH' unless $java;
$java .= '/java';
my $jar = "$ROOT/target/sympa-smime.jar";
plan skip_all => 'the jar is not built' unless -f $jar;

my @lines = notice_lines();
is scalar(@lines), 1, 'one line, although the log was opened twice'
    or diag explain \@lines;
like $lines[0], qr/\Anotice sympa-smime \Q$Sympa::SMIME::Shim::VERSION\E: /,
    'at notice, with the shim version';
like $lines[0], qr/shim loaded in -e \(pid \d+\)/, 'the program and its pid';
like $lines[0], qr/jar \Q$jar\E, /,                'the jar';
like $lines[0], qr/java \Q$java\E, /,              'java, found in PATH';
like $lines[0], qr/Sympa 6\.2\.\d+;/,              'the Sympa version';
like $lines[0],
    qr/if the sidecar cannot run: fall back to Crypt::SMIME \(fallback = auto\)\z/,
    'what happens when the sidecar cannot run';

@lines = notice_lines(undef, SYMPA_SMIME_FALLBACK => 'no');
like $lines[0], qr/if the sidecar cannot run: fail closed \(fallback = no\)/,
    'fallback = no: fail closed';

@lines = notice_lines(undef, SYMPA_SMIME_JAR => "$ROOT/t/tmp/none.jar");
is scalar(@lines), 1, 'missing jar: one line';
like $lines[0], qr/\Aerr .*jar \Q$ROOT\E\/t\/tmp\/none\.jar \(missing\)/,
    'missing jar: at err, says so';

@lines = notice_lines(undef, SYMPA_SMIME_JAVA => 'no-such-java');
like $lines[0], qr/\Aerr .*java "no-such-java" \(not found\)/,
    'java not found: at err, says so';

foreach my $version (qw(6.2.70 6.2.75 6.2.80)) {
    @lines = notice_lines($version);
    is scalar(@lines), 1, "Sympa $version: tested, no warning"
        or diag explain \@lines;
    like $lines[0], qr/Sympa \Q$version\E;/, "Sympa $version: named";
}
foreach my $version (qw(6.2.69 6.2.81 6.3.0 7.0 6.2.72b.1)) {
    @lines = notice_lines($version);
    is scalar(@lines), 2, "Sympa $version: a warning" or diag explain \@lines;
    like $lines[1],
        qr/\Aerr sympa-smime \S+: Sympa \Q$version\E is outside the versions it was tested with \(6\.2\.70 to 6\.2\.80\)/,
        "Sympa $version: says so";
}

done_testing();
