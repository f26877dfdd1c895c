# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Signing does not depend on cafile, as 6.2.70's smime_sign never read it:
# with a cafile that is missing, unreadable or holds no certificate, the list
# still signs, the signature carries no certificate from cafile (the chain in
# the list's cert.pem is still carried), and a log line says so.
use strict;
use warnings;
use Test::More;

use lib 't/lib';
use SMIMETest;

done_unless_sidecar('smime.sign');

my $pki    = pki();
my $home   = sympa_home();
my $secure = fake_list($home, 'secure');
my $plain =
    "From: alice\@example.org\nSubject: x\nContent-Type: text/plain\n\nHello\n";

my $garbage = spurt("$home/garbage-ca.pem", "not a certificate\n");
my $dir_ca  = "$home/tmp";

# How many certificates a signature carries.
sub carried {
    my $string = shift;
    my $pkcs7  = openssl_out($string, qw(smime -pk7out))      // return -1;
    my $certs  = openssl_out($pkcs7,  qw(pkcs7 -print_certs)) // return -1;
    return scalar(() = $certs =~ /-----BEGIN CERTIFICATE-----/g);
}

my $r = run_method(new_message($plain, context => $secure), 'smime_sign');
is $r->{result}, 'self', 'readable cafile: signed';
my $with_cafile = carried($r->{after});
ok !(grep {/cafile not used/} @{$r->{logs}}), 'readable cafile: no warning';

foreach my $case (
    ['missing',        "$home/no-such-ca.pem"],
    ['no certificate', $garbage],
    ['a directory',    $dir_ca],
) {
    my ($name, $cafile) = @$case;
    local $Conf::Conf{'cafile'} = $cafile;
    my $r = run_method(new_message($plain, context => $secure), 'smime_sign');
    is $r->{died},   undef,  "$name cafile: does not die";
    is $r->{result}, 'self', "$name cafile: the list still signs";
    like $r->{head}, qr{Content-Type: multipart/signed}i,
        "$name cafile: multipart/signed";
    is carried($r->{after}), $with_cafile,
        "$name cafile: the chain of cert.pem is carried all the same";
    ok
        defined openssl_out($r->{after}, 'cms', '-verify', '-CAfile',
        $pki->{cafile}, '-out', '/dev/null'),
        "$name cafile: openssl verifies it against the root";
    my @warned = grep {/cafile not used/} @{$r->{logs}};
    is scalar @warned, 1, "$name cafile: one line says so"
        or diag explain $r->{logs};
    like $warned[0] // '', qr/\Q$cafile\E/, "$name cafile: naming the file";
    ok !(grep {/Unable to S\/MIME sign/} @{$r->{logs}}),
        "$name cafile: no signing failure logged";
}

done_testing();
