# Sympa accepts messages up to max_size (5 MB by default).  With the default
# java_opts, the sidecar holds four such messages at once in every operation;
# with a heap too small for a message, it answers too_large, saying what to
# change, and lives on.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use Test::More;
use SidecarTest qw(require_jar capture_syslog);
use TestPKI;

my $jar = require_jar();
$ENV{SYMPA_SMIME_JAR} = $jar;
require Sympa::SMIME::Sidecar;
my $syslog = capture_syslog();

# Sympa's default (Conf.pm: max_size 5242880).
use constant MAX_SIZE => 5 * 1024 * 1024;

my $pki = TestPKI->new(tempdir(CLEANUP => 1));
$pki->issue('ca', subject => '/CN=CA', extensions => <<'EOF');
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
my $list = $pki->issue(
    'list',
    issuer     => 'ca',
    subject    => '/CN=List/emailAddress=list@example.org',
    extensions => <<'EOF');
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:list@example.org
EOF

# An entity of $size bytes, in lines as mail is.
sub entity {
    my $size   = shift;
    my $header = "Content-Type: text/plain; charset=us-ascii\n\n";
    my $line   = ('x' x 75) . "\n";
    my $body   = $line x int(($size - length $header) / length $line);
    return $header . $body . ('y' x ($size - length($header) - length $body));
}
my $b64 = \&Sympa::SMIME::Sidecar::encode_bytes;

# At max_size, four at a time, with the default java_opts.
{
    my $sidecar = Sympa::SMIME::Sidecar->new(timeout => 300);
    is($sidecar->config->{sources}{java_opts}, 'default',
        'default java_opts');
    my $entity = entity(MAX_SIZE);
    is(length $entity, MAX_SIZE, 'an entity of max_size bytes');
    my %sign = (
        entity_b64 => $b64->($entity),
        cert       => $list->{cert},
        key        => $list->{key}
    );
    my $signed  = $sidecar->call('smime.sign', \%sign);
    my %encrypt = (
        entity_b64 => $sign{entity_b64},
        recipients => [{path => $list->{cert}}]
    );
    my $encrypted = $sidecar->call('smime.encrypt', \%encrypt);
    my $pid       = $sidecar->pid;

    my %requests = (
        'smime.sign'    => \%sign,
        'smime.encrypt' => \%encrypt,
        'smime.verify'  => {
            message_b64 => $signed->{message_b64},
            cafile      => $pki->cert('ca')
        },
        'smime.decrypt' => {
            message_b64 => $encrypted->{message_b64},
            keys        => [{cert => $list->{cert}, key => $list->{key}}]
        },
    );

    foreach my $method (sort keys %requests) {
        my @answers =
            $sidecar->call_many([([$method, $requests{$method}]) x 4]);
        is(scalar(grep { $_->{result} } @answers),
            4, "$method: four at max_size, at once, all answered")
            or diag explain [map { $_->{error} && $_->{error}->as_string }
                @answers];
    }
    is($sidecar->call('smime.verify', $requests{'smime.verify'})->{valid},
        1, 'and right: the signature verifies');
    my $decrypted = Sympa::SMIME::Sidecar::decode_bytes(
        $sidecar->call('smime.decrypt', $requests{'smime.decrypt'})
            ->{entity_b64});
    $decrypted =~ s/\r\n/\n/g;    # encrypted as S/MIME canonical text
    ok($decrypted eq $entity, 'the decrypted entity is the one encrypted');
    is($sidecar->pid, $pid, 'one sidecar did it all');
    $sidecar->shutdown;
}

# Above what the heap holds: -Xmx64m leaves about 40 MiB for requests, a
# request of about 5 MB, a message of 3.7 MB; max_size does not fit.
{
    local $ENV{SYMPA_SMIME_JAVA_OPTS} = '-Xmx64m -XX:+UseSerialGC';
    my $sidecar = Sympa::SMIME::Sidecar->new;
    $sidecar->call('service.version');
    my $pid = $sidecar->pid;
    @$syslog = ();
    my $error = eval {
        $sidecar->call(
            'smime.encrypt',
            {   entity_b64 => $b64->(entity(MAX_SIZE)),
                recipients => [{path => $list->{cert}}]
            }
        );
        undef;
    } || $@;
    is(ref $error && $error->reason, 'too_large',
        'above the heap: too_large');
    like(
        ref $error && $error->message,
        qr/-Xmx in java_opts .*max_size/,
        'the message names the settings to change'
    );
    is($sidecar->call('service.health')->{status},
        'ok', 'the sidecar answers the next call');
    is($sidecar->pid, $pid, 'the same sidecar: it did not die');
    is_deeply([map { $_->[1] } grep { $_->[0] eq 'err' } @$syslog],
        [], 'no error line from the client: the caller logs the failure');
    $sidecar->shutdown;
}

done_testing;
