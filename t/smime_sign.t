# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Sympa::Message::smime_sign through smime.sign with the robot's and lists'
# keys: the multipart/signed that results (verified with openssl), the
# intermediate certificates it carries, the check_smime_signature() that
# follows, failures; the original (Crypt::SMIME) on the same messages.
use strict;
use warnings;
use File::Path qw(make_path);
use File::Temp qw();
use Test::More;

use lib 't/lib';
use SMIMETest;

my $pki  = pki();
my $home = sympa_home();
my $pw   = $Conf::Conf{'key_passwd'};
my $tmp  = File::Temp->newdir(DIR => "$ROOT/t/tmp");
make_path("$home/list_data/nokeys", "$home/list_data/oldlist");
spurt("$home/list_data/oldlist/cert.pem",    slurp($pki->{crt}{expired}));
spurt("$home/list_data/oldlist/private_key", slurp($pki->{key}{expired}));
my %context = (
    robot => '*',
    none  => undef,
    map { ($_ => fake_list($home, $_)) } qw(secure split nokeys oldlist),
);

my $plain = <<"EOF";
From: Secure List <secure\@lists.example.org>
To: alice\@example.org
Subject: Test message
Message-ID: <plain\@example.org>
MIME-Version: 1.0
@{[SMIMETest::entity()]}
EOF
chomp $plain;
my $inner =
      join("\n", grep {/^Content-/} split /\n/, (split /\n\n/, $plain)[0])
    . "\n\n"
    . (split /\n\n/, $plain, 2)[1];
$inner =~ s/\n/\r\n/g;

my $root_only  = $pki->{cafile};
my $root_inter = spurt(
    "$tmp/root-inter.pem",
    slurp($pki->{crt}{ca}),
    slurp($pki->{crt}{inter})
);

