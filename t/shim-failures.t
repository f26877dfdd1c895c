# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Failures of the replaced functions that are not the sidecar's: an
# ssl_cert_dir that cannot be written, a tmpdir that does not exist, an
# answer MIME::Parser cannot parse.  Each returns the failure value without
# dying and logs one line with a reason code.
use strict;
use warnings;
use Test::More;

use lib 't/lib';
use SMIMETest;

my $pki  = pki();
my $home = sympa_home();
spurt("$Conf::Conf{'ssl_cert_dir'}/sympa\@lists.example.org",
    pem_of($pki->{crt}{robot}));
my $secure = fake_list($home, 'secure');

done_unless_sidecar(
    qw(smime.verify smime.sign smime.encrypt smime.decrypt x509.parse));

my $plain = "From: secure\@lists.example.org\nSubject: x\n"
    . "Content-Type: text/plain\n\nHello\n";

# The lines logged, debug ones aside.
sub reported {
    return map { $_->[1] }
        grep { $_->[0] !~ /^debug/ } SMIMETest::logs_with_levels();
}

sub run {
    my ($string, $method, %options) = @_;
    my $message = new_message(
        $string,
        context => $options{context} // '*',
        sender  => $options{sender}  // 'alice@example.org'
    );
    return run_method($message, $method, args => $options{args});
}

# ssl_cert_dir cannot be written: the signature is good, but the signer's
# certificate cannot be stored.
{
    local $Conf::Conf{'ssl_cert_dir'} = "$home/no-such-dir";
    my $r = run(sign_entity('alice'), 'check_smime_signature');
    is $r->{died},   undef, 'ssl_cert_dir unwritable: does not die';
    is $r->{result}, undef, 'ssl_cert_dir unwritable: undef';
    my @lines = reported();
    is scalar(@lines), 1, 'ssl_cert_dir unwritable: one log line';
    like $lines[0],
        qr/^Unable to create certificate file \Q$home\E\/no-such-dir\/alice\@example\.org: file_unwritable: /,
        'ssl_cert_dir unwritable: with the reason';
}

# tmpdir does not exist: 6.2.70's smime_sign() died in MIME::Parser.
{
    local $Conf::Conf{'tmpdir'} = "$home/no-such-tmpdir";
    my $r = run($plain, 'smime_sign', context => $secure);
    is $r->{died},   undef,  'no tmpdir: smime_sign does not die';
    is $r->{result}, 'self', 'no tmpdir: smime_sign signs';
    is openssl_out($r->{after}, 'cms', '-verify', '-CAfile', $pki->{cafile}),
        "Content-Type: text/plain\r\n\r\nHello\r\n",
        'no tmpdir: openssl verifies it';
    $r = run($plain, 'smime_encrypt', args => ['sympa@lists.example.org']);
    is $r->{result}, 'self', 'no tmpdir: smime_encrypt encrypts';
    $r = run($r->{after}, 'smime_decrypt');
    is $r->{result}, 'self',      'no tmpdir: smime_decrypt decrypts';
    is $r->{body},   "Hello\r\n", 'no tmpdir: the body';
    ok !-e $Conf::Conf{'tmpdir'}, 'no tmpdir: none was made';

    if (xs_available()) {
        my $orig = run_method(new_message($plain, context => $secure),
            'smime_sign', original => 1);
        like $orig->{died}, qr/tempfile/,
            'no tmpdir: the original smime_sign dies';
    }
}

# An answer whose header MIME::Parser cannot parse (the shim reads only the
# header, with MIME::Parser's process_header()).
my $encrypted = encrypt_entity(['robot']);
foreach my $how ('dies', 'returns nothing') {
    my $why =
        $how eq 'dies' ? 'parser trouble' : 'MIME::Parser found no header';
    foreach my $case (
        [smime_decrypt => $encrypted, 'Message could not be decrypted'],
        [   smime_encrypt => $plain,
            'Unable to encrypt message to sympa@lists.example.org',
            args => ['sympa@lists.example.org']
        ],
        [   smime_sign => $plain,
            'Unable to S/MIME sign message',
            context => $secure
        ],
    ) {
        my ($method, $string, $prefix, %options) = @$case;
        # Sympa::Message->new() parses too: the message is made first.
        my $message =
            new_message($string, context => $options{context} // '*');
        no warnings 'redefine';
        local *MIME::Parser::process_header =
            $how eq 'dies'
            ? sub { die "parser trouble\n" }
            : sub { return undef };
        my $r = run_method($message, $method, args => $options{args});
        is $r->{died},   undef,        "parser $how: $method does not die";
        is $r->{result}, undef,        "parser $how: $method returns undef";
        is $r->{after},  $r->{before}, "parser $how: $method: message intact";
        is_deeply [reported()],
            ["$prefix: internal: the sidecar's answer cannot be parsed: "
                . $why
            ],
            "parser $how: $method: one log line with the reason";
        is $r->{protected}, 1, "parser $how: $method: protected"
            if $method eq 'smime_decrypt';
    }
}

done_testing();
