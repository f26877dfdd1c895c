# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Sympa::Tools::SMIME::parse_cert through x509.parse: Sympa's own
# t/Tools_SMIME.t assertions, the formats of Crypt::OpenSSL::X509 (checked
# against the openssl CLI), the new purpose rules, and a differential run
# against the original wherever Crypt::OpenSSL::X509 is there.
use strict;
use warnings;
use Encode     qw();
use File::Temp qw();
use Test::More;

use lib 't/lib';
use SMIMETest;

my $pki = pki();
my $dir = File::Temp->newdir(DIR => "$ROOT/t/tmp");

sub parse { Sympa::Tools::SMIME::parse_cert(@_) }

# What the openssl CLI says, in Crypt::OpenSSL::X509's formats.
sub openssl_view {
    my $file = shift;
    my $out  = openssl_out(undef, 'x509', '-in', $file, '-noout', '-subject',
        '-issuer', '-enddate', '-nameopt', 'sep_comma_plus_space,utf8');
    $out = Encode::decode_utf8($out);
    my %view = $out =~ /^(subject|issuer|notAfter)=(.*)$/mg;
    return \%view;
}

# 6.2.70's failure modes, decided before any sidecar call.
ok !eval { parse(); 1 }, 'no argument: dies';
like $@, qr/\Abug in logic\. Ask developer/, '... with 6.2.70\'s message';
ok !eval { parse(text => '');  1 }, 'text => "": dies';
ok !eval { parse(text => '0'); 1 }, 'text => "0": dies';
is parse(file => '/no/where'), undef, 'missing file: undef';

my $der = "$dir/alice.der";
openssl('x509', '-in', $pki->{crt}{alice}, '-outform', 'DER', '-out', $der);
is parse(file => $der),               undef, 'DER file: undef';
is parse(text => slurp($der)),        undef, 'DER text: undef';
is parse(file => $pki->{key}{alice}), undef, 'private key file: undef';
is parse(text => "garbage\n"),        undef, 'garbage: undef';
my $trusted = openssl_out(undef, 'x509', '-in', $pki->{crt}{alice},
    '-trustout', '-addtrust', 'emailProtection');
like $trusted, qr/BEGIN TRUSTED CERTIFICATE/, 'made a TRUSTED CERTIFICATE';
is parse(text => $trusted), undef, 'TRUSTED CERTIFICATE: undef';