sub sign {
    my %options = @_;
    my $message = new_message(
        $plain,
        context => $context{$options{context} // 'secure'},
        sender  => $options{sender} // 'alice@example.org'
    );
    local $Conf::Conf{'key_passwd'} = $options{key_passwd} // $pw;
    return run_method($message, 'smime_sign', original => $options{original});
}

# openssl cms -verify: the signed content, or undef.
sub verify {
    my ($string, $cafile, %options) = @_;
    return openssl_out(
        $string,
        'cms',
        '-verify',
        '-CAfile',
        $cafile,
        ($options{certsout} ? ('-certsout', $options{certsout}) : ()),
        ($options{signer}   ? ('-signer',   $options{signer})   : ())
    );
}

my $r = sign(context => 'none');
is $r->{result}, 1,            'no list: 1';
is $r->{after},  $r->{before}, 'no list: message unchanged';

done_unless_sidecar('smime.sign');

# smime_sign() ends with check_smime_signature().
my $no_verify = sidecar_ready('smime.verify', 'x509.parse');

$r = sign();
is $r->{result}, 'self', 'returns the message';
like $r->{head}, qr/^Content-Type: multipart\/signed;/m, 'multipart/signed';
like $r->{head}, qr/protocol="application\/pkcs7-signature"/,
    'protocol application/pkcs7-signature';
like $r->{head}, qr/micalg="sha-256"/, 'micalg sha-256';
foreach my $field (
    'From: Secure List <secure@lists.example.org>',
    'To: alice@example.org',
    'Subject: Test message',
    'Message-ID: <plain@example.org>',
    'MIME-Version: 1.0'
) {
    like $r->{head}, qr/^\Q$field\E$/m, "field kept: $field";
}
is verify($r->{after}, $root_only, certsout => "$tmp/certs.pem"), $inner,
    'openssl verifies it with the root alone: the intermediate is carried';
is scalar(() = slurp("$tmp/certs.pem") =~ /BEGIN CERTIFICATE/g), 2,
    'two certificates: the list and the intermediate, not the root';
is $r->{protected}, 1, 'then check_smime_signature: protected';
SKIP: {
    skip $no_verify, 2 if $no_verify;
    ok !$r->{signed}, '... not smime_signed: not the sender\'s';
    ok
        grep({/Could not extract certificate for alice\@example\.org/}
        @{$r->{logs}}),
        '... as logged';
}

# Signed by the list, from the list: check_smime_signature stores its
# certificate.
SKIP: {
    skip $no_verify, 2 if $no_verify;
    my $r = sign(sender => 'secure@lists.example.org');
    is $r->{signed}, 1, 'sender is the list: smime_signed';
    is eval { slurp("$Conf::Conf{ssl_cert_dir}/secure\@lists.example.org") },
        pem_of($pki->{crt}{secure}), '... and its certificate stored';
}

# Which key pair.
$r = sign(context => 'split');
verify($r->{after}, $root_only, signer => "$tmp/signer.pem");
is slurp("$tmp/signer.pem"), pem_of($pki->{crt}{split_sign}),
    'split list: cert.pem.sign';
$r = sign(context => 'robot');
is $r->{result}, 'self', 'robot: returns the message';
verify($r->{after}, $root_only, signer => "$tmp/signer.pem");
is slurp("$tmp/signer.pem"), pem_of($pki->{crt}{robot}),
    'robot: home/sympa/cert.pem';

# Failures.
foreach my $case (
    ['wrong password' => [key_passwd => 'wrong'],  qr/bad_password: /],
    ['no key pair'    => [context    => 'nokeys'], qr/file_unreadable: /],
    ['expired list certificate' => [context => 'oldlist'], qr/expired: /],
) {
    my ($name, $options, $reason) = @$case;
    my $r = sign(@$options);
    is $r->{died},   undef,        "$name: does not die";
    is $r->{result}, undef,        "$name: undef";
    is $r->{after},  $r->{before}, "$name: message unchanged";
    is scalar(grep {/Unable to S\/MIME sign message: $reason/} @{$r->{logs}}),
        1, "$name: one log line with the reason";
}

SKIP: {
    skip 'Crypt::SMIME hidden or missing', 1 unless xs_available();

    # With the intermediate in cafile, 6.2.70's check after signing passes
    # too.
    local $Conf::Conf{'cafile'} = $root_inter;
    my $ours = sign(sender => 'secure@lists.example.org');
    my $orig = sign(sender => 'secure@lists.example.org', original => 1);
    is $orig->{result}, 'self', 'the original returns the message too';
    my @heads =
        map { $_->{head} =~ s/boundary="[^"]+"/boundary=X/r } ($ours, $orig);
    is $heads[0], $heads[1], 'same header as the original, but the boundary';
    is_deeply [@$ours{qw(signed protected)}], [@$orig{qw(signed protected)}],
        'same flags after check_smime_signature'
        unless $no_verify;
    is verify($ours->{after}, $root_inter),
        verify($orig->{after}, $root_inter),
        'same signed entity';
    is verify($orig->{after}, $root_only), undef,
        'the original does not carry the intermediate';
    {
        local $Conf::Conf{'cafile'} = $root_only;
        is sign(sender => 'secure@lists.example.org', original => 1)
            ->{signed}, undef,
            '... so with the root alone in cafile its own check fails';
    }

    is sign(context => 'oldlist', original => 1)->{result}, 'self',
        'the original signs with an expired certificate';

    # Each checks what the other signed.
    foreach my $pair ([$ours, 'original'], [$orig, 'shim']) {
        my ($r, $by) = @$pair;
        next if $by eq 'shim' and $no_verify;
        my $message =
            new_message($r->{after}, sender => 'secure@lists.example.org');
        local $Conf::Conf{'cafile'} = $root_inter;
        my $result =
            $by eq 'original'
            ? with_originals(sub { $message->check_smime_signature })
            : $message->check_smime_signature;
        is $result, 1, "the $by verifies it";
    }
}

done_testing();
