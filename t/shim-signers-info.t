# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# smime.verify answers what x509.parse says of each signer (signers_info), so
# check_smime_signature() makes one sidecar call, not one more per signer; a
# sidecar without signers_info (an older jar) still gets the x509.parse
# calls, with the same outcome.
use strict;
use warnings;
use Test::More;

use lib 't/lib';
use SMIMETest;

my $home = sympa_home();
done_unless_sidecar(qw(smime.verify x509.parse));

my $signed = sign_entity('alice');

my @methods;
my $drop_info = 0;
{
    no warnings 'redefine';
    my $call = \&Sympa::SMIME::Sidecar::call;
    *Sympa::SMIME::Sidecar::call = sub {
        my ($self, $method) = @_;
        push @methods, $method;
        my $result = $call->(@_);
        delete $result->{signers_info} if $drop_info;
        return $result;
    };
}

foreach my $older (0, 1) {
    $drop_info = $older;
    @methods   = ();
    my $message = new_message($signed);
    is $message->check_smime_signature, 1,
        ($older ? 'without' : 'with') . ' signers_info: verified';
    is $message->{smime_signed}, 1, '... smime_signed';
    ok -f "$Conf::Conf{ssl_cert_dir}/alice\@example.org",
        '... the certificate is stored';
    is_deeply \@methods,
        [$older ? ('smime.verify', 'x509.parse') : ('smime.verify')],
        '... sidecar calls: ' . join ', ', @methods;
    unlink "$Conf::Conf{ssl_cert_dir}/alice\@example.org";
}

done_testing();
