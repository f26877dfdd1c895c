# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# The protocol part of the client (Sympa::SMIME::Sidecar::Protocol), with no
# process: request lines, ids and how answers find their request, and the
# errors made of answers.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl/lib", "$FindBin::Bin/lib";
use MIME::Base64 qw();
use Test::More;

use Sympa::SMIME::Sidecar::Protocol;

my $class = Sympa::SMIME::Sidecar::Protocol::json_class();
my $json  = $class->new->utf8->canonical;

sub line_of {
    my $message = shift;
    return $json->encode({jsonrpc => '2.0', %$message}) . "\n";
}

# Request lines: what the JSON module writes, with large base64 spliced in.
{
    my $big  = MIME::Base64::encode_base64('x' x 3000, '');
    my $line = Sympa::SMIME::Sidecar::Protocol::request_line(5, 'm',
        {data_b64 => $big, path => "caf\xc3\xa9", n => 3});
    my $request = $json->decode($line);
    is $request->{id},               5,    'request line: the id';
    is $request->{params}{data_b64}, $big, 'large base64 spliced as it is';
    is $request->{params}{path}, "caf\x{e9}",
        'UTF-8 bytes sent as the text they encode';
    like $line,   qr/"n":3[,}]/,        'a number stays a number';
    unlike $line, qr/sympa-smime-raw:/, 'no token left in the line';
    like $line,   qr/\n\z/,             'one line, ended';

    my $undecodable = eval {
        Sympa::SMIME::Sidecar::Protocol::request_line(6, 'm',
            {code => sub {1}});
    };
    ok !defined $undecodable, 'params JSON cannot hold: the encoder dies';
}

# Answer lines: large base64 put back where it was.
{
    my $big     = MIME::Base64::encode_base64('y' x 3000, '');
    my $message = Sympa::SMIME::Sidecar::Protocol::decode_line(
        line_of({id => 1, result => {a => [{content_b64 => $big}]}}));
    is $message->{result}{a}[0]{content_b64}, $big,
        'large base64 of an answer put back';
    ok !eval { Sympa::SMIME::Sidecar::Protocol::decode_line("nope\n"); 1 },
        'a line that is not JSON dies';
}

# A batch: ids of its own, answers by id in any order.
my $protocol = Sympa::SMIME::Sidecar::Protocol->new;
{
    my @requests = (['a', {}], ['b', {bad => sub {1}}], ['c', {}]);
    my @answers  = (undef) x @requests;
    my $batch    = $protocol->batch(\@requests, [0, 1, 2], \@answers);
    my @lines    = map { $json->decode($$_) } $batch->lines;
    is_deeply [map { $_->{method} } @lines], ['a', 'c'],
        'a request whose params cannot be JSON is not sent';
    is $answers[1]{error}->reason, 'malformed_input', 'it has its error';
    is $answers[1]{error}->method, 'b', 'which names its method';
    my ($id_a, $id_c) = map { $_->{id} } @lines;
    isnt $id_a, $id_c, 'one id per request';
    ok !$batch->done, 'not done before the answers';

    is $batch->take(line_of({id => $id_c, result => {n => 'c'}})), 'answer',
        'the answer to the second request first';
    ok !$batch->done, 'one still waits';
    is $batch->take(line_of({id => $id_a, result => {n => 'a'}})), 'answer',
        'then the first';
    ok $batch->done, 'done';
    $batch->finish;
    is_deeply [map { $_->{result} } @answers[0, 2]], [{n => 'a'}, {n => 'c'}],
        'each answer where its request is';

    my @again  = (undef);
    my $next   = $protocol->batch([['a', {}]], [0], \@again);
    my ($line) = $next->lines;
    cmp_ok $json->decode($$line)->{id}, '>', $id_c,
        'a later batch does not reuse an id';
}

# What cannot be matched.
{
    my @answers = (undef) x 2;
    my $batch   = $protocol->batch([['a', {}], ['b', {}]], [0, 1], \@answers);
    my ($first, $second) = map { $json->decode($$_)->{id} } $batch->lines;
    my ($taken, $why) = $batch->take(line_of({id => 999_999, result => 1}));
    is $taken, 'stray', 'an answer to an id not asked';
    like $why, qr/answered id 999999, which was not asked/, 'says which';
    ($taken, $why) = $batch->take(line_of({id => [1], result => 1}));
    like $why, qr/neither a string nor a number/, 'an id that is no id';
    ($taken, $why) = $batch->take("this is not JSON-RPC\n");
    is $taken, 'garbage', 'a line that is not JSON';
    ($taken) = $batch->take(line_of({id => $first, other => 1}));
    is $taken, 'garbage', 'JSON without result nor error';

    # Answers without id (to lines the sidecar could not read) go to the
    # requests left, in the order they were sent.
    is $batch->take(
        line_of(
            {   id    => undef,
                error => {code => -32700, message => 'parse error'}
            }
        )
        ),
        'anonymous', 'an answer without id';
    ok !$batch->done, 'one for two requests';
    is $batch->take(line_of({id => $second, result => 'b'})), 'answer',
        'the second answered by id';
    ok $batch->done, 'the one left takes the answer without id';
    $batch->finish;
    is $answers[0]{error}->code, -32700, 'the first has it';
    is $answers[0]{error}->reason, 'internal',
        'an error without data.reason is internal';
    is $answers[1]{result}, 'b', 'the second its own';
}

# Errors from answers.
{
    my $error = Sympa::SMIME::Sidecar::Error->from_rpc(
        {   code    => -32001,
            message => 'no key',
            data    => {reason => 'no_matching_key', extra => 1}
        },
        'smime.decrypt'
    );
    is "$error",              'no_matching_key: no key', 'reason: message';
    is $error->code,          -32001,                    'its code';
    is $error->method,        'smime.decrypt',           'its method';
    is $error->data->{extra}, 1,                         'its data';
    ok !$error->cannot_run, 'not a sidecar that cannot run';

    $error = Sympa::SMIME::Sidecar::Error->from_rpc(
        {code => 'x', message => 'm', data => {reason => 'a b'}});
    is $error->reason, 'internal', 'a reason that is no word is internal';
    is $error->code,   0,          'a code that is no number is 0';
    ok !eval { Sympa::SMIME::Sidecar::Error->throw(reason => 'timeout'); 1 },
        'throw dies';
    is $@->reason, 'timeout', 'with the error';
}

# Bytes.
{
    my $upgraded = "\xe9t\xe9";
    utf8::upgrade($upgraded);
    is Sympa::SMIME::Sidecar::Protocol::decode_bytes(
        Sympa::SMIME::Sidecar::Protocol::encode_bytes($upgraded)),
        "\xe9t\xe9", 'an upgraded byte string travels as its bytes';
    ok !eval { Sympa::SMIME::Sidecar::Protocol::decode_bytes("QU\nJD"); 1 },
        'base64 with a line break is refused';
}

done_testing;
