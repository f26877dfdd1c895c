# Lazy start, a real call, errors, and the byte helpers.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use Test::More;
use SidecarTest qw(require_jar gone);

my $jar = require_jar();
$ENV{SYMPA_SMIME_JAR} = $jar;

use_ok('Sympa::SMIME::Sidecar');

my $sidecar = Sympa::SMIME::Sidecar->instance;
is(Sympa::SMIME::Sidecar->instance, $sidecar, 'one instance per process');
is($sidecar->pid, undef, 'nothing started before the first call');

my $version = $sidecar->call('service.version');
is($version->{name},     'sympa-smime', 'service.version answers');
is($version->{protocol}, 1,             'protocol 1');
my $pid = $sidecar->pid;
ok($pid && !gone($pid), "sidecar started on first call (pid $pid)");

my $health = $sidecar->call('service.health', {});
is($health->{status}, 'ok', 'second call');
is($sidecar->pid,     $pid, 'same sidecar for the next calls');

my @relayed;
my $error = do {
    local $SIG{__WARN__} = sub { push @relayed, $_[0] };
    eval { $sidecar->call('no.such.method', {x => 1}) };
    $@;
};
ok( (grep {/^sidecar: sympa-smime: error method=no\.such\.method/} @relayed),
    'the sidecar log line is relayed with its call'
) or diag explain \@relayed;
isa_ok($error, 'Sympa::SMIME::Sidecar::Error', 'unknown method dies with');
is($error->code,   -32601,           'JSON-RPC code');
is($error->reason, 'unknown_method', 'reason given by the sidecar');
like($error->message, qr/no\.such\.method/, 'message from the sidecar');
is( "$error",
    'unknown_method: ' . $error->message,
    'stringifies to "reason: message"'
);
is($error->method, 'no.such.method', 'method recorded');
is($sidecar->call('service.version')->{name},
    'sympa-smime', 'sidecar still usable after an error');
is($sidecar->pid, $pid, 'an error answer does not restart the sidecar');

# Bad usage is a bug of the caller, not a sidecar failure.
ok( !ref(
        do {
            eval { $sidecar->call('service.version', [1]) };
            $@;
        }
    ),
    'params that are not a hashref croak'
);

# Bytes.
my $all = join '', map {chr} 0 .. 255;
my $b64 = Sympa::SMIME::Sidecar::encode_bytes($all);
unlike($b64, qr/\n/, 'base64 without line breaks');
is(Sympa::SMIME::Sidecar::decode_bytes($b64),
    $all, 'all 256 bytes round trip');
is(Sympa::SMIME::Sidecar::encode_bytes("a\r\n\0b\rc\n"),
    'YQ0KAGINYwo=', 'CR, LF, NUL kept');
my $text = "caf\x{e9} \x{263a}";
ok(utf8::is_utf8($text), 'character string');
is( Sympa::SMIME::Sidecar::decode_bytes(
        Sympa::SMIME::Sidecar::encode_bytes($text)
    ),
    "caf\xc3\xa9 \xe2\x98\xba",
    'character strings are sent as UTF-8'
);
ok(utf8::is_utf8($text), 'caller string untouched');
my $latin = "caf\xe9";
is( Sympa::SMIME::Sidecar::decode_bytes(
        Sympa::SMIME::Sidecar::encode_bytes($latin)
    ),
    "caf\xe9",
    'byte strings are sent as they are'
);
my $upgraded = "caf\xe9 \0 d\xc3\xa9j\xc3\xa0";
utf8::upgrade($upgraded);
is( Sympa::SMIME::Sidecar::decode_bytes(
        Sympa::SMIME::Sidecar::encode_bytes($upgraded)
    ),
    "caf\xe9 \0 d\xc3\xa9j\xc3\xa0",
    'an upgraded byte string is sent as its bytes, not encoded twice'
);
ok(utf8::is_utf8($upgraded), 'caller string still upgraded');
ok(!eval { Sympa::SMIME::Sidecar::decode_bytes("QUJD\nREVG"); 1 },
    'decode_bytes refuses line breaks');
ok(!eval { Sympa::SMIME::Sidecar::encode_bytes(undef); 1 },
    'encode_bytes refuses undef');

$sidecar->shutdown;
ok(gone($pid), 'shutdown reaps the sidecar');
is($sidecar->pid, undef, 'no sidecar after shutdown');
is($sidecar->call('service.version')->{name},
    'sympa-smime', 'next call starts a new one');
isnt($sidecar->pid, $pid, 'new pid');

done_testing;
