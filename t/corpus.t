# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# The shared corpus through Sympa::Message, as Sympa receives it (LF line
# ends): signatures checked and certificates stored, messages decrypted, then
# checked when signed inside.  Expected results are those of each set's
# MANIFEST.md; the original (Crypt::SMIME) is run on the same messages.
use strict;
use warnings;
use File::Path qw(make_path remove_tree);
use Test::More;

use lib 't/lib';
use SMIMETest;

my $corpus = corpus_dir();
Prerequisite::missing('corpus not found') unless $corpus;
my @verify  = qw(smime.verify x509.parse);
my @decrypt = qw(smime.decrypt);

# A subtest that is skipped unless the sidecar knows @$methods.
sub section {
    my ($name, $methods, $code) = @_;
    subtest $name => sub {
        my $why = sidecar_ready(@$methods);
        plan skip_all => $why if $why;
        $code->();
    };
}

my $home      = sympa_home();
my $certs_dir = $Conf::Conf{'ssl_cert_dir'};
my $tb        = "$corpus/thunderbird-nss";
my $lamps     = "$corpus/lamps-protected-headers";
my $bc        = "$corpus/bouncycastle-mail";

# Lists whose key pairs are the corpus recipients'.
my %list;
foreach my $pair (
    [tbbob    => "$tb/pem/Bob.crt",    "$tb/pem/Bob.key"],
    [lampsbob => "$lamps/pem/bob.crt", "$lamps/pem/bob.key"],
    [direct   => "$bc/cert.pem",       "$bc/key.pem"],
) {
    my ($name, $cert, $key) = @$pair;
    make_path("$home/list_data/$name");
    spurt("$home/list_data/$name/cert.pem",    slurp($cert));
    spurt("$home/list_data/$name/private_key", slurp($key));
    $list{$name} = fake_list($home, $name);
}

sub message_of {
    my $file   = shift;
    my $string = slurp($file);
    $string =~ s/\r\n/\n/g;
    return $string;
}

sub check {
    my ($string, %options) = @_;
    remove_tree($certs_dir);
    make_path($certs_dir);
    local $Conf::Conf{'cafile'} = $options{cafile};
    my $message = new_message($string, sender => $options{sender});
    return {
        %{  run_method(
                $message, 'check_smime_signature',
                original => $options{original}
            )
        },
        files => files_in($certs_dir),
    };
}

sub decrypt {
    my ($string, %options) = @_;
    my $message = new_message($string, context => $list{$options{list}});
    my $result  = eval {
        $options{original}
            ? with_originals(sub { $message->smime_decrypt })
            : $message->smime_decrypt;
    };
    return ($result, $message);
}

my $tb_ca    = "$tb/smime/TestCA.pem";
my $lamps_ca = "$lamps/sample-ca.pem";
my $alice    = pem_of("$tb/pem/Alice.crt");

# Thunderbird / NSS: valid signatures (v1 certificates without extensions).
my @tb_valid = map {"$tb/smime/$_"} (
    (map {"alice.dsig.SHA$_.multipart.eml"} qw(1 256 384 512)),
    (map {"alice.sig.SHA$_.opaque.eml"} qw(1 256 384 512)),
    (map {"alice.html.sig.SHA$_.opaque.eml"} qw(1 256 384 512)),
    (map {"alice.env.sig.SHA$_.opaque.eml"} qw(1 256 384 512)),
);
my @tb_bad = map {"$tb/smime/$_"} (
    (map {"alice.dsig.SHA$_.multipart.bad.eml"} qw(1 256 384 512)),
    (map {"alice.dsig.SHA$_.multipart.mismatch-econtent.eml"} qw(1 256)),
    (map {"alice.env.dsig.SHA$_.multipart.eml"} qw(1 256)),
);
my @bc_signed = map {"$bc/$_"}
    qw(validator.validMail.eml 3nnn_smime.eml quotable.message
    embeddedmulti.message qp-soft-break.eml multi-alternative.eml extra-nl.eml
    circular.eml openssl-signed-sha256-non-default-salt-length.eml);

