# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# The one builder of test PKIs for the Perl suite (t/ and t/e2e/): a
# throwaway directory of CAs, leaves, CRLs and trust stores made with the
# openssl CLI. Nothing here is meant to be secure. It loads neither Sympa nor
# the shim, so that the e2e suite and the demo can use it too.
package TestPKI;

use strict;
use warnings;
use English    qw(-no_match_vars);
use Carp       qw(croak);
use File::Path qw(make_path);
use File::Temp qw();

sub new {
    my ($class, $dir, %options) = @_;
    make_path($dir);
    my $self = bless {
        dir    => $dir,
        serial => $options{serial} // 100,
        suffix => $options{suffix} // 'pem',
        issuer => {},
    }, $class;
    _spurt("$dir/ext.cnf", $options{extensions})
        if defined $options{extensions};
    return $self;
}

sub dir { $_[0]{dir} }

# Where the certificate and the key of $name are (made or to be made).
sub cert {"$_[0]{dir}/$_[1].$_[0]{suffix}"}
sub key  {"$_[0]{dir}/$_[1].key"}

# Makes a key and a certificate for $name. Options:
#   subject    openssl -subj form; Perl characters, sent as UTF-8
#   issuer     name of a certificate of this PKI; none: self-signed
#   key_type   'rsa' (2048 bits, default) or 'ec' (P-256)
#   section    a section of the extensions given to new (ext.cnf)
#   extensions extension lines instead (written to NAME.ext)
#   utf8, multivalue_rdn  openssl req's -utf8 and -multivalue-rdn
#   dates      [notBefore, notAfter] (YYYYMMDDHHMMSSZ), through openssl ca
#   days       validity otherwise, default 3650
#   serial     default: the next of this PKI's counter; with dates, the CA
#              database's (from 1000)
#   dir        where to write NAME.key and the certificate instead of the
#              PKI's directory (issuers are the PKI's)
# Returns {name, cert, key, key_type}.
sub issue {
    my ($self, $name, %options) = @_;
    my $dir      = $options{dir} // $self->{dir};
    my $key      = "$dir/$name.key";
    my $cert     = "$dir/$name.$self->{suffix}";
    my $key_type = $options{key_type} // 'rsa';
    croak "subject required for $name" unless defined $options{subject};

    openssl('genpkey', '-out', $key, _keyopts($key_type));
    my $subject = $options{subject};
    utf8::encode($subject);
    my @req = ('-new', '-key', $key, '-subj', $subject);
    push @req, '-utf8'           if $options{utf8};
    push @req, '-multivalue-rdn' if $options{multivalue_rdn};
    openssl('req', @req, '-out', "$dir/$name.csr");

    my @ext;
    if (defined $options{extensions}) {
        @ext = ('-extfile', _spurt("$dir/$name.ext", $options{extensions}));
    } elsif (defined $options{section}) {
        @ext = (
            '-extfile',    "$self->{dir}/ext.cnf",
            '-extensions', $options{section}
        );
    }
    my $issuer = $options{issuer};
    if ($options{dates}) {
        croak "dates need an issuer ($name)" unless defined $issuer;
        # openssl ca numbers from its database and has no -set_serial.
        croak "dates and serial together ($name)" if defined $options{serial};
        openssl(
            'ca',          '-batch',
            '-config',     $self->_ca_config,
            '-cert',       $self->cert($issuer),
            '-keyfile',    $self->key($issuer),
            '-in',         "$dir/$name.csr",
            '-out',        $cert,
            '-startdate',  $options{dates}[0],
            '-enddate',    $options{dates}[1],
            '-preserveDN', '-notext',
            @ext
        );
        # What "openssl x509" writes, as for the others.
        openssl('x509', '-in', $cert, '-out', $cert);
    } else {
        my @signer =
            defined $issuer
            ? ('-CA', $self->cert($issuer), '-CAkey', $self->key($issuer))
            : ('-signkey', $key);
        my $serial = $options{serial} // $self->{serial}++;
        openssl('x509', '-req', '-in', "$dir/$name.csr", @signer,
            '-set_serial', $serial, '-days', $options{days} // 3650,
            '-out',        $cert,   @ext);
    }
    $self->{issuer}{$name} = $issuer;
    return {
        name     => $name,
        cert     => $cert,
        key      => $key,
        key_type => $key_type,
    };
}

# Writes NAME.chain.pem: the certificate of $name, then its issuers' up to
# the self-signed root, which is left out (a trust anchor is not sent).
# Returns its path.
sub chain {
    my ($self, $name) = @_;
    my @pems;
    for (my $at = $name; defined $at; $at = $self->{issuer}{$at}) {
        last if $at ne $name and not defined $self->{issuer}{$at};
        push @pems, _slurp($self->cert($at));
    }
    return _spurt("$self->{dir}/$name.chain.pem", @pems);
}

