# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Sympa::Message::smime_encrypt through smime.encrypt: certificate lookup in
# ssl_cert_dir, the message that results (checked and opened with openssl),
# failures; round trips with smime_decrypt; the original (Crypt::SMIME) on
# the same messages.
use strict;
use warnings;
use File::Temp qw();
use Test::More;

use lib 't/lib';
use SMIMETest;

my $pki   = pki();
my $home  = sympa_home();
my $certs = $Conf::Conf{'ssl_cert_dir'};
my $tmp   = File::Temp->newdir(DIR => "$ROOT/t/tmp");

my $plain = <<"EOF";
Return-Path: <alice\@example.org>
Received: from a by b; Sun, 29 Nov 2026 12:00:00 +0000
Received: from c by d; Sun, 29 Nov 2026 11:59:00 +0000
From: Alice User <alice\@example.org>
To: secure\@lists.example.org
Subject: Test message
Message-ID: <plain\@example.org>
MIME-Version: 1.0
X-Folded: one
 two
@{[SMIMETest::entity()]}
EOF
chomp $plain;
my ($plain_head, $plain_body) = split /\n\n/, $plain, 2;

# Runs smime_encrypt($email) on a fresh message.
sub encrypt {
    my $email   = shift;
    my %options = @_;
    return run_method(
        new_message($plain), 'smime_encrypt',
        args     => [$email],
        original => $options{original}
    );
}

# openssl cms -decrypt of a message with $who's key.
sub openssl_decrypt {
    my ($string, $who) = @_;
    return openssl_out($string, 'cms', '-decrypt', '-recip',
        $pki->{crt}{$who},
        '-inkey', $pki->{key}{$who});
}

sub install_cert {
    my ($file, $who) = @_;
    spurt("$certs/$file",
        $who =~ m{/} ? slurp($who) : pem_of($pki->{crt}{$who}));
}

install_cert('alice@example.org', 'alice');

my $r = encrypt('nobody@example.org');
is $r->{result}, undef,        'no certificate: undef';
is $r->{after},  $r->{before}, 'no certificate: message intact';
is scalar(
    grep {
        /^Unable to encrypt message to nobody\@example\.org: file_unreadable: missing certificate .*nobody\@example\.org$/
    } @{$r->{logs}}
    ),
    1, 'no certificate: one log line with the reason';

done_unless_sidecar('smime.encrypt', 'smime.decrypt');

# The inner entity: MIME-* and Content-* fields, then the body, in CRLF.
my $inner =
    join("\n", grep {/^(MIME|Content)-/i} split /\n(?![ \t])/, $plain_head)
    . "\n\n$plain_body";
$inner =~ s/\n/\r\n/g;

$r = encrypt('alice@example.org');
is $r->{result}, 'self', 'returns the message';
my $head = $r->{head};
like $head,
    qr/^Content-Type: application\/pkcs7-mime; smime-type=enveloped-data;\s+name="smime\.p7m"$/m,
    'application/pkcs7-mime enveloped-data';
like $head, qr/^Content-Disposition: attachment; filename="smime\.p7m"$/m,
    'Content-Disposition';
like $head, qr/^Content-Transfer-Encoding: base64$/m, 'base64';

foreach my $field (
    'Subject: Test message',
    'Message-ID: <plain@example.org>',
    "X-Folded: one\n two",
    'From: Alice User <alice@example.org>'
) {
    like $head, qr/^\Q$field\E$/m, "clear field kept: $field";
}
is scalar(() = $head =~ /^Received:/mg), 2, 'both Received fields';
unlike $head, qr/charset=utf-8/,     'the inner Content-Type is not outside';
unlike $r->{after}, qr/Hello world/, 'the body is encrypted';
is openssl_decrypt($r->{message}->as_string, 'alice'), $inner,
    'openssl opens it: MIME fields and body, CRLF';
is openssl_decrypt($r->{message}->as_string, 'bob'), undef,
    'bob cannot open it';
my $print = openssl_out($r->{message}->as_string, 'cms', '-cmsout', '-print');
like $print, qr/algorithm: aes-128-cbc/,   'AES-128-CBC (the default)';
like $print, qr/algorithm: rsaEncryption/, 'RSA PKCS#1 v1.5 (the default)';

