#!/usr/bin/perl
# The four S/MIME methods of Sympa::Message, 6.2.70 with Crypt::SMIME against
# the shim, side by side in one process, interleaved call by call (original,
# shim, original, ...) so that load from other processes hits both alike.
# Prints the median ms per call of each, the speed-up (original / shim; above
# 1 the shim is faster) and the spread (the ratio of the medians of the first
# and second half of the calls).
#
#   perl bench/hot-paths.pl [--calls 300] [--big-calls 20] [--sizes 2k,100k,2m]
#                           [--ops decrypt,verify,encrypt,sign,loop]
#                           [--warm 200] [--recipients 200]
#
# loop is Sympa's distribution loop (dup + smime_encrypt per recipient) at
# 100 kB.  Uses the PKI and Sympa set-up of t/lib/SMIMETest.pm.  A benchmark,
# not a test.
use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/../t/lib", $Bin;
use Getopt::Long;
use Time::HiRes qw(time);

BEGIN { chdir "$Bin/.." or die $! }
use SMIMETest;
use BenchCases;

my %opt = (
    calls       => 300,
    'big-calls' => 20,
    sizes       => '2k,100k,2m',
    ops         => 'decrypt,verify,encrypt,sign,loop',
    warm        => 200,
    recipients  => 200,
);
GetOptions(\%opt, 'calls=i', 'big-calls=i', 'sizes=s', 'ops=s', 'warm=i',
    'recipients=i')
    or die "usage: see the head of $0\n";
die "Crypt::SMIME is not installed\n" unless xs_available();
my $why = sidecar_ready('smime.decrypt');
die "$why\n" if $why;

BenchCases::setup();

sub median {
    my @sorted = sort { $a <=> $b } @_;
    return 0 unless @sorted;
    return $sorted[$#sorted / 2] if @sorted % 2;
    return ($sorted[@sorted / 2 - 1] + $sorted[@sorted / 2]) / 2;
}

# Interleaved runs: returns ([original ms ...], [shim ms ...]).
sub race {
    my ($make, $call, $calls) = @_;
    my (@original, @shim);
    foreach my $i (1 .. $calls) {
        foreach my $which ($i % 2 ? (0, 1) : (1, 0)) {
            my $message = $make->();
            my $start   = time;
            my $ok =
                  $which
                ? $call->($message)
                : with_originals(sub { $call->($message) });
            my $ms = 1000 * (time - $start);
            die "call failed\n" unless defined $ok;
            push @{$which ? \@shim : \@original}, $ms;
        }
    }
    return (\@original, \@shim);
}

sub report {
    my ($name, $original, $shim) = @_;
    my $half = int(@$shim / 2);
    my @ratios =
        map { median(@$original[@$_]) / median(@$shim[@$_]) }
        [0 .. $half - 1], [$half .. $#$shim];
    printf "%-8s %-6s %9.3f %9.3f %7.2fx   (halves %.2f / %.2f)\n", @$name,
        median(@$original), median(@$shim),
        median(@$original) / median(@$shim), @ratios;
}

printf "%-8s %-6s %9s %9s %8s\n", 'op', 'size', 'orig ms', 'shim ms',
    'speed-up';
my @ops = split /,/, $opt{ops};
foreach my $op (grep { $_ ne 'loop' } @ops) {
    foreach my $size (split /,/, $opt{sizes}) {
        my (undef, $make, $call) = BenchCases::case($op, $size);
        my $calls = $size eq '2m' ? $opt{'big-calls'} : $opt{calls};
        race($make, $call, $opt{warm}) if $opt{warm} and $size ne '2m';
        race($make, $call, 3)          if $size eq '2m';
        report([$op, $size], race($make, $call, $calls));
    }
}

if (grep { $_ eq 'loop' } @ops) {
    # Sympa's ProcessOutgoing: one dup and one smime_encrypt per recipient.
    my $post = new_message(BenchCases::post('100k'));
    my $loop = sub {
        my $original = shift;
        my $start    = time;
        foreach my $i (1 .. $opt{recipients}) {
            my $copy = $post->dup;
            my $ok =
                $original
                ? with_originals(
                sub { $copy->smime_encrypt('alice@example.org') })
                : $copy->smime_encrypt('alice@example.org');
            die "copy $i failed\n" unless $ok;
        }
        return 1000 * (time - $start) / $opt{recipients};
    };
    $loop->(0);
    my (@original, @shim);
    foreach my $round (1 .. 4) {
        push @original, $loop->(1);
        push @shim,     $loop->(0);
    }
    report(['loop', '100k'], \@original, \@shim);
}
