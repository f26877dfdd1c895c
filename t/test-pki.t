# The Perl suite's PKI builder (t/lib/TestPKI.pm) makes what its options say:
# checked with the openssl CLI, independently of the sidecar.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use Test::More;
use TestPKI;

my $dir = tempdir(CLEANUP => 1);

# openssl's output, undef when it fails; its stderr is not wanted here.
sub text {
    my @args = @_;
    open my $stderr, '>&', \*STDERR    or die "dup: $!";
    open STDERR,     '>',  '/dev/null' or die "/dev/null: $!";
    open my $fh,     '-|', 'openssl', @args or die "openssl: $!";
    open STDERR,     '>&', $stderr or die "dup: $!";
    local $/;
    my $out = <$fh>;
    close $fh;
    return $? ? undef : $out;
}

sub slurp {
    open my $fh, '<', shift or die $!;
    local $/;
    return scalar <$fh>;
}

my $pki = TestPKI->new($dir, extensions => <<'EOF');
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[leaf]
keyUsage = critical, digitalSignature
subjectAltName = email:copy
EOF
$pki->issue('root', subject => '/CN=Root', section => 'ca', days => 30);
$pki->issue(
    'inter',
    issuer  => 'root',
    subject => '/CN=Inter',
    section => 'ca'
);
my $leaf = $pki->issue(
    'leaf',
    issuer   => 'inter',
    key_type => 'ec',
    subject  =>
        "/O=Universit\x{e9}+OU=X/CN=Zo\x{eb}/emailAddress=z\@example.org",
    utf8           => 1,
    multivalue_rdn => 1,
    extensions     => "keyUsage = critical, keyAgreement\n",
    serial         => 4242
);
is $leaf->{cert}, "$dir/leaf.pem", 'the certificate is NAME.pem';

my $root = text('x509', '-in', $pki->cert('root'), '-noout', '-text');
like $root, qr/Issuer: CN ?= ?Root\n.*Subject: CN ?= ?Root\n/s,
    'no issuer: self-signed';
like $root, qr/CA:TRUE/, 'a section of ext.cnf';

my $x509 = text('x509', '-in', $leaf->{cert}, '-noout', '-text',
    '-nameopt', 'utf8,sep_comma_plus');
like $x509,   qr/Serial Number: 4242 /,     'the serial given';
like $x509,   qr/id-ecPublicKey.*P-256/s,   'an EC P-256 key';
like $x509,   qr/Key Agreement/,            'literal extensions';
unlike $x509, qr/Subject Alternative Name/, '... and only them';
like $x509, qr/OU=X\+O=Universit\xc3\xa9,CN=Zo\xc3\xab,/,
    'a UTF-8 subject with a multi-valued RDN';

ok text('verify', '-CAfile', $pki->cert('root'), '-untrusted',
    $pki->cert('inter'), $leaf->{cert}),
    'issued by the intermediate';

my $chain = $pki->chain('leaf');
is slurp($chain), slurp($leaf->{cert}) . slurp($pki->cert('inter')),
    'the chain: leaf and intermediate, not the root';

my $dated = $pki->issue(
    'dated',
    issuer  => 'root',
    subject => '/CN=Dated/emailAddress=dated@example.org',
    section => 'leaf',
    dates   => ['20200101000000Z', '20210101000000Z']
);
like text('x509', '-in', $dated->{cert}, '-noout', '-dates'),
    qr/notBefore=Jan  1 00:00:00 2020 GMT\nnotAfter=Jan  1 00:00:00 2021/,
    'the dates given';

my $pem = $pki->encrypted_key('leaf', 'Secret-1');
like $pem, qr/^-----BEGIN ENCRYPTED PRIVATE KEY-----/, 'PKCS#8 by default';
my $traditional = $pki->encrypted_key($leaf, 'Secret-1', traditional => 1);
like $traditional, qr/Proc-Type: 4,ENCRYPTED/, 'traditional on request';
my $out = "$dir/enc.pem";
open my $fh, '>', $out or die "$out: $!";
print $fh $traditional;
close $fh;
ok defined text('pkey', '-in', $out, '-passin', 'pass:Secret-1', '-noout'),
    'the password opens it';

my $error = eval {
    $pki->encrypted_key('missing', 'Secret-2');
    1;
} ? '' : $@;
like $error,   qr/^openssl pkey/, 'a failure dies with the command';
unlike $error, qr/Secret-2/,      '... and not the password';

my $capath = $pki->capath("$dir/capath", 'root');
ok text('verify', '-CApath', $capath, '-untrusted', $pki->cert('inter'),
    $leaf->{cert}),
    'the capath is hashed';

my $crl = $pki->crl("$dir/crl/root.crl", 'root', $pki->cert('inter'));
like text('crl', '-in', $crl, '-noout', '-text'),
    qr/Serial Number: 65\n.*Key Compromise/s,
    'the CRL revokes the certificate given';
ok !text('verify', '-crl_check', '-CRLfile', $crl, '-CAfile',
    $pki->cert('root'), $pki->cert('inter')),
    'openssl then refuses it';

done_testing();
