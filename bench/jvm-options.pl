#!/usr/bin/perl
# Compares JVM option sets for the sidecar, through the real client
# (Sympa::SMIME::Sidecar, which adds its fixed safety flags):
#
#   perl bench/jvm-options.pl [--rounds 3] [--calls 1000] [--warm 2000]
#       [--archive target/sympa-smime.jsa] [--only NAME,...]
#
# For each set and round, two fresh sidecars: one answers service.version
# first (spawn to first answer), the other smime.verify (spawn to first
# verify), then runs --calls mixed calls (verify, sign, encrypt and decrypt
# of a 2 KB entity, and an encrypt of a 100 KB one; the cold, short-lived
# process), then --warm more (the warm loop).  Prints, per round: both
# start times in ms, calls per second of both loops, RSS and PSS (MiB)
# after each loop and after 10 s idle.  Sets named "...+cds" use the
# class-data-sharing archive given by --archive (made by the build).
# Not a test: run it on an idle machine, and compare the rounds' spread.
use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/../perl/lib";
use File::Temp qw(tempdir);
use Getopt::Long;
use Time::HiRes qw(time sleep);
use Sympa::SMIME::Sidecar;

my %opt = (
    rounds  => 3,
    calls   => 1000,
    warm    => 2000,
    idle    => 10,
    archive => "$Bin/../target/sympa-smime.jsa",
);
GetOptions(
    \%opt,    'rounds=i',  'calls=i', 'warm=i',
    'idle=i', 'archive=s', 'only=s'
) or die "usage: $0 [--rounds N] [--calls N] [--warm N] [--only A,B]\n";

my $base = '-Xmx512m -XX:+UseSerialGC';
my $cds  = "-XX:SharedArchiveFile=$opt{archive} -Xshare:auto";
my $caps = '-Xss512k -XX:ReservedCodeCacheSize=32m -XX:MaxMetaspaceSize=64m';
my @sets = (
    ['base'         => $base],
    ['xms16'        => "$base -Xms16m"],
    ['xms16+c1'     => "$base -Xms16m -XX:TieredStopAtLevel=1"],
    ['xms16+cds'    => "$base -Xms16m $cds"],
    ['xms16+c1+cds' => "$base -Xms16m -XX:TieredStopAtLevel=1 $cds"],
    [   'xms16+c1+cds+caps' => "$base -Xms16m -XX:TieredStopAtLevel=1 $cds"
            . " $caps -XX:CICompilerCount=1"
    ],
);

if ($opt{only}) {
    my %only = map { $_ => 1 } split /,/, $opt{only};
    @sets = grep { $only{$_->[0]} } @sets;
}
die "no archive $opt{archive}: mvn -B -q -DskipTests package\n"
    if grep({ $_->[0] =~ /cds/ } @sets)
    and not -f $opt{archive};

my $dir = tempdir(CLEANUP => 1);
sub run   { system(@_) == 0 or die "failed: @_\n" }
sub quiet { join ' ', @_, '>/dev/null 2>&1' }
run(
    quiet(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=Bench CA'",
        '-addext basicConstraints=critical,CA:true',
        '-addext keyUsage=critical,keyCertSign,cRLSign',
        "-keyout $dir/ca.key -out $dir/ca.pem"
    )
);
run(
    quiet(
        "openssl req -newkey rsa:2048 -nodes",
        "-subj '/CN=List/emailAddress=list\@example.org'",
        "-keyout $dir/key.pem -out $dir/req.pem"
    )
);
open my $ext, '>', "$dir/ext" or die $!;
print $ext "keyUsage=critical,digitalSignature,keyEncipherment\n"
    . "extendedKeyUsage=emailProtection\n"
    . "subjectAltName=email:list\@example.org\n";
close $ext;
run(
    quiet(
        "openssl x509 -req -in $dir/req.pem -CA $dir/ca.pem -CAkey $dir/ca.key",
        "-CAcreateserial -days 3650 -extfile $dir/ext -out $dir/cert.pem"
    )
);

