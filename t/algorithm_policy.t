# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# The algorithm policy settings (md5, sha1, dsa, min_rsa_bits,
# strong_rsa_bits, min_ec_bits) reach smime.verify and smime.sign: a stricter
# setting refuses what the defaults accept, in both directions of the list's
# mail, and a value the sidecar does not know refuses everything rather than
# weakening anything.
use strict;
use warnings;
use File::Path qw(make_path);
use Test::More;

use lib 't/lib';
use SMIMETest;

my $pki  = pki();
my $home = sympa_home();
make_path($Conf::Conf{'ssl_cert_dir'});
my $list = fake_list($home, 'secure');

done_unless_sidecar('smime.verify', 'smime.sign');

my $signed = sign_entity('alice');

sub check {
    my $message = new_message($signed, sender => 'alice@example.org');
    return run_method($message, 'check_smime_signature');
}

sub sign {
    my $message = new_message(
        "From: Secure List <secure\@lists.example.org>\n"
            . "Subject: policy\nMIME-Version: 1.0\n"
            . SMIMETest::entity(),
        context => $list,
        sender  => 'alice@example.org'
    );
    return run_method($message, 'smime_sign');
}

sub with_env {
    my %env  = @_;
    my $code = delete $env{code};
    local @ENV{map {"SYMPA_SMIME_\U$_"} keys %env} = values %env;
    return $code->();
}

my $r = check();
is $r->{result}, 1, 'defaults: the signature verifies';
ok $r->{signed}, 'defaults: smime_signed';

$r = with_env(min_rsa_bits => 4096, code => \&check);
is $r->{result}, undef, 'min_rsa_bits 4096: refused';
ok !$r->{signed}, 'min_rsa_bits 4096: not smime_signed';
like join("\n", logs('err'), logs('info'), logs('notice')),
    qr/unsupported_algorithm: .*at least 4096 bits/,
    'min_rsa_bits 4096: the reason and the rule in the log';

$r = with_env(md5 => 'maybe', code => \&check);
is $r->{result}, undef, 'md5 = maybe: refused, not weakened';
like join("\n", logs()),
    qr/algorithm_policy\.md5 must be refuse, warn or accept/,
    'md5 = maybe: the log says what is wrong';

$r = with_env(min_rsa_bits => 1024, strong_rsa_bits => 4096, code => \&check);
is $r->{result}, 1, 'strong_rsa_bits 4096: still accepted';

$r = sign();
is $r->{result}, 'self', 'defaults: the list signs';
$r = with_env(min_rsa_bits => 4096, code => \&sign);
is $r->{result}, undef, 'min_rsa_bits 4096: the list does not sign';
like join("\n", logs('err')), qr/unsupported_algorithm: .*at least 4096 bits/,
    'min_rsa_bits 4096: the signing failure says why';

done_testing;
