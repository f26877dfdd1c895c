#!/usr/bin/perl
# The memory S/MIME costs a default Debian install of Sympa 6.2.70: one
# sidecar per process that does S/MIME, each given the work that process
# does, all alive at once, with the default settings (java_opts, the archive
# next to the jar):
#
#   perl bench/install-memory.pl [--bulk 3] [--web 5] [--soap 2] [--idle 10]
#
#   sympa_msg          incoming: verify, decrypt; outgoing: sign  (300 calls)
#   bulk.pl x --bulk   per-recipient encryption of a 100 KB post  (1,000 each;
#                      bulk_max_count is 3)
#   wwsympa x --web    login by certificate (x509.parse), moderation of an
#                      encrypted message (decrypt)                (20 each;
#                      Debian's wwsympa.service runs 5 children)
#   sympasoap x --soap x509.parse                                 (5 each;
#                      sympasoap.service runs 2)
#
# Prints RSS and PSS (MiB; PSS shares the pages the sidecars map together)
# of each sidecar right after its work and after --idle seconds, and the
# totals.  With the idle exit (idle_timeout, 300 s by default), a sidecar
# without a request for that long is gone: what remains is what is busy.
use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/../perl/lib", "$Bin/lib";
use Getopt::Long;
use Time::HiRes qw(sleep);
use Sympa::SMIME::Sidecar;
use JvmBench qw(requests memory);

my %opt = (bulk => 3, web => 5, soap => 2, idle => 10);
GetOptions(\%opt, 'bulk=i', 'web=i', 'soap=i', 'idle=i')
    or die "usage: $0 [--bulk N] [--web N] [--soap N] [--idle S]\n";

my $request = requests();
my @roles   = (
    ['sympa_msg', 1,          300,  [qw(verify decrypt sign verify encrypt)]],
    ['bulk',      $opt{bulk}, 1000, [qw(encrypt100k)]],
    ['wwsympa',   $opt{web},  20,   [qw(parse decrypt)]],
    ['sympasoap', $opt{soap}, 5,    [qw(parse)]],
);

my @sidecars;
foreach my $role (@roles) {
    my ($name, $count, $calls, $mix) = @$role;
    foreach my $n (1 .. $count) {
        my $sidecar = Sympa::SMIME::Sidecar->new(timeout => 300);
        foreach my $i (0 .. $calls - 1) {
            my $result = $sidecar->call(@{$request->{$mix->[$i % @$mix]}});
            die "$name: no result\n" unless $result;
        }
        push @sidecars, ["$name $n", $sidecar, memory($sidecar->pid)];
    }
}
sleep $opt{idle};
my $conf = Sympa::SMIME::Sidecar->new->config;
printf "java_opts: %s\narchive: %s\n\n", $conf->{java_opts},
    (-f Sympa::SMIME::Sidecar->archive_of($conf->{jar}) ? 'yes' : 'no');
printf "%-14s %16s %16s\n", 'sidecar', 'RSS/PSS busy', 'RSS/PSS idle';
my %total;
foreach my $entry (@sidecars) {
    my ($name, $sidecar, $busy) = @$entry;
    my $idle = memory($sidecar->pid);
    printf "%-14s %16s %16s\n", $name, $busy, $idle;
    my ($rss, $pss) = split m{/}, $idle;
    $total{rss} += $rss;
    $total{pss} += $pss;
    ($rss, $pss) = split m{/}, $busy;
    $total{busy_rss} += $rss;
    $total{busy_pss} += $pss;
}
printf "%-14s %16s %16s\n", 'total',
    "$total{busy_rss}/$total{busy_pss}", "$total{rss}/$total{pss}";
$_->[1]->shutdown foreach @sidecars;