sub entity {
    my $size = shift;
    my $body = join '',
        map { sprintf "Line %05d of the post, plain text.\n", $_ }
        1 .. int($size / 36);
    return "Content-Type: text/plain; charset=utf-8\n\n$body";
}
sub spurt { open my $fh, '>', $_[0] or die $!; print $fh $_[1]; close $fh }
sub slurp { open my $fh, '<', $_[0] or die $!; local $/;        return <$fh> }
spurt("$dir/small", entity(2000));
run(
    quiet(
        "openssl smime -sign -in $dir/small -signer $dir/cert.pem",
        "-inkey $dir/key.pem -out $dir/signed"
    )
);
run(
    quiet(
        "openssl smime -encrypt -aes128 -in $dir/small -out $dir/encrypted",
        "$dir/cert.pem"
    )
);

my $b       = \&Sympa::SMIME::Sidecar::encode_bytes;
my %request = (
    verify => [
        'smime.verify',
        {message_b64 => $b->(slurp("$dir/signed")), cafile => "$dir/ca.pem"}
    ],
    sign => [
        'smime.sign',
        {   entity_b64 => $b->(entity(2000)),
            cert       => "$dir/cert.pem",
            key        => "$dir/key.pem"
        }
    ],
    encrypt => [
        'smime.encrypt',
        {   entity_b64 => $b->(entity(2000)),
            recipients => [{path => "$dir/cert.pem"}]
        }
    ],
    encrypt100k => [
        'smime.encrypt',
        {   entity_b64 => $b->(entity(100_000)),
            recipients => [{path => "$dir/cert.pem"}]
        }
    ],
    decrypt => [
        'smime.decrypt',
        {   message_b64 => $b->(slurp("$dir/encrypted")),
            keys        => [{cert => "$dir/cert.pem", key => "$dir/key.pem"}]
        }
    ],
);
my @mix = qw(verify sign encrypt decrypt encrypt100k);

sub memory {
    my $pid = shift;
    my ($rss, $pss) = ('?', '?');
    if (open my $fh, '<', "/proc/$pid/smaps_rollup") {
        while (<$fh>) {
            $rss = sprintf '%.0f', $1 / 1024 if /^Rss:\s+(\d+)/;
            $pss = sprintf '%.0f', $1 / 1024 if /^Pss:\s+(\d+)/;
        }
    }
    return "$rss/$pss";
}

sub loop {
    my ($sidecar, $count) = @_;
    my $start = time;
    foreach my $i (0 .. $count - 1) {
        my $result = $sidecar->call(@{$request{$mix[$i % @mix]}});
        die "$mix[$i % @mix]: no result\n" unless $result;
    }
    return $count / (time - $start);
}

printf "%-18s %5s %7s %7s %8s %8s %9s %9s %9s\n", 'set', 'round',
    'ver ms', 'vfy ms', 'calls/s', 'warm/s', "RSS/PSS $opt{calls}",
    'RSS/PSS end', 'RSS/PSS idle';
foreach my $set (@sets) {
    my ($name, $java_opts) = @$set;
    foreach my $round (1 .. $opt{rounds}) {
        my %new   = (java_opts => $java_opts, timeout => 120);
        my $first = Sympa::SMIME::Sidecar->new(%new);
        my $start = time;
        $first->call('service.version');
        my $version_ms = 1000 * (time - $start);
        $first->shutdown;

        my $sidecar = Sympa::SMIME::Sidecar->new(%new);
        $start = time;
        my $verdict   = $sidecar->call(@{$request{verify}});
        my $verify_ms = 1000 * (time - $start);
        die "verify: $verdict->{detail}\n" unless $verdict->{valid};

        my $cold  = loop($sidecar, $opt{calls});
        my $after = memory($sidecar->pid);
        my $warm  = loop($sidecar, $opt{warm});
        my $end   = memory($sidecar->pid);
        sleep $opt{idle};
        my $idle = memory($sidecar->pid);
        $sidecar->shutdown;
        printf "%-18s %5d %7.0f %7.0f %8.0f %8.0f %9s %9s %9s\n", $name,
            $round, $version_ms, $verify_ms, $cold, $warm, $after, $end,
            $idle;
    }
}
print "\nsets:\n";
printf "  %-18s %s\n", @$_ foreach @sets;
