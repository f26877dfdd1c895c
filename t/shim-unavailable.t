# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Every replaced function when the sidecar cannot run (java missing): it
# returns its failure value without dying, logs exactly one line, with
# the reason sidecar_unavailable, and never the password; a message that
# cannot be decrypted or checked is left intact and protected.
use strict;
use warnings;
use Test::More;

use lib 't/lib';
use SMIMETest;

my $pki  = pki();
my $home = sympa_home();
my $pw   = $Conf::Conf{'key_passwd'};
my $java = "$ROOT/t/tmp/no-such-dir/java";
$ENV{SYMPA_SMIME_JAVA} = $java;

# Failing closed, not falling back to Crypt::SMIME; the line logged once per
# process on top of the one per message is t/shim-fallback.t's.
$ENV{SYMPA_SMIME_FALLBACK} = 'no';

spurt("$Conf::Conf{'ssl_cert_dir'}/alice\@example.org",
    pem_of($pki->{crt}{alice}));
my $secure = fake_list($home, 'secure');

# The lines a failure logged, debug ones aside.
sub reported {
    my $r = shift;
    return [
        map { $_->[1] }
            grep {
            $_->[0] !~ /^debug/ and $_->[1] !~ /the sidecar cannot run/
            } @{$r->{levels}}
    ];
}

sub run {
    my ($string, $method, %options) = @_;
    my $message = new_message(
        $string,
        context => $options{context} // '*',
        sender  => 'alice@example.org'
    );
    my $r = run_method($message, $method, args => $options{args});
    $r->{levels} = [SMIMETest::logs_with_levels()];
    return $r;
}

sub one_reason {
    my ($r, $name) = @_;
    my $lines = reported($r);
    is scalar(@$lines), 1, "$name: one log line" or diag explain $lines;
    like $lines->[0], qr/sidecar_unavailable: java not found: "\Q$java\E"/,
        "$name: sidecar_unavailable, and why";
    ok !(grep {/\Q$pw\E/} map { $_->[1] } @{$r->{levels}}),
        "$name: no password in the log";
}

my $r = run(sign_entity('alice'), 'check_smime_signature');
is $r->{died},      undef,        'check_smime_signature: does not die';
is $r->{result},    undef,        'check_smime_signature: undef';
is $r->{after},     $r->{before}, 'check_smime_signature: message intact';
is $r->{protected}, 1,            'check_smime_signature: protected';
ok !$r->{signed}, 'check_smime_signature: not smime_signed';
one_reason($r, 'check_smime_signature');

$r = run(encrypt_entity(['robot']), 'smime_decrypt');
is $r->{died},      undef,        'smime_decrypt: does not die';
is $r->{result},    undef,        'smime_decrypt: undef';
is $r->{after},     $r->{before}, 'smime_decrypt: message intact';
is $r->{protected}, 1,            'smime_decrypt: protected';
ok !$r->{crypted}, 'smime_decrypt: not smime_crypted';
$r->{message}->prepare_message_according_to_mode('mail', $secure);
ok !$r->{message}{shelved}{decorate}, 'smime_decrypt: Sympa adds no footer';
one_reason($r, 'smime_decrypt');

my $plain = "From: alice\@example.org\nSubject: x\n"
    . "Content-Type: text/plain\n\nHello\n";
$r = run($plain, 'smime_encrypt', args => ['alice@example.org']);
is $r->{died},   undef,        'smime_encrypt: does not die';
is $r->{result}, undef,        'smime_encrypt: undef';
is $r->{after},  $r->{before}, 'smime_encrypt: message intact';
one_reason($r, 'smime_encrypt');

$r = run($plain, 'smime_sign', context => $secure);
is $r->{died},   undef,        'smime_sign: does not die';
is $r->{result}, undef,        'smime_sign: undef';
is $r->{after},  $r->{before}, 'smime_sign: message intact';
one_reason($r, 'smime_sign');

clear_logs();
my $parsed =
    eval { Sympa::Tools::SMIME::parse_cert(file => $pki->{crt}{alice}); };
is $@,      '',    'parse_cert: does not die';
is $parsed, undef, 'parse_cert: undef';
one_reason({levels => [SMIMETest::logs_with_levels()]}, 'parse_cert');

# A sidecar that does not answer: killed after the timeout, and still one
# line per failure (the client's own line about it is a debug one).
{
    local $ENV{SYMPA_SMIME_JAVA}    = "$ROOT/t/lib/fake-java";
    local $ENV{SYMPA_SMIME_FAKE}    = 'hang';
    local $ENV{SYMPA_SMIME_TIMEOUT} = 0.5;
    foreach my $case (
        [check_smime_signature => sign_entity('alice')],
        [smime_decrypt         => encrypt_entity(['robot'])],
        [smime_encrypt         => $plain, args    => ['alice@example.org']],
        [smime_sign            => $plain, context => $secure],
    ) {
        my ($method, $string, %options) = @$case;
        my $r     = run($string, $method, %options);
        my $lines = reported($r);
        is $r->{result}, undef, "no answer: $method returns undef";
        is scalar(@$lines), 1, "no answer: $method: one log line"
            or diag explain $lines;
        like $lines->[0], qr/timeout: no answer from the sidecar .* killed/,
            "no answer: $method: timeout, and why";
    }
}

# get_cert does not need the sidecar.
is $secure->get_cert('der'),
    openssl_out(slurp($pki->{crt}{secure}), 'x509', '-outform', 'DER'),
    'get_cert(der) works without the sidecar';

done_testing();
