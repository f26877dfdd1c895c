#!/usr/bin/perl
# One table of reasons: Reason.java.  The Perl side keeps no copy of it
# (the sidecar sends data.reason with every error); what it does keep is the
# reasons it tests for by name, and each of those must be one the sidecar
# can send or one the client gives itself, or the test it guards never
# matches.

use strict;
use warnings;
use FindBin;
use File::Find;
use Test::More;

my $root = "$FindBin::Bin/..";
my $java = "$root/src/main/java/org/sympasmime/Reason.java";
open my $fh, '<', $java or die "$java: $!";
my %sidecar;
while (<$fh>) {
    $sidecar{lc $1} = 1 if /^\s+([A-Z][A-Z_]+)\(-?\d+\)[,;]/;
}
close $fh;
ok(scalar(keys %sidecar) >= 20, 'Reason.java read: ' . scalar keys %sidecar)
    or BAIL_OUT('cannot read the reasons of Reason.java');

# Reasons the client gives without the sidecar (Sidecar.pm's POD, "Failures"),
# and the verdict smime.verify gives to a good signature.
my %client = map { $_ => 1 } qw(sidecar_unavailable timeout ok);

my %used;
find(
    sub {
        return unless /\.(?:pm|pl)\z/ or $File::Find::dir =~ m{/bin\z};
        return unless -f;
        open my $in, '<', $_ or die "$File::Find::name: $!";
        my $pod;
        while (my $line = <$in>) {
            last if $line =~ /\A__END__\b/;
            $pod = 1 if $line =~ /\A=[a-z]/;
            if ($pod) {
                $pod = 0 if $line =~ /\A=cut\b/;
                next;
            }
            # reason eq 'x', reason => 'x', reason ... =~ /^x/
            while ($line =~
                /\breason\b[^'"\n]{0,40}?(?:\s(?:eq|ne)\s+|=>\s*)['"]([a-z][a-z_]+)['"]|\breason\b[^'"\n]{0,40}?=~\s*(?:qr)?\/\^?([a-z][a-z_]+)/g
            ) {
                push @{$used{$1 // $2}}, "$File::Find::name:$.";
            }
        }
        close $in;
    },
    "$root/perl"
);
ok( scalar(keys %used) >= 3,
    'reasons compared by name in perl/: ' . join ' ',
    sort keys %used
);

foreach my $reason (sort keys %used) {
    ok($sidecar{$reason} || $client{$reason},
        "$reason is a reason the sidecar or the client gives")
        or diag "used at @{$used{$reason}}";
}

# The client (Sidecar.pm and its parts) keeps no table of codes to reasons.
foreach my $client_pm (
    glob "$root/perl/lib/Sympa/SMIME/{Sidecar.pm,Sidecar/*.pm}") {
    open $fh, '<', $client_pm or die "$client_pm: $!";
    my $source = do { local $/; <$fh> };
    close $fh;
    (my $name = $client_pm) =~ s{\A.*/Sympa/SMIME/}{};
    unlike($source, qr/=>\s*'untrusted_chain'/,
        "$name has no copy of the table of reasons");
}

done_testing;
