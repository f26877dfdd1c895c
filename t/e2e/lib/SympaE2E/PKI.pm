package SympaE2E::PKI;

# The e2e suite's PKI: a root CA, an intermediate CA, and leaf certificates
# (RSA or EC) issued by the intermediate, as a real S/MIME deployment has.
# The certificates are made by TestPKI, the Perl suite's one builder.

use strict;
use warnings;
use Carp           qw(croak);
use Cwd            qw(abs_path);
use File::Basename qw(dirname);
use lib abs_path(dirname(__FILE__) . '/../../../lib');
use parent 'TestPKI';

sub new {
    my ($class, $dir) = @_;
    my $self = $class->SUPER::new($dir);
    foreach my $ca (['root', undef, 'E2E Root CA', ''],
        ['inter', 'root', 'E2E Intermediate CA', ', pathlen:0']) {
        my ($name, $issuer, $cn, $pathlen) = @$ca;
        $self->issue(
            $name,
            issuer     => $issuer,
            subject    => "/O=sympa-smime e2e/CN=$cn",
            extensions => <<"EOF");
basicConstraints = critical, CA:TRUE$pathlen
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
    }
    return $self;
}

sub root         { $_[0]->cert('root') }
sub intermediate { $_[0]->cert('inter') }

# Issues a leaf certificate. Returns a hash: name, email, cert (leaf only),
# chain (leaf + intermediate), key (unencrypted PKCS#8), key_type.
#   email    => address put in subjectAltName and emailAddress
#   key_type => 'rsa' (default) or 'ec' (P-256)
#   usage    => keyUsage value, default by key type; undef: no keyUsage
#               extension at all (what 6.2.70's parse_cert died on)
#   dns      => a TLS server certificate for this host name instead (no
#               email needed)
sub leaf {
    my ($self, $name, %opt) = @_;
    my $key_type = $opt{key_type} || 'rsa';
    my $usage =
          exists $opt{usage} ? $opt{usage}
        : $key_type eq 'ec'  ? 'digitalSignature,keyAgreement'
        :                      'digitalSignature,keyEncipherment';
    my $email = $opt{email};
    croak 'email or dns required' unless $email or $opt{dns};
    my ($eku, $san, $subject) =
        $opt{dns}
        ? ('serverAuth', "DNS:$opt{dns}", "/CN=$opt{dns}")
        : (
        'emailProtection, clientAuth',
        "email:$email", "/CN=$name/emailAddress=$email"
        );

    my $leaf = $self->issue(
        $name,
        issuer     => 'inter',
        key_type   => $key_type,
        subject    => $subject,
        extensions => "basicConstraints = critical, CA:FALSE\n"
            . (defined $usage ? "keyUsage = critical, $usage\n" : '')
            . <<"EOF");
extendedKeyUsage = $eku
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    return {%$leaf, email => $email, chain => $self->chain($name)};
}

1;
__END__

=head1 NAME

SympaE2E::PKI - throwaway root CA, intermediate CA and leaf certificates

=head1 DESCRIPTION

A L<TestPKI> (F<t/lib/TestPKI.pm>) with the e2e suite's shapes. C<leaf>
issues an RSA or EC (P-256) certificate for an e-mail address (or, with
C<dns>, a TLS server certificate), signed by the intermediate;
C<encrypted_key> (from L<TestPKI>) writes its private key protected by a
password. C<root> and C<intermediate> are the CAs' certificate files.

=cut
