#!/usr/bin/perl
# Where the time of one shim call goes: the shim's subroutines and the
# client's are wrapped with timers, the sidecar's own time per method comes
# from service.stats, and the rest of the round trip (the pipe, Jackson's
# parse and write of the line, thread hand-offs) is what is left of the
# client's exchange.  Prints the mean ms per call of each stage.
#
#   perl bench/profile-paths.pl [--calls 200] [--big-calls 20]
#                               [--cases decrypt:2k,decrypt:100k,decrypt:2m,verify:2k,encrypt:2k,sign:2k]
use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/../t/lib", $Bin;
use Getopt::Long;
use Time::HiRes qw(time);

BEGIN { chdir "$Bin/.." or die $! }
use SMIMETest;
use BenchCases;
use Sympa::SMIME::Sidecar;

my %opt = (
    calls       => 200,
    'big-calls' => 20,
    cases       =>
        'decrypt:2k,decrypt:100k,decrypt:2m,verify:2k,verify:100k,verify:2m,encrypt:2k,encrypt:100k,sign:2k,sign:100k',
);
GetOptions(\%opt, 'calls=i', 'big-calls=i', 'cases=s') or die "usage\n";
my $why = sidecar_ready('smime.decrypt');
die "$why\n" if $why;

BenchCases::setup();

# Timers around the stages, by name: [seconds, calls].
my %spent;
my $json_class = Sympa::SMIME::Sidecar::json_class();
my @WRAPPED    = (
    ['Sympa::SMIME::Sidecar::encode_bytes',   'perl base64 encode'],
    ['Sympa::SMIME::Sidecar::decode_bytes',   'perl base64 decode'],
    ["${json_class}::encode",                 'perl JSON encode'],
    ["${json_class}::decode",                 'perl JSON decode'],
    ['Sympa::SMIME::Sidecar::_prepare',       'perl params copy (_prepare)'],
    ['Sympa::SMIME::Sidecar::_exchange',      'client exchange (all I/O)'],
    ['Sympa::SMIME::Shim::_call',             'shim _call'],
    ['Sympa::SMIME::Shim::_config',           'shim _config (settings)'],
    ['Sympa::SMIME::Shim::_algorithm_policy', 'shim _algorithm_policy'],
    ['Sympa::SMIME::Shim::_parse',            'shim MIME::Parser pass'],
    ['Sympa::SMIME::Shim::_head',             'shim header-only parse'],
    ['Sympa::SMIME::Shim::_unsigned_reading', 'shim MIME-tools re-read'],
    ['Sympa::SMIME::Shim::_restore_fields',   'shim restore fields'],
    ['Sympa::Tools::SMIME::parse_cert',       'shim parse_cert (x509.parse)'],
    ['Sympa::Message::as_string',             'Sympa as_string'],
    ['Sympa::Message::body_as_string',        'Sympa body_as_string'],
    ['MIME::Head::dup',                       'MIME::Head dup'],
);
{
    no strict 'refs';
    no warnings 'redefine';
    foreach my $wrap (@WRAPPED) {
        my ($name, $label) = @$wrap;
        next unless defined &{$name};
        my $inner = \&{$name};
        *{$name} = sub {
            my $start = time;
            my @r     = wantarray ? $inner->(@_) : scalar $inner->(@_);
            $spent{$label}[0] += time - $start;
            $spent{$label}[1]++;
            return wantarray ? @r : $r[0];
        };
    }
}

sub java_ms {
    my $method = shift;
    my $stats  = Sympa::SMIME::Sidecar->instance->call('service.stats', {});
    my $m      = $stats->{methods}{$method} || {};
    return ($m->{total_ms} // 0, $m->{calls} // 0);
}

foreach my $case (split /,/, $opt{cases}) {
    my ($op, $size) = split /:/, $case;
    my ($method, $make, $call) = BenchCases::case($op, $size);
    my $calls = $size eq '2m' ? $opt{'big-calls'} : $opt{calls};
    $call->($make->()) foreach 1 .. ($size eq '2m' ? 3 : $calls);    # warm
    %spent = ();
    my ($java0) = java_ms($method);
    my $total = 0;
    my $in_size;

    foreach (1 .. $calls) {
        my $message = $make->();
        $in_size //= length $message->as_string;
        my $start = time;
        defined $call->($message) or die "$op failed\n";
        $total += time - $start;
    }
    my ($java1) = java_ms($method);
    # Wrapped stages may run for stats calls too: count only ours.
    my %per = map { ($_ => 1000 * $spent{$_}[0] / $calls) } keys %spent;
    printf "\n== %s %s (message %d bytes), %d calls: %.3f ms per call\n",
        $op, $size, $in_size, $calls, 1000 * $total / $calls;
    my $java = ($java1 - $java0) / $calls;
    foreach my $label (map { $_->[1] } @WRAPPED) {
        next unless $per{$label};
        printf "  %-32s %8.3f ms  (%d calls)\n", $label, $per{$label},
            $spent{$label}[1] / $calls;
    }
    printf "  %-32s %8.3f ms  (service.stats, handler only)\n",
        'java handler', $java;
    my $framing =
        ($per{'client exchange (all I/O)'} // 0) -
        ($per{'perl JSON encode'}          // 0) -
        ($per{'perl JSON decode'}          // 0) -
        $java;
    printf "  %-32s %8.3f ms  (exchange - perl JSON - handler)\n",
        'pipe + java framing', $framing;
}
