# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# Large base64 members bypass the JSON encoder and decoder
# (Sympa::SMIME::Sidecar::_request_line and _decode_line): the lines must be
# exactly what the JSON module makes and reads, whatever else is in them,
# and any bytes must survive a round trip through the sidecar.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use MIME::Base64 qw();
use Test::More;
use SidecarTest qw(require_jar);

$ENV{SYMPA_SMIME_JAR} = require_jar();
require Sympa::SMIME::Sidecar;

my $class = Sympa::SMIME::Sidecar::json_class();
my $json  = $class->new->utf8->canonical;

my $bytes = join '', map { chr(($_ * 7 + ($_ >> 8)) % 256) } 0 .. 70_000;
$bytes .= "\0\r\n\r\r\n\n\xff";
my $b64 = MIME::Base64::encode_base64($bytes, '');

my @requests = (
    ['big', {data_b64 => $b64}],
    [   'two big and text',
        {a_b64 => $b64, z_b64 => "$b64", text => "caf\x{e9} \"q\" \\"}
    ],
    ['small',      {data_b64 => 'QUJD'}],
    ['not base64', {data_b64 => ('x' x 2000) . "\n"}],
    ['nested',     {list     => [{data_b64 => $b64}], data_b64 => $b64}],
    [   'UTF8-flagged base64',
        {   data_b64 => do { my $u = $b64; utf8::upgrade($u); $u }
        }
    ],
    ['no params', undef],
);
foreach my $case (@requests) {
    my ($name, $params) = @$case;
    my $line =
        Sympa::SMIME::Sidecar::_request_line(7, 'service.echo', $params);
    my $plain = $json->encode(
        {   jsonrpc => '2.0',
            id      => 7,
            method  => 'service.echo',
            (   defined $params
                ? (params => Sympa::SMIME::Sidecar::_prepare($params))
                : ()
            ),
        }
    ) . "\n";
    ok $line eq $plain,       "request line, $name: as $class writes it";
    ok !utf8::is_utf8($line), "request line, $name: bytes";
}

# A caller's value that is the token itself: the line is encoded whole.
{
    my $token  = Sympa::SMIME::Sidecar::_token('data_b64');
    my $params = {data_b64 => $b64, other => $token};
    my $line   = Sympa::SMIME::Sidecar::_request_line(8, 'm', $params);
    is_deeply $json->decode($line)->{params}, $params,
        'a value equal to the token: encoded whole';
}

my @answers = (
    [   'big',
        {   jsonrpc => '2.0',
            id      => 1,
            result  => {entity_b64 => $b64, cert => '/x'}
        }
    ],
    [   'nested and escaped',
        {   jsonrpc => '2.0',
            id      => 2,
            result  => {
                a_b64   => $b64,
                list    => [{b_b64 => $b64}],
                text    => 'say "x_b64":"' . ('A' x 2000) . '"',
                c_b64   => 'QUJD',
                odd_b64 => ('A' x 1500) . '\\u0041',
            }
        }
    ],
    [   'error',
        {jsonrpc => '2.0', id => 3, error => {code => 1, message => 'no'}}
    ],
);
foreach my $case (@answers) {
    my ($name, $message) = @$case;
    my $line = $json->encode($message) . "\n";
    is_deeply Sympa::SMIME::Sidecar::_decode_line($line),
        $json->decode($line),
        "answer line, $name: as $class reads it";
}

foreach my $bad ("A=B", "===", "QUJD\n", "QU JD", "Q\x{100}") {
    ok !Sympa::SMIME::Sidecar::_is_base64($bad),
        "not base64: " . quotemeta $bad;
}
foreach my $good ('', 'QQ==', 'QUI=', 'QUJD', '=') {
    ok Sympa::SMIME::Sidecar::_is_base64($good), "base64 as before: '$good'";
}

my $sidecar = Sympa::SMIME::Sidecar->instance;
my $echo    = $sidecar->call('service.echo',
    {data_b64 => Sympa::SMIME::Sidecar::encode_bytes($bytes)});
ok Sympa::SMIME::Sidecar::decode_bytes($echo->{data_b64}) eq $bytes,
    'every byte survives the sidecar both ways';

done_testing();
