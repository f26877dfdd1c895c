#!/usr/bin/perl
# What an admin pays per subscriber of an encrypted list: the whole
# Sympa::Message::smime_encrypt of Sympa 6.2.70 (certificate lookup in
# ssl_cert_dir, MIME re-assembly, encryption), first with its original
# Crypt::SMIME code, then through the shim and the sidecar.
#
#   perl bench/sympa-encrypt.pl [--copies 500] [--size 20000]
#
# Uses the test PKI and Sympa set-up of t/lib/SMIMETest.pm, against the
# installed Sympa.  Not a test: compare the two lines with each other.
use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/../t/lib";
use Getopt::Long;
use Time::HiRes qw(time);

BEGIN { chdir "$Bin/.." or die $! }
use SMIMETest;

my %opt = (copies => 500, size => 20000);
GetOptions(\%opt, 'copies=i', 'size=i') or die "usage: $0 [--copies N]\n";

my $home  = sympa_home();
my $certs = $Conf::Conf{ssl_cert_dir};
my @users = qw(alice bob);
foreach my $user (@users) {
    spurt("$certs/$user\@example.org", slurp(pki()->{crt}{$user}));
}

my $body = join '',
    map { sprintf "Line %05d of the post, plain text.\n", $_ }
    1 .. int($opt{size} / 36);
my $post = <<"EOF_POST" . $body;
From: Alice User <alice\@example.org>
To: secure\@lists.example.org
Subject: Benchmark
Message-ID: <bench\@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

EOF_POST

sub run {
    my $original = shift;
    my $start    = time;
    foreach my $i (1 .. $opt{copies}) {
        my $message = new_message($post);
        my $email   = $users[$i % @users] . '@example.org';
        my $ok =
            $original
            ? with_originals(sub { $message->smime_encrypt($email) })
            : $message->smime_encrypt($email);
        die "copy $i failed\n" unless $ok;
    }
    return time - $start;
}

printf "%d copies of a %d-byte post through Sympa::Message::smime_encrypt\n",
    $opt{copies}, length $post;
printf "%-28s %9s %10s %10s\n", 'engine', 'total s', 'ms/copy', 'copies/s';
run(0) if sidecar_ready();    # JVM start and JIT warm-up, as in a daemon
foreach
    my $engine (['Sympa 6.2.70 + Crypt::SMIME', 1], ['shim + sidecar', 0]) {
    my ($name, $original) = @$engine;
    if ($original and not xs_available()) {
        print "$name: Crypt::SMIME not installed, skipped\n";
        next;
    }
    my $seconds = run($original);
    printf "%-28s %9.2f %10.3f %10.0f\n", $name, $seconds,
        1000 * $seconds / $opt{copies}, $opt{copies} / $seconds;
}
