# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Sympa::List::get_cert: 'der' without Crypt::OpenSSL::X509 (6.2.70 then
# answers "Unknown certificate format"), the same bytes as the original where
# it works; 'pem' left to Sympa's own code.
use strict;
use warnings;
use Test::More;

use lib 't/lib';
use SMIMETest;

my $pki  = pki();
my $home = sympa_home();

# DER of the first certificate of a file, as openssl writes it.
sub der_of {
    my $file = shift;
    return openssl_out(slurp($file), 'x509', '-outform', 'DER');
}

# secure: cert.pem holds the leaf, then its intermediate.
my $secure = fake_list($home, 'secure');
my $der    = $secure->get_cert('der');
ok defined $der, 'secure: DER returned';
is $der,   der_of($pki->{crt}{secure}), 'secure: the leaf only, as openssl';
isnt $der, der_of($pki->{crt}{inter}),  'secure: not the intermediate';

# split: the encryption certificate is the one users need.
my $split = fake_list($home, 'split');
is $split->get_cert('der'), der_of($pki->{crt}{split_enc}),
    'split: cert.pem.enc';

# 'pem' is Sympa's own code: CRLF lines between the armour, leaf only.
my $pem = $secure->get_cert;
like $pem, qr/\AMII[\w+\/=\r\n]+\z/, 'pem (default): base64 lines';
is scalar(() = $pem =~ /\r\n/g), scalar(() = $pem =~ /\n/g),
    'pem: CRLF line ends';

# Failures: undef and one log line, no death.
my $empty = File::Temp->newdir(DIR => "$ROOT/t/tmp");
mkdir "$empty/list_data";
mkdir "$empty/list_data/broken";
spurt("$empty/list_data/broken/cert.pem",    "not a certificate\n");
spurt("$empty/list_data/broken/private_key", slurp($pki->{key}{secure}));
clear_logs();
my $result = eval { fake_list("$empty", 'broken')->get_cert('der') };
is $@,      '',    'no certificate in cert.pem: does not die';
is $result, undef, '... returns undef';
is scalar(grep {/bad_certificate/} logs('err')), 1, '... one log line';

SKIP: {
    skip 'Crypt::OpenSSL::X509 hidden or absent', 2 unless xs_available();
    is with_originals(sub { $secure->get_cert('der') }), $der,
        'secure: same bytes as the original';
    is with_originals(sub { $split->get_cert('der') }),
        $split->get_cert('der'), 'split: same bytes as the original';
}

done_testing();
