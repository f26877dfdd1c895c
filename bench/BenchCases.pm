# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# The messages of bench/hot-paths.pl and bench/profile-paths.pl: each of the
# four S/MIME methods of Sympa::Message on an 8-bit text/plain post of a
# given size, with the PKI and Sympa set-up of t/lib/SMIMETest.pm.
package BenchCases;

use strict;
use warnings;
use SMIMETest;

my %BYTES = ('2k' => 2_000, '100k' => 100_000, '2m' => 2_000_000);

my $HEADER = <<'EOF_HEADER';
From: Alice User <alice@example.org>
To: secure@lists.example.org
Subject: Benchmark
Message-ID: <bench@example.org>
Date: Sun, 29 Nov 2026 12:00:00 +0000
MIME-Version: 1.0
EOF_HEADER

my ($home, $list);

# Sets up Sympa's configuration and alice's certificate in ssl_cert_dir; the
# directory lives as long as the process.
sub setup {
    $home = sympa_home();
    $list = fake_list($home, 'secure');
    spurt("$Conf::Conf{ssl_cert_dir}/alice\@example.org",
        slurp(pki()->{crt}{alice}));
    return;
}

# '2k', '100k', '2m' or a number, in bytes.
sub bytes {
    my $size = shift;
    return $BYTES{$size} // $size;
}

# A whole post of about $size bytes, header included.
sub post {
    my $size = shift;
    return $HEADER . entity(bytes($size));
}

# An 8-bit text/plain entity of about $bytes bytes.
sub entity {
    my $bytes = shift;
    my $line  = "Ligne de texte du message, caf\xc3\xa9 cr\xc3\xa8me.\n";
    return
          "Content-Type: text/plain; charset=utf-8\n"
        . "Content-Transfer-Encoding: 8bit\n\n"
        . ($line x int($bytes / length $line));
}

# For an operation and a size: the sidecar method, a sub making a fresh
# message and a sub calling the Sympa method on it.
sub case {
    my ($op, $size) = @_;
    my $entity = entity(bytes($size));
    if ($op eq 'decrypt') {
        my $string =
            encrypt_entity(['robot'], entity => $entity, header => $HEADER);
        return (
            'smime.decrypt',
            sub { new_message($string) },
            sub { shift->smime_decrypt }
        );
    } elsif ($op eq 'verify') {
        my $string =
            sign_entity('alice', entity => $entity, header => $HEADER);
        return (
            'smime.verify',
            sub { new_message($string) },
            sub { shift->check_smime_signature }
        );
    } elsif ($op eq 'encrypt') {
        my $string = $HEADER . $entity;
        return (
            'smime.encrypt',
            sub { new_message($string) },
            sub { shift->smime_encrypt('alice@example.org') }
        );
    } elsif ($op eq 'sign') {
        my $string = $HEADER . $entity;
        return (
            'smime.sign',
            sub { new_message($string, context => $list) },
            sub { shift->smime_sign }
        );
    }
    die "unknown operation $op\n";
}

1;