# The private key of $name (or of a hash returned by issue) encrypted with
# $password, PEM: PKCS#8 by default, the legacy "Proc-Type: 4,ENCRYPTED" form
# with traditional => 1. Written to out when given; returned otherwise.
sub encrypted_key {
    my ($self, $name, $password, %options) = @_;
    my $key = ref $name ? $name->{key} : $self->key($name);
    # Through the environment: a password on the command line would show in
    # an error message.
    local $ENV{TESTPKI_PASSWORD} = $password;
    my $out = $options{out} // File::Temp->new;
    openssl('pkey', '-in', $key, '-aes256',
        '-passout', 'env:TESTPKI_PASSWORD',
        ($options{traditional} ? '-traditional' : ()),
        '-out', "$out");
    return defined $options{out} ? $out : _slurp("$out");
}

# A directory of the certificates of @names (NAME.pem), hashed by openssl
# rehash as OpenSSL's capath wants. Returns its path.
sub capath {
    my ($self, $path, @names) = @_;
    make_path($path);
    _spurt("$path/$_.pem", _slurp($self->cert($_))) foreach @names;
    openssl('rehash', $path);
    return $path;
}

# A CRL of $issuer in $file revoking the certificates @certs (paths) for
# keyCompromise, valid 30 days. Its CA database (index.txt) and configuration
# (ISSUER.cnf) are made next to it, in a directory made if need be. Returns
# $file.
sub crl {
    my ($self, $file, $issuer, @certs) = @_;
    (my $dir = $file) =~ s{/[^/]*\z}{};
    make_path($dir);
    _spurt("$dir/index.txt", '');
    my $config = _spurt(
        "$dir/$issuer.cnf", sprintf <<'EOF',
[ca]
default_ca = test_ca
[test_ca]
database = %s/index.txt
certificate = %s
private_key = %s
default_md = sha256
default_crl_days = 30
EOF
        $dir, $self->cert($issuer), $self->key($issuer)
    );
    openssl('ca', '-config', $config, '-revoke', $_, '-crl_reason',
        'keyCompromise')
        foreach @certs;
    openssl('ca', '-config', $config, '-gencrl', '-out', $file);
    return $file;
}

# Runs openssl; dies with its stderr when it fails.
sub openssl {
    my @args = @_;
    my $err  = File::Temp->new;
    my $pid  = fork // croak "fork: $ERRNO";
    unless ($pid) {
        open STDOUT, '>',  '/dev/null';
        open STDERR, '>&', $err;
        exec 'openssl', @args or exit 127;
    }
    waitpid $pid, 0;
    croak sprintf "openssl %s: exit %d\n%s", join(' ', @args),
        $CHILD_ERROR >> 8, _slurp("$err")
        if $CHILD_ERROR;
    return 1;
}

# The database openssl ca needs for certificates with given dates.
sub _ca_config {
    my $self   = shift;
    my $dir    = $self->{dir};
    my $config = "$dir/ca.cnf";
    return $config if -e $config;
    _spurt("$dir/index.txt", '');
    _spurt("$dir/serial",    "1000\n");
    return _spurt($config, <<"EOF");
[ca]
default_ca = test_ca
[test_ca]
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = yes
[policy_any]
commonName = supplied
emailAddress = optional
EOF
}

sub _keyopts {
    my $type = shift;
    return
          $type eq 'ec'  ? qw(-algorithm EC -pkeyopt ec_paramgen_curve:P-256)
        : $type eq 'rsa' ? qw(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)
        :                  croak "unknown key type $type";
}

sub _slurp {
    my $file = shift;
    open my $fh, '<:raw', $file or croak "$file: $ERRNO";
    local $RS;
    return scalar <$fh>;
}

sub _spurt {
    my $file = shift;
    open my $fh, '>:raw', $file or croak "$file: $ERRNO";
    print $fh @_;
    close $fh or croak "$file: $ERRNO";
    return $file;
}

1;
__END__

=head1 NAME

TestPKI - the test PKI builder of the Perl suite

=head1 SYNOPSIS

  use TestPKI;
  my $pki = TestPKI->new($dir, extensions => $cnf, suffix => 'crt');
  $pki->issue('root', subject => '/CN=Root', section => 'v3_ca');
  my $leaf = $pki->issue('alice',
      issuer   => 'root',
      key_type => 'ec',
      subject  => '/CN=Alice/emailAddress=alice@example.org',
      extensions => "subjectAltName = email:copy\n",
      dates    => ['20200101000000Z', '20210101000000Z']);
  $pki->chain('alice');
  $pki->encrypted_key('alice', $password, traditional => 1);
  $pki->capath("$dir/capath", 'root');
  $pki->crl("$crl_dir/root.crl", 'root', $leaf->{cert});

=head1 DESCRIPTION

Every test certificate of F<t/> is made here: the fixed PKI and the
certificates of L<SMIMETest> (C<pki>, C<issue_cert>, C<revoking_crl>), and
the root, intermediate and leaves of L<SympaE2E::PKI> (the e2e suite, the
web test and the demo). A new certificate shape is an option of C<issue>.

Files in the directory: F<NAME.key> (unencrypted PKCS#8), the certificate
F<NAME.pem> (or the suffix given to C<new>), F<NAME.csr>, F<NAME.ext> for
literal extensions, F<ext.cnf> for the sections given to C<new>, and
F<ca.cnf>, F<index.txt> and F<serial> once a certificate has dates.

C<openssl> runs the openssl command and dies with its standard error when it
fails; passwords go through the environment, never the command line.

=cut
