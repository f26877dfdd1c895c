# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Byte-exactness through the shim: a Latin-1 body with a NUL byte goes
# through smime_encrypt then smime_decrypt, smime_sign then
# check_smime_signature, and check_smime_signature of a message signed by
# openssl, with the same bytes at the end.  Each case runs twice: on byte
# strings, as Sympa keeps messages, and with the body upgraded to a string
# with the UTF8 flag on (what a concatenation with a character string does
# in Perl), whose characters are still those bytes.
use strict;
use warnings;
use File::Temp qw();
use Test::More;

use lib 't/lib';
use SMIMETest;

my $pki  = pki();
my $home = sympa_home();
my $tmp  = File::Temp->newdir(DIR => "$ROOT/t/tmp");
spurt("$Conf::Conf{'ssl_cert_dir'}/sympa\@lists.example.org",
    pem_of($pki->{crt}{robot}));

done_unless_sidecar(qw(smime.encrypt smime.decrypt smime.sign smime.verify));

# Latin-1, a NUL, bytes that are not UTF-8, and a UTF-8 sequence that a
# second encoding would change.
my $body = "Caf\xe9 cr\xe8me \xe0 la NUL \0 here, \xff\xfe, "
    . "d\xc3\xa9j\xc3\xa0 UTF-8\nsecond line\n";
my $entity = "Content-Type: text/plain; charset=iso-8859-1\n"
    . "Content-Transfer-Encoding: 8bit\n\n$body";
my $plain = <<"EOF" . $entity;
From: Secure List <secure\@lists.example.org>
To: sympa\@lists.example.org
Subject: 8-bit test
Message-ID: <eightbit\@example.org>
MIME-Version: 1.0
EOF
(my $crlf_body   = $body)   =~ s/\n/\r\n/g;
(my $crlf_entity = $entity) =~ s/\n/\r\n/g;

# A message whose body is $flagged: bytes, or the same characters with the
# UTF8 flag on.
sub message {
    my ($string, $flagged, %options) = @_;
    my $message = new_message($string, %options);
    if ($flagged) {
        utf8::upgrade($message->{_body});
        die 'the body is not upgraded'
            unless utf8::is_utf8($message->as_string);
    }
    return $message;
}

foreach my $flagged (0, 1) {
    my $kind = $flagged ? 'UTF8 flag on' : 'bytes';

    # smime_encrypt, then openssl and smime_decrypt open it.
    my $message = message($plain, $flagged);
    is $message->smime_encrypt('sympa@lists.example.org'), $message,
        "$kind: smime_encrypt";
    my $string = $message->as_string;
    ok !utf8::is_utf8($string), "$kind: the encrypted message is bytes";
    is openssl_out($string, 'cms', '-decrypt', '-recip', $pki->{crt}{robot},
        '-inkey', $pki->{key}{robot}),
        "MIME-Version: 1.0\r\n$crlf_entity",
        "$kind: openssl finds the same bytes inside";
    my $received = new_message($string);
    is $received->smime_decrypt, $received, "$kind: smime_decrypt";
    is $received->body_as_string, $crlf_body,
        "$kind: the same body bytes after decryption";

    # smime_sign, then check_smime_signature (which smime_sign calls) and
    # openssl verify it.
    $message = message(
        $plain, $flagged,
        context => fake_list($home, 'secure'),
        sender  => 'secure@lists.example.org'
    );
    clear_logs();
    is $message->smime_sign, $message, "$kind: smime_sign";
    is $message->{smime_signed}, 1,
        "$kind: check_smime_signature accepts the list's signature"
        or diag join "\n", logs();
    $string = $message->as_string;
    is openssl_out($string, 'cms', '-verify', '-CAfile', $pki->{cafile}),
        $crlf_entity, "$kind: openssl verifies the same bytes";
    ok !utf8::is_utf8($string), "$kind: the signed message is bytes";

    # check_smime_signature of what a client signed.
    $message = message(sign_entity('alice', entity => $entity),
        $flagged, sender => 'alice@example.org');
    clear_logs();
    is $message->check_smime_signature, 1,
        "$kind: check_smime_signature of an 8-bit message signed by openssl"
        or diag join "\n", logs();
}

SKIP: {
    skip 'Crypt::SMIME hidden or missing', 1 unless xs_available();

    # Crypt::SMIME takes the internal UTF-8 form of an upgraded string:
    # every 8-bit byte of the body is encoded a second time.
    my $message = message($plain, 1);
    with_originals(sub { $message->smime_encrypt('sympa@lists.example.org') }
    );
    my $twice = $crlf_entity;
    utf8::encode($twice);
    is openssl_out(
        $message->as_string, 'cms',    '-decrypt', '-recip',
        $pki->{crt}{robot},  '-inkey', $pki->{key}{robot}
        ),
        "MIME-Version: 1.0\r\n$twice",
        'the original encodes the 8-bit bytes of an upgraded body twice';
}

done_testing();