# @enc comes first; names are encode_filesystem_safe()d.
install_cert('carol@example.org',     'sigonly');
install_cert('carol@example.org@enc', 'bob');
$r = encrypt('carol@example.org');
ok openssl_decrypt($r->{message}->as_string, 'bob'), '@enc first';
install_cert("o_27brien\@example.org", 'bob');
$r = encrypt("o'brien\@example.org");
ok openssl_decrypt($r->{message}->as_string, 'bob'),
    'file name made safe as Sympa does';

# EC recipients get ECDH.
install_cert('ec@example.org', 'ec');
$r = encrypt('ec@example.org');
is openssl_decrypt($r->{message}->as_string, 'ec'), $inner, 'EC recipient';

# Round trip with smime_decrypt, as Sympa re-encrypts a list message.
install_cert('sympa@lists.example.org', 'robot');
$r = encrypt('sympa@lists.example.org');
my $round = new_message($r->{message}->as_string);
is $round->smime_decrypt, $round, 'round trip: smime_decrypt opens it';
is $round->body_as_string, ($plain_body =~ s/\n/\r\n/gr),
    'round trip: same body (CRLF)';
my $round_head = $round->header_as_string;

foreach my $field (split /\n(?![ \t])/, $plain_head) {
    next if $field =~ /^Return-Path:/;
    like $round_head, qr/^\Q$field\E$/m, "round trip: $field";
}

# Certificates that cannot receive: undef, so Sympa sends
# x509-user-cert-missing; 6.2.70 encrypted to them anyway.
spurt("$certs/empty\@example.org",   '');
spurt("$certs/garbage\@example.org", "garbage\n");
install_cert('expired@example.org', 'expired');
install_cert('sigonly@example.org', 'sigonly');
my %refused = (
    'empty@example.org'   => qr/bad_certificate|no_recipients/,
    'garbage@example.org' => qr/bad_certificate|no_recipients/,
    'expired@example.org' => qr/expired/,
    'sigonly@example.org' => qr/wrong_usage/,
);
foreach my $email (sort keys %refused) {
    my $r = encrypt($email);
    is $r->{died},   undef,        "$email: does not die";
    is $r->{result}, undef,        "$email: undef";
    is $r->{after},  $r->{before}, "$email: message intact";
    is
        scalar(
        grep {/Unable to encrypt message to \Q$email\E: $refused{$email}: /}
            @{$r->{logs}}),
        1, "$email: one log line with the reason";
}

SKIP: {
    skip 'Crypt::SMIME hidden or missing', 1 unless xs_available();

    # Differential: same header (the body is random), both open the same.
    my $ours = encrypt('alice@example.org');
    my $orig = encrypt('alice@example.org', original => 1);
    is $orig->{result}, 'self',        'the original returns the message too';
    is $ours->{head},   $orig->{head}, 'same header as the original';
    is openssl_decrypt($ours->{message}->as_string, 'alice'),
        openssl_decrypt($orig->{message}->as_string, 'alice'),
        'same encrypted entity as the original';
    like $ours->{message}->body_as_string, qr/\A([A-Za-z0-9+\/=]{64}\r\n)+/,
        'base64 in 64 columns, CRLF, like the original';

    # Decrypted by the other side.
    foreach my $pair ([$ours, 'original'], [$orig, 'shim']) {
        my ($r, $by) = @$pair;
        $r = encrypt('sympa@lists.example.org',
            ($by eq 'shim' ? (original => 1) : ()));
        my $message = new_message($r->{message}->as_string);
        my $result =
            $by eq 'original'
            ? with_originals(sub { $message->smime_decrypt })
            : $message->smime_decrypt;
        is $result, $message, "the $by decrypts it";
        is $message->body_as_string, ($plain_body =~ s/\n/\r\n/gr),
            "the $by finds the same body";
    }

    # 6.2.70 encrypts where the shim refuses.
    foreach my $email (sort keys %refused) {
        my $r = encrypt($email, original => 1);
        is $r->{result}, 'self', "$email: the original encrypts anyway";
    }
}

done_testing();