section 'Thunderbird / NSS signatures' => \@verify => sub {
    foreach my $file (@tb_valid) {
        (my $name = $file) =~ s{.*/}{};
        my $r = check(
            message_of($file),
            cafile => $tb_ca,
            sender => 'alice@example.com'
        );
        is $r->{result}, 1, "$name: valid";
        is_deeply $r->{files}, {'alice@example.com' => $alice},
            "$name: Alice's certificate stored for both purposes";
    }
    my $r = check(
        message_of(
            "$tb/smime/alice.plain.dsig.SHA256.multipart.dave.dsig.SHA256.multipart.eml"
        ),
        cafile => $tb_ca,
        sender => 'dave@example.com'
    );
    is_deeply $r->{files}, {'dave@example.com' => pem_of("$tb/pem/Dave.crt")},
        'nested signatures: the outer signer, Dave';

    # Thunderbird / NSS: signatures that must fail.
    foreach my $file (@tb_bad) {
        (my $name = $file) =~ s{.*/}{};
        my $r = check(
            message_of($file),
            cafile => $tb_ca,
            sender => 'alice@example.com'
        );
        is $r->{result}, undef, "$name: invalid";
        is_deeply $r->{files}, {}, "$name: nothing stored";
        ok
            grep({/Unable to verify S\/MIME signature: bad_signature: /}
            @{$r->{logs}}),
            "$name: bad_signature";
    }

};

# Thunderbird / NSS: decryption, then the signature inside, as Sympa does.
section 'Thunderbird / NSS decryption' => \@decrypt => sub {
    my $text = 'This is a test message from Alice to Bob.';
    my ($result, $message) =
        decrypt(message_of("$tb/smime/alice.env.eml"), list => 'tbbob');
    is $result, $message, 'alice.env.eml: decrypted';
    like $message->body_as_string, qr/\A\Q$text\E\r?\n?\z/, '... the text';
    foreach my $sha (qw(1 256 384 512)) {
        my $name = "alice.dsig.SHA$sha.multipart.env.eml";
        my ($result, $message) =
            decrypt(message_of("$tb/smime/$name"), list => 'tbbob');
        is $result,             $message, "$name: decrypted";
        is $message->is_signed, 1,        "$name: signed inside";
        next if sidecar_ready(@verify);
        local $Conf::Conf{'cafile'} = $tb_ca;
        $message->{sender} = 'alice@example.com';
        is $message->check_smime_signature, 1, "$name: inner signature valid";
    }
};

# LAMPS header protection samples.
section 'LAMPS signatures' => \@verify => sub {
    foreach
        my $name (qw(smime-multipart-signed.eml smime-onepart-signed.eml)) {
        my $r = check(
            message_of("$lamps/$name"),
            cafile => $lamps_ca,
            sender => 'alice@smime.example'
        );
        is $r->{result}, 1, "$name: valid";
        is_deeply [keys %{$r->{files}}], ['alice@smime.example'],
            "$name: Alice's certificate stored";
    }
    my $r = check(
        message_of("$lamps/smime-multipart-signed.eml"),
        cafile => $tb_ca,
        sender => 'alice@smime.example'
    );
    ok grep({/untrusted_chain: /} @{$r->{logs}}),
        'smime-multipart-signed.eml, wrong trust anchor: untrusted_chain';

};

section 'LAMPS decryption' => \@decrypt => sub {
    my ($result, $message) =
        decrypt(message_of("$lamps/smime-enc+legacy-disp.eml"),
        list => 'lampsbob');
    is $result, $message, 'smime-enc+legacy-disp.eml: decrypted (3DES)';
    my ($inner_head, $inner_body) = split /\r?\n\r?\n/,
        message_of("$lamps/smime-enc+legacy-disp.inner"), 2;
    (my $body = $message->body_as_string) =~ s/\r\n/\n/g;
    is $body, $inner_body, '... to the body of smime-enc+legacy-disp.inner';
    like $message->header_as_string, qr/^Subject: BarCorp contract signed/m,
        '... with its header';

    foreach my $name (qw(smime-sign+enc.eml smime-sign+enc+legacy-disp.eml)) {
        my ($result, $message) =
            decrypt(message_of("$lamps/$name"), list => 'lampsbob');
        is $result, $message, "$name: decrypted";
        next if sidecar_ready(@verify);
        local $Conf::Conf{'cafile'} = $lamps_ca;
        $message->{sender} = 'alice@smime.example';
        is $message->check_smime_signature, 1, "$name: inner signature valid";
    }
};

