# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# smime_decrypt with the setting require_authenticated_encryption (EFAIL):
# mail encrypted with CBC, which anyone holding a copy can alter block by
# block, is refused unless the decrypted content is validly signed by the
# sender (the same check as check_smime_signature: cafile/capath, sender);
# AES-GCM (AuthEnvelopedData) is accepted as is.  Off, CBC decrypts as
# before.
use strict;
use warnings;
use Test::More;

use lib 't/lib';
use SMIMETest;

# Only the settings of this test: no file of the machine.
$ENV{SYMPA_SMIME_CONFIG} = '/dev/null';
delete $ENV{SYMPA_SMIME_REQUIRE_AUTHENTICATED_ENCRYPTION};

my $pki  = pki();
my $home = sympa_home();
my $list = fake_list($home, 'secure');

done_unless_sidecar('smime.decrypt', 'smime.verify');

# What openssl cms -sign writes, without a header of ours: the entity that
# the sender then encrypts.
sub signed_by {
    my $signer = shift;
    return sign_entity($signer, header => '', @_);
}

my %encrypted = (
    cbc        => encrypt_entity(['robot'], args => ['-aes-256-cbc']),
    gcm        => encrypt_entity(['robot'], args => ['-aes-256-gcm']),
    cbc_signed => encrypt_entity(
        ['robot'],
        entity => signed_by('alice'),
        args   => ['-aes-256-cbc']
    ),
    cbc_opaque => encrypt_entity(
        ['robot'],
        entity => signed_by('alice', args => ['-nodetach']),
        args   => ['-aes-256-cbc']
    ),
    cbc_untrusted => encrypt_entity(
        ['robot'],
        entity => signed_by('untrusted'),
        args   => ['-aes-256-cbc']
    ),
    cbc_bob => encrypt_entity(
        ['robot'],
        entity => signed_by('bob'),
        args   => ['-aes-256-cbc']
    ),
);

# Runs smime_decrypt as the robot on a message from $sender.
sub decrypt {
    my $string  = shift;
    my %options = @_;
    my $message = new_message(
        $string,
        context => '*',
        sender  => $options{sender} // 'alice@example.org'
    );
    my $r = run_method($message, 'smime_decrypt');
    # What Sympa then does for a subscriber in "mail" mode.
    $message->prepare_message_according_to_mode('mail', $list);
    $r->{decorate} = $message->{shelved}{decorate};
    return $r;
}

sub decrypted {
    my ($r, $name) = @_;
    is $r->{result},  'self',          "$name: decrypted";
    is $r->{crypted}, 'smime_crypted', "$name: smime_crypted";
    unlike $r->{head}, qr/enveloped-data/i,
        "$name: the header is the inner entity's";
    is_deeply [grep {/could not be decrypted/} @{$r->{logs}}], [],
        "$name: nothing refused";
    is_deeply [sort keys %{files_in($Conf::Conf{'tmpdir'})}], [],
        "$name: nothing written in tmpdir";
}

sub refused {
    my ($r, $name, $why) = @_;
    is $r->{died},      undef,        "$name: does not die";
    is $r->{result},    undef,        "$name: undef, as undecryptable";
    is $r->{after},     $r->{before}, "$name: message intact";
    is $r->{protected}, 1,            "$name: protected";
    ok !$r->{crypted},  "$name: not smime_crypted";
    ok !$r->{decorate}, "$name: Sympa adds no footer";
    my @lines = map { SMIMETest::logs($_) } qw(err warning notice info);
    is scalar(@lines), 1, "$name: one log line";
    like $lines[0],
        qr/\AMessage could not be decrypted: unauthenticated_encryption: aes-256-cbc is not authenticated and the content is not signed by the sender \S+ \($why/,
        "$name: with the reason code and why";
}

# Off (the default): CBC decrypts as it always did.
decrypted(decrypt($encrypted{cbc}), 'off, CBC unsigned');
{
    local $ENV{SYMPA_SMIME_REQUIRE_AUTHENTICATED_ENCRYPTION} = 'no';
    decrypted(decrypt($encrypted{cbc}), 'no, CBC unsigned');
}

local $ENV{SYMPA_SMIME_REQUIRE_AUTHENTICATED_ENCRYPTION} = 'yes';

refused(decrypt($encrypted{cbc}), 'on, CBC unsigned', 'not_smime: ');
decrypted(decrypt($encrypted{gcm}), 'on, GCM unsigned');

my $r = decrypt($encrypted{cbc_signed});
decrypted($r, 'on, CBC signed inside by the sender');
like $r->{head}, qr/^Content-Type: multipart\/signed;/m,
    'on, CBC signed inside: the signed entity is what Sympa gets';
is_deeply [SMIMETest::logs('info')], [],
    'on, CBC signed inside: the check logs nothing';
decrypted(decrypt($encrypted{cbc_opaque}),
    'on, CBC with signed-data inside, by the sender');

refused(
    decrypt($encrypted{cbc_untrusted}, sender => 'untrusted@example.org'),
    'on, CBC signed by a certificate of an untrusted CA',
    'untrusted_chain: '
);
refused(
    decrypt($encrypted{cbc_bob}),
    'on, CBC signed by someone else than the sender',
    'sender_mismatch: '
);
decrypted(decrypt($encrypted{cbc_bob}, sender => 'bob@example.org'),
    'on, CBC signed by bob, from bob');

# The trust settings are Sympa's, as for check_smime_signature.
{
    local $Conf::Conf{cafile} = $pki->{crt}{other};
    refused(
        decrypt($encrypted{cbc_signed}),
        'on, cafile trusting another CA only',
        'untrusted_chain: '
    );
    local $Conf::Conf{cafile} = $pki->{crt}{other};
    local $Conf::Conf{capath} = $pki->{capath};
    decrypted(
        decrypt($encrypted{cbc_signed}),
        'on, capath trusting the CA as well'
    );
}

done_testing();
