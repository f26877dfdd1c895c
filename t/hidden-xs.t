# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# The shim needs neither Crypt::SMIME nor Crypt::OpenSSL::X509: the shim's
# test files again, with both hidden (t/lib/HideXS.pm).  Their differential
# parts skip; everything else must pass.
use strict;
use warnings;
use TAP::Harness;
use Test::More;

# The shim's test files: those using SMIMETest.
my @files = grep {
    open my $fh, '<', $_ or die "$_: $!";
    grep {/^use SMIMETest;/} <$fh>;
} sort glob 't/*.t';

ok !
    system($^X, '-It/lib', '-MHideXS', '-e',
    'exit(eval { require Crypt::SMIME; 1 } ? 1 : 0)'),
    'HideXS hides Crypt::SMIME';
ok !
    system($^X, '-It/lib', '-MHideXS', '-e',
    'exit(eval { require Crypt::OpenSSL::X509; 1 } ? 1 : 0)'),
    'HideXS hides Crypt::OpenSSL::X509';

my $harness = TAP::Harness->new(
    {   switches  => ['-It/lib', '-MHideXS'],
        verbosity => ($ENV{TEST_VERBOSE} ? 0 : -3),
        merge     => 0,
    }
);
my $aggregator = $harness->runtests(@files);
foreach my $file (@files) {
    my ($parser) = $aggregator->parsers($file);
    ok $parser && !$parser->has_problems,
        "$file passes with the XS modules hidden";
}

done_testing();
