#!/usr/bin/perl
# The transport floor of the sidecar: service.echo of 2 MB, 100 kB and 2 kB
# of random bytes (base64 both ways, the pipe, the JSON framing, no
# cryptography), through the same client as the shim.  Prints the median
# and the best round trip per size.
#
#   perl bench/echo-floor.pl [--calls 300] [--big-calls 30]

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib";
use Getopt::Long;
use MIME::Base64 qw(encode_base64);
use Time::HiRes  qw(time);

use Sympa::SMIME::Sidecar;

my %opt = (calls => 300, 'big-calls' => 30);
GetOptions(\%opt, 'calls=i', 'big-calls=i')
    or die "usage: perl $0 [--calls N] [--big-calls N]\n";

my $sidecar = Sympa::SMIME::Sidecar->new;
my $random  = join '', map { chr int rand 256 } 1 .. 2_000_000;

foreach my $size (2_000_000, 100_000, 2_000) {
    my $data_b64 = encode_base64(substr($random, 0, $size), '');
    my $calls    = $size >= 1_000_000 ? $opt{'big-calls'} : $opt{calls};
    my @times;
    foreach (1 .. $calls) {
        my $started = time;
        my $answer  = $sidecar->call('service.echo', {data_b64 => $data_b64});
        push @times, time - $started;
        die "echo of $size bytes came back changed\n"
            unless $answer->{data_b64} eq $data_b64;
    }
    @times = sort { $a <=> $b } @times;
    printf "%9d bytes: median %7.2f ms, best %7.2f ms (%d calls)\n", $size,
        1000 * $times[$#times / 2], 1000 * $times[0], $calls;
}
