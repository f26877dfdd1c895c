# Fixtures and probes shared by bench/jvm-options.pl and
# bench/install-memory.pl: a CA and a list certificate (t/lib/TestPKI.pm), the
# requests of a small mixed workload, and the memory and CPU time of a
# process.
package JvmBench;

use strict;
use warnings;
use Exporter       qw(import);
use Cwd            qw(abs_path);
use File::Basename qw(dirname);
use File::Temp     qw(tempdir);
use POSIX          qw();
use lib dirname(abs_path(__FILE__)) . '/../../t/lib';
use Sympa::SMIME::Sidecar;
use TestPKI;

our @EXPORT_OK = qw(requests memory cpu);

sub run   { system(@_) == 0 or die "failed: @_\n" }
sub quiet { join ' ', @_, '>/dev/null 2>&1' }

sub entity {
    my $size = shift;
    my $body = join '',
        map { sprintf "Line %05d of the post, plain text.\n", $_ }
        1 .. int($size / 36);
    return "Content-Type: text/plain; charset=utf-8\n\n$body";
}
sub spurt { open my $fh, '>', $_[0] or die $!; print $fh $_[1]; close $fh }
sub slurp { open my $fh, '<', $_[0] or die $!; local $/;        return <$fh> }

# A CA and a list certificate for signing and encryption, from the tests'
# PKI builder.
sub _list_certificate {
    my $pki = shift;
    $pki->issue(
        'ca',
        subject    => '/CN=Bench CA',
        extensions => "basicConstraints=critical,CA:true\n"
            . "keyUsage=critical,keyCertSign,cRLSign\n"
    );
    return $pki->issue(
        'list',
        issuer     => 'ca',
        subject    => '/CN=List/emailAddress=list@example.org',
        extensions => "keyUsage=critical,digitalSignature,keyEncipherment\n"
            . "extendedKeyUsage=emailProtection\n"
            . "subjectAltName=email:list\@example.org\n"
    );
}

# {name => [method, params]}: verify, sign, encrypt, decrypt (2 KB),
# encrypt100k, parse (x509.parse, as a web login by certificate).
sub requests {
    my $dir  = tempdir(CLEANUP => 1);
    my $pki  = TestPKI->new($dir);
    my $list = _list_certificate($pki);
    spurt("$dir/small", entity(2000));
    run(quiet(
            "openssl smime -sign -in $dir/small -signer $list->{cert}",
            "-inkey $list->{key} -out $dir/signed"
        )
    );
    run(quiet(
            "openssl smime -encrypt -aes128 -in $dir/small -out $dir/encrypted",
            $list->{cert}
        )
    );

    my $b    = \&Sympa::SMIME::Sidecar::encode_bytes;
    my $cert = $list->{cert};
    return {
        dir    => $dir,    # removed when the program ends
        verify => [
            'smime.verify',
            {   message_b64 => $b->(slurp("$dir/signed")),
                cafile      => $pki->cert('ca')
            }
        ],
        sign => [
            'smime.sign',
            {   entity_b64 => $b->(entity(2000)),
                cert       => $cert,
                key        => $list->{key}
            }
        ],
        encrypt => [
            'smime.encrypt',
            {   entity_b64 => $b->(entity(2000)),
                recipients => [{path => $cert}]
            }
        ],
        encrypt100k => [
            'smime.encrypt',
            {   entity_b64 => $b->(entity(100_000)),
                recipients => [{path => $cert}]
            }
        ],
        decrypt => [
            'smime.decrypt',
            {   message_b64 => $b->(slurp("$dir/encrypted")),
                keys        => [{cert => $cert, key => $list->{key}}]
            }
        ],
        parse => ['x509.parse', {pem => slurp($cert)}],
    };
}

# "RSS/PSS" in MiB.  PSS shares the pages several processes map (the JDK's
# and our class-data-sharing archives) among them.
sub memory {
    my $pid = shift;
    my ($rss, $pss) = ('?', '?');
    if (open my $fh, '<', "/proc/$pid/smaps_rollup") {
        while (<$fh>) {
            $rss = sprintf '%.0f', $1 / 1024 if /^Rss:\s+(\d+)/;
            $pss = sprintf '%.0f', $1 / 1024 if /^Pss:\s+(\d+)/;
        }
    }
    return "$rss/$pss";
}

# CPU seconds (user and system) the process has used: less disturbed by
# other work on the machine than the wall clock.
sub cpu {
    my $pid = shift;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh>;
    $stat =~ s/\A.*\)\s+//s;
    my @field = split ' ', $stat;
    return ($field[11] + $field[12]) / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

1;