# Bouncy Castle: real clients, certificates long expired or untrusted.
section 'Bouncy Castle signatures' => \@verify => sub {
    foreach my $file (@bc_signed) {
        (my $name = $file) =~ s{.*/}{};
        my $r = check(
            message_of($file),
            cafile => "$bc/validator.root.crt",
            sender => 'x@example.org'
        );
        is $r->{died},   undef, "$name: does not die";
        is $r->{result}, undef, "$name: not trusted";
        is
            scalar(grep {/Unable to verify S\/MIME signature: \w+: /}
                @{$r->{logs}}),
            1, "$name: one log line";
    }
};

section 'Bouncy Castle decryption' => \@decrypt => sub {
    my ($result, $message) =
        decrypt(message_of("$bc/test192.message"), list => 'direct');
    is $result, $message, 'test192.message: decrypted';
    like $message->as_string, qr/Ciao from vienna/, '... Ciao from vienna';
    foreach my $name (qw(test128.message test256.message brokenEnv.message)) {
        my ($result, $message) =
            decrypt(message_of("$bc/$name"), list => 'direct');
        ok !$result, "$name: not decrypted (malformed)";
    }
};

# Differential runs against the original (Crypt::SMIME).
section 'signatures as the original' => \@verify => sub {
    plan skip_all => 'Crypt::SMIME hidden or missing' unless xs_available();

    # The original dies on Thunderbird's v1 certificates.
    foreach my $file (@tb_valid[0, 4]) {
        my $r = check(
            message_of($file),
            cafile   => $tb_ca,
            sender   => 'alice@example.com',
            original => 1
        );
        like $r->{died}, qr/No extensions found/,
            "$file: the original dies on a v1 certificate";
    }
    foreach my $case (
        (map { [$_, $tb_ca, 'alice@example.com'] } @tb_bad),
        (   map { ["$lamps/$_", $lamps_ca, 'alice@smime.example'] }
                qw(smime-multipart-signed.eml smime-onepart-signed.eml)
        ),
        (map { [$_, "$bc/validator.root.crt", 'x@example.org'] } @bc_signed),
    ) {
        my ($file, $cafile, $sender) = @$case;
        my $ours = check(
            message_of($file),
            cafile => $cafile,
            sender => $sender
        );
        my $orig = check(
            message_of($file),
            cafile   => $cafile,
            sender   => $sender,
            original => 1
        );
        is_deeply [@$ours{qw(died result signed files)}],
            [@$orig{qw(died result signed files)}],
            "$file: same as the original";
    }
};

section 'decryption as the original' => \@decrypt => sub {
    plan skip_all => 'Crypt::SMIME hidden or missing' unless xs_available();

    foreach my $case (
        ["$tb/smime/alice.env.eml",                       'tbbob'],
        ["$tb/smime/alice.dsig.SHA256.multipart.env.eml", 'tbbob'],
        ["$lamps/smime-enc+legacy-disp.eml",              'lampsbob'],
        ["$lamps/smime-sign+enc.eml",                     'lampsbob'],
        ["$bc/test192.message",                           'direct'],
        ["$bc/test128.message",                           'direct'],
    ) {
        my ($file, $list)         = @$case;
        my ($ours, $ours_message) = decrypt(message_of($file), list => $list);
        my ($orig, $orig_message) =
            decrypt(message_of($file), list => $list, original => 1);
        is_deeply [!!$ours, $ours_message->as_string],
            [!!$orig, $orig_message->as_string],
            "$file: decrypted as the original does";
    }
};

done_testing();
