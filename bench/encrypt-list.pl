#!/usr/bin/perl
# Side-by-side benchmark of the per-subscriber re-encryption Sympa does for an
# encrypted list: Crypt::SMIME (the engine we replace) against the sidecar,
# called one recipient at a time as the shim does, and pipelined.
#
#   perl bench/encrypt-list.pl [--recipients 1000] [--certs 20] [--size 20000]
#
# Prints one line per engine: total seconds, milliseconds per copy, copies per
# second, and the sidecar's resident memory.  Not a test: numbers depend on
# the machine; run it on an idle one and compare the lines with each other.
use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/../perl/lib", "$Bin/../t/lib";
use File::Temp qw(tempdir);
use Getopt::Long;
use Time::HiRes qw(time);
use Sympa::SMIME::Sidecar;
use TestPKI;

my %opt = (recipients => 1000, certs => 20, size => 20000, batch => 64);
GetOptions(\%opt, 'recipients=i', 'certs=i', 'size=i', 'batch=i')
    or die "usage: $0 [--recipients N] [--certs N] [--size BYTES]\n";

my $dir = tempdir(CLEANUP => 1);

my $pki = TestPKI->new($dir);
$pki->issue('ca', subject => '/CN=Bench CA', days => 30);
my @certs = map {
    $pki->issue(
        "user$_",
        issuer  => 'ca',
        subject => "/CN=user$_/emailAddress=user$_\@example.org",
        days    => 30
    )->{cert}
} 1 .. $opt{certs};

my $body = join '',
    map { sprintf "Line %05d of the post, plain text.\n", $_ }
    1 .. int($opt{size} / 36);
my $entity = "Content-Type: text/plain; charset=utf-8\n"
    . "Content-Transfer-Encoding: 8bit\n\n$body";
my @recipients = map { $certs[$_ % @certs] } 0 .. $opt{recipients} - 1;

printf "%d copies of a %d-byte post, %d distinct RSA-2048 recipients\n",
    scalar @recipients, length $entity, scalar @certs;
printf "%-34s %9s %10s %10s %10s\n", 'engine', 'total s', 'ms/copy',
    'copies/s',
    'RSS MiB';

if (eval { require Crypt::SMIME; 1 }) {
    my $start = time;
    foreach my $certfile (@recipients) {
        # As Sympa 6.2.70 does it: read the file, new object, encrypt.
        open my $fh, '<', $certfile or die $!;
        my $pem = do { local $/; <$fh> };
        close $fh;
        my $smime = Crypt::SMIME->new;
        $smime->setPublicKey($pem);
        my $out = $smime->encrypt($entity);
        die 'empty' unless length $out;
    }
    report('Crypt::SMIME (per copy)', time - $start, '-');
} else {
    print "Crypt::SMIME not installed: skipped\n";
}

my $sidecar = Sympa::SMIME::Sidecar->instance;
my $b64     = Sympa::SMIME::Sidecar::encode_bytes($entity);
$sidecar->call('service.version');    # JVM start is not part of the run
# Warm the JIT as a long-running daemon would be.
$sidecar->call('smime.encrypt',
    {entity_b64 => $b64, recipients => [{path => $_}]})
    foreach @recipients[0 .. ($#recipients < 199 ? $#recipients : 199)];

my $start = time;
foreach my $certfile (@recipients) {
    my $result = $sidecar->call('smime.encrypt',
        {entity_b64 => $b64, recipients => [{path => $certfile}]});
    die 'empty' unless length $result->{message_b64};
}
report('sidecar (per copy, as the shim)', time - $start, rss($sidecar->pid));

$start = time;
my @left = @recipients;
while (my @batch = splice @left, 0, $opt{batch}) {
    my @answers = $sidecar->call_many(
        [   map {
                [   'smime.encrypt',
                    {entity_b64 => $b64, recipients => [{path => $_}]}
                ]
            } @batch
        ]
    );
    foreach my $answer (@answers) {
        die $answer->{error}->as_string if $answer->{error};
    }
}
report(
    "sidecar (pipelined by $opt{batch})",
    time - $start,
    rss($sidecar->pid)
);

sub report {
    my ($name, $seconds, $rss) = @_;
    printf "%-34s %9.2f %10.3f %10.0f %10s\n", $name, $seconds,
        1000 * $seconds / @recipients, @recipients / $seconds, $rss;
}

sub rss {
    my $pid = shift;
    open my $fh, '<', "/proc/$pid/status" or return '?';
    while (<$fh>) {
        return sprintf '%.0f', $1 / 1024 if /^VmRSS:\s+(\d+)/;
    }
    return '?';
}
