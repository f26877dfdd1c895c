# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Sympa::Message::smime_decrypt through smime.decrypt, on messages encrypted
# by openssl for the robot's and lists' keys: return values, flags, the
# header and body that replace the message's, failures (message intact and
# protected); then the original (Crypt::SMIME) on the same messages.
use strict;
use warnings;
use File::Path qw(make_path);
use Test::More;

use lib 't/lib';
use SMIMETest;

my $pki  = pki();
my $home = sympa_home();
my $pw   = $Conf::Conf{'key_passwd'};

# An EC list, and a list without keys.
make_path("$home/list_data/eclist", "$home/list_data/nokeys");
spurt("$home/list_data/eclist/cert.pem",    slurp($pki->{crt}{ec}));
spurt("$home/list_data/eclist/private_key", slurp($pki->{key}{ec}));
my %context = (
    robot => '*',
    map { ($_ => fake_list($home, $_)) } qw(secure split eclist nokeys),
);

# MIME::Parser temporary files on disk (not in memory), while decrypting.
my $disk_tmpfiles = 0;
{
    no warnings 'redefine';
    my $new_tmpfile = \&MIME::Parser::new_tmpfile;
    *MIME::Parser::new_tmpfile = sub {
        my $parser = shift;
        $disk_tmpfiles++ unless $parser->tmp_to_core;
        return $new_tmpfile->($parser, @_);
    };
}