SKIP: {
    my $why = sidecar_ready('x509.parse');
    skip $why, 1 if $why;

    # Sympa's t/Tools_SMIME.t, on a certificate made the same way.
    my $rousse = {
        subject =>
            'O=sympa developpers, OU=unit testing, CN=Guillaume Rousse,'
            . ' emailAddress=Guillaume.Rousse@sympa.org',
        issuer => 'O=sympa developpers, OU=unit testing, CN=Test CA,'
            . ' emailAddress=test@sympa.org',
        notAfter => openssl_view($pki->{crt}{rousse})->{notAfter},
        email    => {'guillaume.rousse@sympa.org' => 1},
        emails   => ['guillaume.rousse@sympa.org'],
        purpose  => {sign => 1, enc => 1},
    };
    is_deeply parse(file => $pki->{crt}{rousse}), $rousse,
        'user certificate file parsing';
    is_deeply parse(text => slurp($pki->{crt}{rousse})), $rousse,
        'user certificate string parsing';
    is_deeply parse(file => $pki->{crt}{ca}),
        {
        subject  => $rousse->{issuer},
        issuer   => $rousse->{issuer},
        notAfter => openssl_view($pki->{crt}{ca})->{notAfter},
        email    => {'test@sympa.org' => 1},
        emails   => ['test@sympa.org'],
        purpose  => {sign => '', enc => ''},
        },
        'CA certificate file parsing: purposes are empty strings';

    # Formats, against the openssl CLI.
    foreach my $name (sort keys %{$pki->{crt}}) {
        my $parsed = parse(file => $pki->{crt}{$name});
        my $view   = openssl_view($pki->{crt}{$name});
        is_deeply {
            map { ($_ => $parsed->{$_}) } qw(subject issuer notAfter)
        }, $view, "$name: subject, issuer, notAfter as openssl prints them";
    }
    is parse(file => $pki->{crt}{expired})->{notAfter},
        'Jan  1 00:00:00 2021 GMT', 'day padded with a space';
    ok utf8::is_utf8(parse(file => $pki->{crt}{uni})->{subject}),
        'subject is a character string';

    # The sidecar's purpose rules.
    my %purpose = (
        (map { ($_ => ['', '']) } qw(ca inter other)),
        (map { ($_ => [1,  '']) } qw(sigonly split_sign nonrep)),
        (map { ($_ => ['', 1]) } qw(enconly split_enc)),
    );
    foreach my $name (sort keys %{$pki->{crt}}) {
        my ($sign, $enc) = @{$purpose{$name} || [1, 1]};
        is_deeply parse(file => $pki->{crt}{$name})->{purpose},
            {sign => $sign, enc => $enc}, "$name: purpose";
    }

    # E-mail addresses: email() order, filtered, lower-cased, duplicates
    # kept, as Crypt::OpenSSL::X509's email() gives them to 6.2.70.
    is_deeply parse(file => $pki->{crt}{multi})->{emails},
        [
        'multi@example.org', 'second@example.org',
        'multi@example.org', 'third@example.org'
        ],
        'multi: emails';
    is_deeply parse(file => $pki->{crt}{multi})->{email},
        {
        'multi@example.org'  => 1,
        'second@example.org' => 1,
        'third@example.org'  => 1
        },
        'multi: email set';
    is_deeply parse(file => $pki->{crt}{noext})->{emails},
        ['noext@example.org'], 'v1 certificate: address from the subject';

    # Text variants.
    my $alice = parse(file => $pki->{crt}{alice});
    is_deeply parse(text => slurp("$pki->{dir}/secure.chain.pem")),
        parse(file => $pki->{crt}{secure}), 'several certificates: the first';
    (my $crlf = slurp($pki->{crt}{alice})) =~ s/\n/\r\n/g;
    is_deeply parse(text => $crlf), $alice, 'CRLF';
    (my $bare = slurp($pki->{crt}{alice})) =~ s/\n\z//;
    is_deeply parse(text => $bare), $alice, 'no final newline';
    is_deeply parse(
        text => "Alice's certificate\n" . slurp($pki->{crt}{alice})),
        $alice, 'text before the certificate';
    (my $broken = slurp($pki->{crt}{alice})) =~ s/^(.{10}).{20}/$1/m;
    is parse(text => $broken), undef, 'corrupt certificate: undef';

SKIP: {
        skip 'Crypt::OpenSSL::X509 hidden or missing', 1
            unless xs_available();

        # Differential: the original, with Crypt::OpenSSL::X509.
        my %changed = (
            nonrep => 'nonRepudiation counts for signing',
            ec     => 'keyAgreement on EC counts for encryption',
        );
        foreach my $name (sort keys %{$pki->{crt}}) {
            my $file = $pki->{crt}{$name};
            my $ours = parse(file => $file);
            my $died;
            my $original = with_originals(
                sub {
                    my $result = eval { parse(file => $file) };
                    $died = $@;
                    return $result;
                }
            );
            if ($name eq 'noku' or $name eq 'noext') {
                ok !$original && $died,
                    "$name: the original dies ("
                    . ($died =~ s/\s+\z//r) . ')';
                ok $ours, "$name: the shim does not";
                next;
            }
            my $purpose      = delete $ours->{purpose};
            my $orig_purpose = delete $original->{purpose};
            is_deeply $ours, $original, "$name: same as the original";
            if ($changed{$name}) {
                ok !eq_hash($purpose, $orig_purpose),
                    "$name: purpose differs on purpose: $changed{$name}";
            } else {
                is_deeply $purpose, $orig_purpose,
                    "$name: same purpose as the original";
            }
        }
        is with_originals(sub { parse(text => $trusted) }), undef,
            'the original also refuses TRUSTED CERTIFICATE';
        is with_originals(sub { parse(file => $der) }), undef,
            'the original also refuses DER';
    }
}

done_testing();
