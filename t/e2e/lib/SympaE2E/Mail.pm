package SympaE2E::Mail;

# Builds S/MIME test messages and checks what Sympa sends, with the openssl
# CLI as the independent peer.

use strict;
use warnings;
use Carp       qw(croak);
use Exporter   qw(import);
use File::Temp qw(tempfile);
use POSIX      qw(strftime);

use SympaE2E::Util qw(run_cmd try_cmd write_file read_file);

our @EXPORT_OK = qw(text_entity sign_entity encrypt_entity message
    cms_verify cms_decrypt cms_certificates cert_subject);

our $TMPDIR = '/tmp';
my $counter = 0;

sub _tmp {
    my $content = shift;
    my ($fh, $name) = tempfile('e2e-XXXXXX', DIR => $TMPDIR, UNLINK => 1);
    binmode $fh;
    print $fh $content;
    close $fh;
    return $name;
}

# A text/plain MIME entity (header fields, empty line, body).
sub text_entity {
    my $text = shift;
    $text .= "\n" unless $text =~ /\n\z/;
    return
          "Content-Type: text/plain; charset=UTF-8\n"
        . "Content-Transfer-Encoding: 7bit\n\n"
        . $text;
}

# Signs an entity as $signer (a SympaE2E::PKI leaf): detached
# multipart/signed, with the intermediate CA in the signature, as a mail
# client with a complete chain sends it.
sub sign_entity {
    my ($entity, $signer, $intermediate) = @_;
    return run_cmd(
        [   'openssl', 'cms',           '-sign',  '-in', _tmp($entity),
            '-signer', $signer->{cert}, '-inkey', $signer->{key},
            ($intermediate ? ('-certfile', $intermediate) : ()),
            '-md', 'sha256'
        ]
    );
}

# Encrypts an entity to the certificates given (AES-128-CBC, as Sympa's
# Crypt::SMIME does).
sub encrypt_entity {
    my ($entity, @certs) = @_;
    return run_cmd(
        [   'openssl', 'cms',         '-encrypt', '-aes128',
            '-in',     _tmp($entity), @certs
        ]
    );
}

# A whole message: RFC 5322 header fields in front of a MIME entity (which
# brings its own MIME-Version / Content-* fields, or gets text/plain).
# Returns (bytes, message-id).
sub message {
    my (%h)  = @_;
    my $mime = $h{mime} // croak 'mime required';
    my $id   = sprintf '<e2e.%d.%d.%d@example.net>', time, $$, ++$counter;
    my $head = join '',
        "From: $h{from}\n",
        "To: $h{to}\n",
        "Subject: $h{subject}\n",
        "Message-ID: $id\n",
        'Date: ' . strftime('%a, %d %b %Y %H:%M:%S +0000', gmtime) . "\n";
    $head .= "MIME-Version: 1.0\n" unless $mime =~ /^MIME-Version:/mi;
    return ($head . $mime, $id);
}

# openssl cms -verify of a whole message against the root alone (no system
# store). With $intermediate the intermediate CA is added to the store (the
# cms command of OpenSSL 3.0 has no -untrusted): the chain must still end at
# the self-signed root. Returns (ok, content, stderr).
sub cms_verify {
    my ($bytes, $root, $intermediate) = @_;
    my $cafile =
        $intermediate
        ? _tmp(read_file($root) . read_file($intermediate))
        : $root;
    my ($rc, $out, $err) = try_cmd(
        [   'openssl',     'cms',      '-verify', '-in',
            _tmp($bytes),  '-CAfile',  $cafile,   '-no-CApath',
            '-no-CAstore', '-purpose', 'smimesign'
        ]
    );
    return ($rc == 0, $out, $err);
}

# The certificates carried in a signed message, as PEM strings.
sub cms_certificates {
    my $bytes = shift;
    my $out   = _tmp('');
    my ($rc, undef, $err) = try_cmd(
        [   'openssl', 'cms',        '-verify',   '-noverify',
            '-in',     _tmp($bytes), '-certsout', $out,
            '-out',    '/dev/null'
        ]
    );
    return () if $rc;
    return read_file($out) =~
        /(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?)/gs;
}

sub cert_subject {
    my $pem = shift;
    my $out =
        run_cmd(['openssl', 'x509', '-noout', '-subject', '-in', _tmp($pem)]);
    $out =~ s/^subject=\s*//;
    chomp $out;
    return $out;
}

# openssl cms -decrypt of a whole message with one recipient's key.
# Returns (ok, content, stderr).
sub cms_decrypt {
    my ($bytes, $leaf) = @_;
    my ($rc, $out, $err) = try_cmd(
        [   'openssl',    'cms',    '-decrypt',    '-in',
            _tmp($bytes), '-recip', $leaf->{cert}, '-inkey',
            $leaf->{key}
        ]
    );
    return ($rc == 0, $out, $err);
}

1;
__END__

=head1 NAME

SympaE2E::Mail - build S/MIME mail and check Sympa's output with openssl

=head1 FUNCTIONS

C<text_entity>, C<sign_entity>, C<encrypt_entity>, C<message> build input;
C<cms_verify>, C<cms_decrypt>, C<cms_certificates>, C<cert_subject> check
output. Decrypted output stays in memory.

=cut
