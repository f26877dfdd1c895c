package SympaE2E::PKI;

# A throwaway PKI made with the openssl CLI at test time: a root CA, an
# intermediate CA, and leaf certificates (RSA or EC) issued by the
# intermediate. Nothing here is meant to be secure; it is meant to look like
# what a real S/MIME deployment has.

use strict;
use warnings;
use Carp       qw(croak);
use File::Path qw(make_path);

use SympaE2E::Util qw(run_cmd write_file read_file);

sub new {
    my ($class, $dir) = @_;
    make_path($dir);
    my $self = bless {dir => $dir, serial => 100}, $class;
    $self->_ca('root',  undef,  'E2E Root CA');
    $self->_ca('inter', 'root', 'E2E Intermediate CA');
    return $self;
}

sub dir          { $_[0]{dir} }
sub root         { "$_[0]{dir}/root.pem" }
sub intermediate { "$_[0]{dir}/inter.pem" }

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
    my $dir      = $self->{dir};
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

    my $key = "$dir/$name.key";
    run_cmd(['openssl', 'genpkey', '-out', $key, _keyopts($key_type)]);
    write_file("$dir/$name.ext",
              "basicConstraints = critical, CA:FALSE\n"
            . (defined $usage ? "keyUsage = critical, $usage\n" : '')
            . <<"EOF");
extendedKeyUsage = $eku
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    run_cmd(
        [   'openssl', 'req',   '-new',   '-key',
            $key,      '-subj', $subject, '-out',
            "$dir/$name.csr"
        ]
    );
    $self->_issue($name, 'inter');
    write_file("$dir/$name.chain.pem",
        read_file("$dir/$name.pem") . read_file($self->intermediate));
    return {
        name     => $name,
        email    => $email,
        key_type => $key_type,
        cert     => "$dir/$name.pem",
        chain    => "$dir/$name.chain.pem",
        key      => $key,
    };
}

# The leaf's private key encrypted with $password (PEM): PKCS#8 by default,
# the legacy "Proc-Type: 4,ENCRYPTED" form with traditional => 1.
sub encrypted_key {
    my ($self, $leaf, $password, %opt) = @_;
    return run_cmd(
        [   'openssl',  'pkey', '-in', $leaf->{key}, '-aes256',
            '-passout', "pass:$password",
            ($opt{traditional} ? ('-traditional') : ())
        ]
    );
}

sub _keyopts {
    my $type = shift;
    return $type eq 'ec'
        ? ('-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256')
        : ('-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048');
}

sub _ca {
    my ($self, $name, $issuer, $cn) = @_;
    my $dir     = $self->{dir};
    my $pathlen = $issuer ? ', pathlen:0' : '';
    run_cmd(
        ['openssl', 'genpkey', '-out', "$dir/$name.key", _keyopts('rsa')]);
    write_file("$dir/$name.ext", <<"EOF");
basicConstraints = critical, CA:TRUE$pathlen
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
    run_cmd(
        [   'openssl',                   'req',
            '-new',                      '-key',
            "$dir/$name.key",            '-subj',
            "/O=sympa-smime e2e/CN=$cn", '-out',
            "$dir/$name.csr"
        ]
    );
    $self->_issue($name, $issuer);
}

# Signs NAME.csr with ISSUER (self-signed when undef) and extensions NAME.ext.
sub _issue {
    my ($self, $name, $issuer) = @_;
    my $dir = $self->{dir};
    my @signer =
        $issuer
        ? ('-CA', "$dir/$issuer.pem", '-CAkey', "$dir/$issuer.key")
        : ('-signkey', "$dir/$name.key");
    run_cmd(
        [   'openssl',        'x509',
            '-req',           '-in',
            "$dir/$name.csr", @signer,
            '-set_serial',    $self->{serial}++,
            '-days',          '3650',
            '-extfile',       "$dir/$name.ext",
            '-out',           "$dir/$name.pem"
        ]
    );
}

1;
__END__

=head1 NAME

SympaE2E::PKI - throwaway root CA, intermediate CA and leaf certificates

=head1 DESCRIPTION

Generated with the openssl CLI into a directory. C<leaf> issues an RSA or
EC (P-256) certificate for an e-mail address (or, with C<dns>, a TLS server
certificate), signed by the intermediate;
C<encrypted_key> writes its private key protected by a password.

=cut
