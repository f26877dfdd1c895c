# Fixtures and probes shared by bench/jvm-options.pl and
# bench/install-memory.pl: a CA and a list certificate made with openssl, the
# requests of a small mixed workload, and the memory and CPU time of a
# process.
package JvmBench;

use strict;
use warnings;
use Exporter   qw(import);
use File::Temp qw(tempdir);
use POSIX      qw();
use Sympa::SMIME::Sidecar;

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

# {name => [method, params]}: verify, sign, encrypt, decrypt (2 KB),
# encrypt100k, parse (x509.parse, as a web login by certificate).
sub requests {
    my $dir = tempdir(CLEANUP => 1);
    run(quiet(
            "openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=Bench CA'",
            '-addext basicConstraints=critical,CA:true',
            '-addext keyUsage=critical,keyCertSign,cRLSign',
            "-keyout $dir/ca.key -out $dir/ca.pem"
        )
    );
    run(quiet(
            "openssl req -newkey rsa:2048 -nodes",
            "-subj '/CN=List/emailAddress=list\@example.org'",
            "-keyout $dir/key.pem -out $dir/req.pem"
        )
    );
    spurt("$dir/ext",
              "keyUsage=critical,digitalSignature,keyEncipherment\n"
            . "extendedKeyUsage=emailProtection\n"
            . "subjectAltName=email:list\@example.org\n");
    run(quiet(
            "openssl x509 -req -in $dir/req.pem -CA $dir/ca.pem -CAkey $dir/ca.key",
            "-CAcreateserial -days 3650 -extfile $dir/ext -out $dir/cert.pem"
        )
    );
    spurt("$dir/small", entity(2000));
    run(quiet(
            "openssl smime -sign -in $dir/small -signer $dir/cert.pem",
            "-inkey $dir/key.pem -out $dir/signed"
        )
    );
    run(quiet(
            "openssl smime -encrypt -aes128 -in $dir/small -out $dir/encrypted",
            "$dir/cert.pem"
        )
    );

    my $b    = \&Sympa::SMIME::Sidecar::encode_bytes;
    my $cert = "$dir/cert.pem";
    return {
        dir    => $dir,    # removed when the program ends
        verify => [
            'smime.verify',
            {   message_b64 => $b->(slurp("$dir/signed")),
                cafile      => "$dir/ca.pem"
            }
        ],
        sign => [
            'smime.sign',
            {   entity_b64 => $b->(entity(2000)),
                cert       => $cert,
                key        => "$dir/key.pem"
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
                keys        => [{cert => $cert, key => "$dir/key.pem"}]
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
