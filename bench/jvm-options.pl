#!/usr/bin/perl
# Compares JVM option sets for the sidecar, through the real client
# (Sympa::SMIME::Sidecar, which adds its fixed safety flags):
#
#   perl bench/jvm-options.pl [--rounds 3] [--calls 1000] [--warm 2000]
#       [--jar target/sympa-smime.jar] [--only NAME,...] [--jcmd]
#
# For each set and round, two fresh sidecars: one answers service.version
# first (spawn to first answer), the other smime.verify (spawn to first
# verify), then runs --calls mixed calls (verify, sign, encrypt and decrypt
# of a 2 KB entity, and an encrypt of a 100 KB one; the cold, short-lived
# process), then --warm more (the warm loop).  Prints, per round: both
# start times in ms, calls per second of both loops, RSS and PSS (MiB)
# after each loop and after 10 s idle.  Sets named "...cds" use the
# class-data-sharing archive next to the jar (made by the build); the others
# a copy of the jar without one.
# Not a test: run it on an idle machine, and compare the rounds' spread.
use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/../perl/lib", "$Bin/lib";
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use Getopt::Long;
use Time::HiRes qw(time sleep);
use Sympa::SMIME::Sidecar;
use JvmBench qw(requests memory cpu);

my %opt = (
    rounds => 3,
    calls  => 1000,
    warm   => 2000,
    idle   => 10,
    jar    => Sympa::SMIME::Sidecar->new->config->{jar},
);
GetOptions(\%opt, 'rounds=i', 'calls=i', 'warm=i',
    'idle=i', 'jar=s', 'only=s', 'jcmd')
    or die "usage: $0 [--rounds N] [--calls N] [--warm N] [--only A,B]\n";

my $base = '-Xmx512m -XX:+UseSerialGC';
# Caps on what the JVM may grow to, not on what it uses: 13 MiB of code and
# 16 MiB of metaspace after --jcmd's 4,000 calls.  CICompilerCount=2 is what
# 2 cores get anyway; larger hosts would get more compiler threads, each with
# its own memory while it compiles.
my $caps = '-XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=128m'
    . ' -XX:CICompilerCount=2';
my @sets = (
    ['base'           => $base],
    ['xms16'          => "$base -Xms16m"],
    ['xms16+cds'      => "$base -Xms16m"],
    ['xms16+c1'       => "$base -Xms16m -XX:TieredStopAtLevel=1"],
    ['xms16+c1+cds'   => "$base -Xms16m -XX:TieredStopAtLevel=1"],
    ['xms16+caps+cds' => "$base -Xms16m $caps"],
    ['xms16+xss+cds'  => "$base -Xms16m -Xss256k"],
    [   'xms16+caps+free+cds' =>
            "$base -Xms16m $caps -XX:MaxHeapFreeRatio=20 -XX:MinHeapFreeRatio=5 -XX:-ShrinkHeapInSteps"
    ],
);

if ($opt{only}) {
    my %only = map { $_ => 1 } split /,/, $opt{only};
    @sets = grep { $only{$_->[0]} } @sets;
}
# Sets named "...cds" run the jar with its archive next to it, which the
# client passes to the JVM; the others a copy of the jar without one.
my $archive = Sympa::SMIME::Sidecar->archive_of($opt{jar});
die "no archive $archive: mvn -B -q -DskipTests package\n"
    if grep({ $_->[0] =~ /cds/ } @sets)
    and not -f $archive;
my $bare = tempdir(CLEANUP => 1) . '/sympa-smime.jar';
copy($opt{jar}, $bare) or die "$bare: $!\n";

my %request = %{requests()};
my @mix     = qw(verify sign encrypt decrypt encrypt100k);

sub loop {
    my ($sidecar, $count) = @_;
    my $start = time;
    foreach my $i (0 .. $count - 1) {
        my $result = $sidecar->call(@{$request{$mix[$i % @mix]}});
        die "$mix[$i % @mix]: no result\n" unless $result;
    }
    return $count / (time - $start);
}

printf "%-18s %5s %11s %11s %8s %8s %8s %9s %9s %9s\n", 'set', 'round',
    'ver ms/cpu', 'vfy ms/cpu', 'calls/s', 'warm/s', 'warm cpu',
    "RSS/PSS $opt{calls}", 'RSS/PSS end', 'RSS/PSS idle';
foreach my $set (@sets) {
    my ($name, $java_opts) = @$set;
    foreach my $round (1 .. $opt{rounds}) {
        my %new = (
            java_opts => $java_opts,
            timeout   => 120,
            jar       => ($name =~ /cds/ ? $opt{jar} : $bare),
        );
        my $first = Sympa::SMIME::Sidecar->new(%new);
        my $start = time;
        $first->call('service.version');
        my $version_ms  = 1000 * (time - $start);
        my $version_cpu = 1000 * cpu($first->pid);
        $first->shutdown;

        my $sidecar = Sympa::SMIME::Sidecar->new(%new);
        $start = time;
        my $verdict    = $sidecar->call(@{$request{verify}});
        my $verify_ms  = 1000 * (time - $start);
        my $verify_cpu = 1000 * cpu($sidecar->pid);
        die "verify: $verdict->{detail}\n" unless $verdict->{valid};

        my $cold  = loop($sidecar, $opt{calls});
        my $after = memory($sidecar->pid);
        my $cpu   = cpu($sidecar->pid);
        my $warm  = loop($sidecar, $opt{warm});
        my $end   = memory($sidecar->pid);
        # What the caps (code cache, metaspace) must leave room for.
        system("jcmd $sidecar->{proc}{pid} $_ | sed 's/^/  /' >&2")
            foreach $opt{jcmd} ? ('Compiler.codecache', 'VM.metaspace') : ();
        # Per warm call, in ms of the sidecar's CPU.
        my $warm_cpu = 1000 * (cpu($sidecar->pid) - $cpu) / $opt{warm};
        sleep $opt{idle};
        my $idle = memory($sidecar->pid);
        $sidecar->shutdown;
        printf
            "%-18s %5d %5.0f/%-5.0f %5.0f/%-5.0f %8.0f %8.0f %8.2f %9s %9s %9s\n",
            $name, $round, $version_ms, $version_cpu, $verify_ms, $verify_cpu,
            $cold, $warm,  $warm_cpu,   $after,       $end,       $idle;
    }
}
print "\nsets:\n";
printf "  %-18s %s\n", @$_ foreach @sets;
