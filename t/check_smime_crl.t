# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Sympa::Message::check_smime_signature with the crl_path setting: a CRL made
# by "openssl ca -revoke / -gencrl" revoking a subscriber's certificate makes
# the subscriber's signed message fail with reason revoked; without crl_path
# the same message verifies as before.
use strict;
use warnings;
use File::Path qw(remove_tree make_path);
use File::Temp qw();
use Test::More;

use lib 't/lib';
use SMIMETest;

my $pki       = pki();
my $home      = sympa_home();
my $certs_dir = $Conf::Conf{'ssl_cert_dir'};

done_unless_sidecar('smime.verify', 'x509.parse');

delete @ENV{qw(SYMPA_SMIME_CRL_PATH SYMPA_SMIME_CRL_REQUIRED)};
# No /etc/sympa/sympa-smime.conf in the way: an empty configuration file.
$ENV{SYMPA_SMIME_CONFIG} = spurt("$home/sympa-smime.conf", '');

# The test CA revokes bob.
my $ca = File::Temp->newdir(DIR => "$ROOT/t/tmp");
revoking_crl("$ca", $pki->{crt}{bob});
make_path("$ca/dir");
spurt("$ca/dir/ca.crl", slurp("$ca/ca.crl"));

my $bob     = sign_entity('bob');
my $alice   = sign_entity('alice');
my $chained = sign_entity('chained', certfile => $pki->{crt}{inter});

# Runs check_smime_signature on a fresh message and a clean ssl_cert_dir.
sub check {
    my $string = shift;
    my $sender = shift;

    remove_tree($certs_dir);
    make_path($certs_dir);
    my $message = new_message($string, sender => $sender);
    clear_logs();
    my $result = eval { $message->check_smime_signature };
    return {
        died   => ($@ ? ($@ =~ s/\s+\z//r) : undef),
        result => $result,
        signed => $message->{smime_signed},
        files  => [sort keys %{files_in($certs_dir)}],
        logs   => [map { logs($_) } qw(info notice err)],
    };
}

# Without crl_path: as before.
my $r = check($bob, 'bob@example.org');
is $r->{result}, 1, 'no crl_path: bob verifies';
is_deeply $r->{files}, ['bob@example.org'], 'no crl_path: bob is stored';

foreach my $crl_path ("$ca/ca.crl", "$ca/dir") {
    local $ENV{SYMPA_SMIME_CRL_PATH} = $crl_path;
    my $what = $crl_path =~ /dir\z/ ? 'CRL directory' : 'CRL file';

    $r = check($bob, 'bob@example.org');
    is $r->{died},   undef, "$what: does not die";
    is $r->{result}, undef, "$what: revoked bob gives undef";
    is $r->{signed}, undef, "$what: not smime_signed";
    is_deeply $r->{files}, [], "$what: nothing stored";
    is scalar(@{$r->{logs}}),           1, "$what: one log line";
    is scalar(grep {/revoked/} logs()), 1, "$what: one line says revoked";
    like $r->{logs}[0],
        qr/Unable to verify S\/MIME signature: revoked: .*bob\@example\.org.* was revoked .*\(keyCompromise\)/,
        "$what: ... with the reason revoked";

    $r = check($alice, 'alice@example.org');
    is $r->{result}, 1, "$what: alice still verifies";
    is_deeply $r->{files}, ['alice@example.org'], "$what: alice is stored";
    is_deeply $r->{logs},  [], "$what: alice: nothing logged";
}

# The intermediate CA has no CRL: accepted unless crl_required.
{
    local $ENV{SYMPA_SMIME_CRL_PATH} = "$ca/dir";
    is check($chained, 'chained@example.org')->{result}, 1,
        'no CRL of the intermediate: accepted by default';
    local $ENV{SYMPA_SMIME_CRL_REQUIRED} = 'yes';
    $r = check($chained, 'chained@example.org');
    is $r->{result},          undef, 'crl_required: refused';
    is scalar(@{$r->{logs}}), 1,     'crl_required: one log line';
    like $r->{logs}[0],
        qr/Unable to verify S\/MIME signature: revocation_unknown: no current CRL of .*Test Intermediate CA/,
        'crl_required: ... with the reason revocation_unknown';
    is check($alice, 'alice@example.org')->{result}, 1,
        'crl_required: alice, whose CA has a CRL, verifies';
}

# A crl_path that cannot be read fails closed.
{
    local $ENV{SYMPA_SMIME_CRL_PATH} = "$ca/nowhere.crl";
    $r = check($alice, 'alice@example.org');
    is $r->{result}, undef, 'missing crl_path: undef';
    like $r->{logs}[0], qr/file_unreadable: cannot read CRLs/,
        '... file_unreadable';
}

done_testing();
