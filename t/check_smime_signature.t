# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Sympa::Message::check_smime_signature through smime.verify, on messages
# signed by openssl: return values, flags, certificates stored in
# ssl_cert_dir, log lines; then the same messages through the original
# (Crypt::SMIME) for a differential run.
use strict;
use warnings;
use File::Path qw(remove_tree make_path);
use Test::More;

use lib 't/lib';
use SMIMETest;

my $pki       = pki();
my $home      = sympa_home();
my $certs_dir = $Conf::Conf{'ssl_cert_dir'};

sub pem { pem_of($pki->{crt}{shift()}) }

# Runs check_smime_signature on a fresh message and a clean ssl_cert_dir
# (holding the files of "before").  Returns what happened.
sub check {
    my $string  = shift;
    my %options = @_;

    remove_tree($certs_dir);
    make_path($certs_dir);
    spurt("$certs_dir/$_", $options{before}{$_})
        foreach keys %{$options{before} || {}};

    my $message = new_message($string,
        sender => $options{sender} // 'alice@example.org');
    return {
        %{  run_method(
                $message, 'check_smime_signature',
                original => $options{original}
            )
        },
        files => files_in($certs_dir),
    };
}

# is_signed(), as Sympa's t/Message_smime.t checks it.
my $unsigned = sprintf "From: alice\@example.org\nSubject: x\n\n%s",
    "Hello\n";
my $pgp = <<'EOF';
From: alice@example.org
Subject: PGP
MIME-Version: 1.0
Content-Type: multipart/signed; micalg=pgp-sha256;
 protocol="application/pgp-signature"; boundary="b"

--b
Content-Type: text/plain

Hello
--b
Content-Type: application/pgp-signature

-----BEGIN PGP SIGNATURE-----
-----END PGP SIGNATURE-----
--b--
EOF
is new_message($unsigned)->is_signed, 0, 'is_signed: never signed';
is new_message(sign_entity('alice'))->is_signed, 1,
    'is_signed: multipart/signed S/MIME';
is new_message(sign_entity('alice', args => ['-nodetach']))->is_signed, 1,
    'is_signed: PKCS#7 S/MIME';
is new_message($pgp)->is_signed, 0, 'is_signed: multipart/signed PGP/MIME';

my $r = check($unsigned);
is $r->{result}, 0, 'unsigned: 0';
ok !$r->{protected}, 'unsigned: not protected';
is check($pgp)->{result}, 0, 'PGP/MIME: 0';

done_unless_sidecar('smime.verify', 'x509.parse');

my %signed = (
    alice     => sign_entity('alice'),
    crlf      => sign_entity('alice', crlf => 1),
    opaque    => sign_entity('alice', args => ['-nodetach']),
    sigonly   => sign_entity('sigonly'),
    nonrep    => sign_entity('nonrep'),
    ec        => sign_entity('ec'),
    noku      => sign_entity('noku'),
    noext     => sign_entity('noext'),
    multi     => sign_entity('multi'),
    expired   => sign_entity('expired'),
    future    => sign_entity('future'),
    untrusted => sign_entity('untrusted'),
    enconly   => sign_entity('enconly'),
    server    => sign_entity('serverauth'),
    nocerts   => sign_entity('alice',   args     => ['-nocerts']),
    chained   => sign_entity('chained', certfile => $pki->{crt}{inter}),
    leafonly  => sign_entity('chained'),
    two       => sign_entity(
        'alice',
        args => ['-signer', $pki->{crt}{bob}, '-inkey', $pki->{key}{bob}]
    ),
);
($signed{tampered} = $signed{alice}) =~ s/Hello world\./Hello World./
    or die;

# name => [message, %check options, expected result, files, reason]
my @cases = (
    [alice => [], 1, {'alice@example.org' => pem('alice')}],
    [   'sender in capitals' => [sender => ' Alice@EXAMPLE.org'],
        1, {'alice@example.org' => pem('alice')}
    ],
    [crlf   => [], 1, {'alice@example.org' => pem('alice')}],
    [opaque => [], 1, {'alice@example.org' => pem('alice')}],
    [   'alice, stale split files' => [
            before => {
                'alice@example.org@sign' => 'old',
                'alice@example.org@enc'  => 'old'
            }
        ],
        1,
        {'alice@example.org' => pem('alice')}
    ],
    [   sigonly => [
            sender => 'sigonly@example.org',
            before => {'sigonly@example.org' => 'stale'}
        ],
        1,
        {'sigonly@example.org@sign' => pem('sigonly')}
    ],
    [   'multi, second address' => [sender => 'second@example.org'],
        1, {'second@example.org' => pem('multi')}
    ],
    [   two => [sender => 'bob@example.org'],
        1, {'bob@example.org' => pem('bob')}
    ],
    [   'sender is not the signer' => [sender => 'bob@example.org'],
        undef, {},
        qr/Could not extract certificate for bob\@example\.org: sender_mismatch: /
    ],
    [   chained => [sender => 'chained@example.org'],
        1, {'chained@example.org' => pem('chained')}
    ],
    # Changed on purpose (docs/differences.md).
    [   nonrep => [sender => 'nonrep@example.org'],
        1, {'nonrep@example.org@sign' => pem('nonrep')}
    ],
    [ec => [sender => 'ec@example.org'], 1, {'ec@example.org' => pem('ec')}],
    [   noku => [sender => 'noku@example.org'],
        1, {'noku@example.org' => pem('noku')}
    ],
    [   noext => [sender => 'noext@example.org'],
        1, {'noext@example.org' => pem('noext')}
    ],
    # Failures, with their reason.
    [   expired => [sender => 'expired@example.org'],
        undef, {}, qr/Unable to verify S\/MIME signature: expired: /
    ],
    [   future => [sender => 'future@example.org'],
        undef, {}, qr/Unable to verify S\/MIME signature: not_yet_valid: /
    ],
    [   untrusted => [sender => 'untrusted@example.org'],
        undef, {}, qr/Unable to verify S\/MIME signature: untrusted_chain: /
    ],
    [   leafonly => [sender => 'chained@example.org'],
        undef, {}, qr/Unable to verify S\/MIME signature: untrusted_chain: /
    ],
    [   enconly => [sender => 'enconly@example.org'],
        undef, {}, qr/Unable to verify S\/MIME signature: wrong_usage: /
    ],
    [   server => [sender => 'server@example.org'],
        undef, {}, qr/Unable to verify S\/MIME signature: wrong_usage: /
    ],
    [   tampered => [],
        undef, {},
        qr/Unable to verify S\/MIME signature: bad_signature: /
    ],
    [   nocerts => [],
        undef, {},
        qr/Unable to verify S\/MIME signature: no_signer_cert: /
    ],
);

foreach my $case (@cases) {
    my ($name, $options, $result, $files, $reason) = @$case;
    my $string = $signed{$name} // $signed{(split /[ ,]/, $name)[0]}
        // $signed{alice};
    my $r = check($string, @$options);
    is $r->{died}, undef, "$name: does not die";
    is $r->{result}, $result, "$name: returns " . ($result // 'undef');
    is $r->{signed}, ($result ? 1 : undef), "$name: smime_signed";
    is $r->{protected}, 1, "$name: protected";
    is_deeply $r->{files}, $files, "$name: ssl_cert_dir";

    if ($reason) {
        is scalar(grep { $_ =~ $reason } @{$r->{logs}}), 1,
            "$name: one log line with the reason";
    }
}

# Trust configuration.
{
    local $Conf::Conf{'cafile'} = "$pki->{dir}/nowhere.pem";
    my $r = check($signed{alice});
    is $r->{result}, undef, 'missing cafile: undef';
    ok grep({/trust_store_unreadable: /} @{$r->{logs}}),
        '... trust_store_unreadable';
}
{
    local $Conf::Conf{'cafile'};
    local $Conf::Conf{'capath'} = $pki->{capath};
    is check($signed{alice})->{result}, 1, 'capath only';
}
{
    my $bundle = spurt(
        "$home/bundle.pem",
        slurp($pki->{crt}{ca}),
        slurp($pki->{crt}{inter})
    );
    local $Conf::Conf{'cafile'} = $bundle;
    is check($signed{leafonly}, sender => 'chained@example.org')->{result}, 1,
        'intermediate in cafile';
}
{
    local $Conf::Conf{'cafile'} = $pki->{crt}{other};
    like check($signed{alice})->{logs}[-1], qr/untrusted_chain: /,
        'cafile of another CA: untrusted';
}

SKIP: {
    skip 'Crypt::SMIME hidden or missing', 1 unless xs_available();

    # Differential: same result, flags and files as 6.2.70.
    my %differs = map { ($_ => 1) } qw(nonrep ec noku noext nocerts);
    foreach my $case (@cases) {
        my ($name, $options) = @$case;
        next if $differs{$name};
        my $string = $signed{$name} // $signed{(split /[ ,]/, $name)[0]}
            // $signed{alice};
        my $ours     = check($string, @$options);
        my $original = check($string, @$options, original => 1);
        is_deeply [@$ours{qw(died result signed protected files)}],
            [@$original{qw(died result signed protected files)}],
            "$name: same as the original";
    }

    # The deliberate differences.
    my $orig = check(
        $signed{nonrep},
        sender   => 'nonrep@example.org',
        original => 1
    );
    ok !$orig->{result} && !%{$orig->{files}},
        'nonrep: the original stores nothing (nonRepudiation is not signing)';
    $orig = check($signed{ec}, sender => 'ec@example.org', original => 1);
    is_deeply $orig->{files}, {'ec@example.org@sign' => pem('ec')},
        'ec: the original stores it for signing only';
    foreach my $name (qw(noku noext)) {
        $orig = check(
            $signed{$name},
            sender   => "$name\@example.org",
            original => 1
        );
        ok $orig->{died}, "$name: the original dies";
    }
    $orig = check($signed{nocerts}, original => 1);
    is $orig->{result}, undef, 'nocerts: the original fails too';

    # Crypt::SMIME trusts the system directory on top of cafile.
    local $ENV{SSL_CERT_DIR}    = $pki->{capath};
    local $Conf::Conf{'cafile'} = $pki->{crt}{other};
    is check($signed{alice}, original => 1)->{result}, 1,
        'the original trusts SSL_CERT_DIR besides cafile';
    is check($signed{alice})->{result}, undef, 'the shim trusts cafile only';
}

done_testing();