# Runs smime_decrypt on a fresh message; returns what happened.
sub decrypt {
    my $string  = shift;
    my %options = @_;

    my $message = new_message($string,
        context => $context{$options{context} // 'robot'});
    $disk_tmpfiles = 0;
    local $Conf::Conf{'key_passwd'} = $options{key_passwd} // $pw;
    return {
        %{  run_method($message, 'smime_decrypt',
                original => $options{original})
        },
        tmpfiles      => [sort keys %{files_in($Conf::Conf{'tmpdir'})}],
        disk_tmpfiles => $disk_tmpfiles,
        # What Sympa then does for a subscriber in "mail" mode.
        decorate => do {
            $message->prepare_message_according_to_mode('mail',
                $context{secure});
            $message->{shelved}{decorate};
        },
    };
}

my $entity = SMIMETest::entity();
(my $crlf_body = (split /\n\n/, $entity, 2)[1]) =~ s/\n/\r\n/g;
my $multipart = <<'EOF';
Content-Type: multipart/mixed; boundary="inner"

--inner
Content-Type: text/plain

part one
--inner
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAECAwQ=
--inner--
EOF
my $binary = "Content-Type: application/octet-stream\n\n"
    . "LF only\nNUL \0 here\rlone CR\n\xff\xfe";

# Gate: what is not application/(x-)pkcs7-mime enveloped is left alone.
foreach my $case (
    [unsigned => "From: a\@example.org\nSubject: x\n\nHello\n"],
    [signed   => sign_entity('alice')],
    [opaque   => sign_entity('alice', args => ['-nodetach'])],
) {
    my ($name, $string) = @$case;
    my $r = decrypt($string);
    is $r->{result}, 0,            "$name: 0";
    is $r->{after},  $r->{before}, "$name: untouched";
    ok !$r->{protected}, "$name: not protected";
}

done_unless_sidecar('smime.decrypt');

my %encrypted = (
    robot  => encrypt_entity(['robot']),
    secure => encrypt_entity(['secure']),
    split  => encrypt_entity(['split_enc']),
    second => encrypt_entity(['bob', 'robot']),
    aes256 => encrypt_entity(['robot'], args => ['-aes256']),
    des3   => encrypt_entity(['robot'], args => ['-des3']),
    gcm    => encrypt_entity(['robot'], args => ['-aes-128-gcm']),
    oaep   => encrypt_entity(
        [],
        args => [
            '-aes128',          '-recip',
            $pki->{crt}{robot}, '-keyopt',
            'rsa_padding_mode:oaep'
        ]
    ),
    keyid     => encrypt_entity(['robot'], args => ['-aes128', '-keyid']),
    ec        => encrypt_entity(['ec']),
    multipart => encrypt_entity(['robot'], entity => $multipart),
    binary    => encrypt_entity(
        ['robot'],
        entity => $binary,
        args   => ['-aes128', '-binary']
    ),
    bob => encrypt_entity(['bob']),
    rc2 => encrypt_entity(
        ['robot'],
        args => ['-rc2', '-provider', 'legacy', '-provider', 'default']
    ),
);
($encrypted{xpkcs7} = $encrypted{robot}) =~
    s{application/pkcs7-mime}{application/x-pkcs7-mime}
    or die;

my @ok = (
    [robot  => 'robot'],
    [secure => 'secure'],
    [split  => 'split'],
    [second => 'robot'],
    [aes256 => 'robot'],
    [des3   => 'robot'],
    [gcm    => 'robot'],
    [oaep   => 'robot'],
    [keyid  => 'robot'],
    [ec     => 'eclist'],
    [xpkcs7 => 'robot'],
);
foreach my $case (@ok) {
    my ($name, $context) = @$case;
    my $r = decrypt($encrypted{$name}, context => $context);
    is $r->{result},  'self',          "$name: returns the message";
    is $r->{crypted}, 'smime_crypted', "$name: smime_crypted";
    is $r->{orig},    $r->{before},    "$name: orig_msg_as_string";
    ok !$r->{protected}, "$name: not protected";
    is $r->{body}, $crlf_body, "$name: body as encrypted (CRLF)";
    like $r->{head}, qr/^Content-Type: text\/plain; charset=utf-8$/m,
        "$name: the inner Content-Type";
    like $r->{head}, qr/^Subject: Test message$/m,
        "$name: outer fields restored";
    unlike $r->{head}, qr/pkcs7|smime\.p7m/, "$name: no outer S/MIME field";
    is_deeply $r->{tmpfiles}, [], "$name: nothing in tmpdir";
}

my $r = decrypt($encrypted{multipart});
is $r->{result}, 'self', 'multipart: returns the message';
like $r->{head}, qr/^Content-Type: multipart\/mixed; boundary="inner"$/m,
    'multipart: inner Content-Type';
unlike $r->{head}, qr/^Content-(Transfer-Encoding|Disposition):/m,
    'multipart: outer Content-Transfer-Encoding and -Disposition dropped';
($multipart = (split /\n\n/, $multipart, 2)[1]) =~ s/\n/\r\n/g;
is $r->{body}, $multipart, 'multipart: body';
is $r->{disk_tmpfiles}, 0,
    'multipart: MIME::Parser kept its temporary files in memory';

$r = decrypt($encrypted{binary});
is $r->{body}, (split /\n\n/, $binary, 2)[1], 'binary: every byte kept';

# Failures: undef, the message intact and protected, one reason.
foreach my $case (
    [   'not for us' => $encrypted{bob},
        [], qr/could not be decrypted: no_matching_key: /
    ],
    [   'wrong password' => $encrypted{secure},
        [context => 'secure', key_passwd => 'wrong'],
        qr/could not be decrypted: bad_password: /
    ],
    [   'no keys' => $encrypted{robot},
        [context => 'nokeys'],
        qr/Unable to decrypt message: file_unreadable: missing certificate file/
    ],
    [   'RC2' => $encrypted{rc2},
        [], qr/could not be decrypted: unsupported_algorithm: /
    ],
) {
    my ($name, $string, $options, $reason) = @$case;
    my $r = decrypt($string, @$options);
    is $r->{died},      undef,        "$name: does not die";
    is $r->{result},    undef,        "$name: undef";
    is $r->{after},     $r->{before}, "$name: message intact";
    is $r->{protected}, 1,            "$name: protected";
    ok !$r->{decorate}, "$name: Sympa adds no footer";
    ok !$r->{crypted},  "$name: not smime_crypted";
    is scalar(grep { $_ =~ $reason } @{$r->{logs}}), 1,
        "$name: one log line with the reason";
}

SKIP: {
    skip 'Crypt::SMIME hidden or missing', 1 unless xs_available();

    # Differential: the same header and body as 6.2.70.
    foreach my $case (@ok, [multipart => 'robot'], [binary => 'robot']) {
        my ($name, $context) = @$case;
        my $ours = decrypt($encrypted{$name}, context => $context);
        my $orig =
            decrypt($encrypted{$name}, context => $context, original => 1);
        is_deeply [@$ours{qw(died result after crypted orig protected)}],
            [@$orig{qw(died result after crypted orig protected)}],
            "$name: same as the original";
    }
    my $orig = decrypt($encrypted{multipart}, original => 1);
    ok $orig->{disk_tmpfiles},
        'multipart: the original\'s parser used a temporary file on disk';

    foreach my $case ([bob => []], [secure => [key_passwd => 'wrong']]) {
        my ($name, $options) = @$case;
        my $orig = decrypt(
            $encrypted{$name}, @$options,
            original => 1,
            context  => ($name eq 'secure' ? 'secure' : 'robot')
        );
        is $orig->{result}, undef, "$name: the original fails too";
        ok !$orig->{protected}, "$name: but leaves the message unprotected";
        is $orig->{decorate}, 1, "$name: so Sympa adds a footer";
    }
}

done_testing();
