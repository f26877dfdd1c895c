# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# sympa-smime - S/MIME for Sympa on Bouncy Castle
#
# This program is free software; you can redistribute it and/or modify
# it under the terms of the GNU General Public License as published by
# the Free Software Foundation; either version 2 of the License, or
# (at your option) any later version.

package Sympa::SMIME::Sidecar::Protocol;

use strict;
use warnings;
use Carp         qw();
use MIME::Base64 qw();
use Scalar::Util qw();

our $VERSION = '0.1.0';

# Base64 members at least this long travel outside the JSON encoder and
# decoder (request_line, decode_line).
use constant RAW_MIN => 1024;

my $JSON_CLASS;

BEGIN {
    my @order  = qw(Cpanel::JSON::XS JSON::XS JSON::PP);
    my $forced = $ENV{SYMPA_SMIME_JSON};
    if (defined $forced and length $forced) {
        if (grep { $_ eq $forced } @order) {
            @order = ($forced, grep { $_ ne $forced } @order);
        } else {
            warn sprintf
                "sympa-smime: SYMPA_SMIME_JSON=%s is not one of %s; ignored\n",
                $forced, join(', ', @order);
        }
    }
    foreach my $class (@order) {
        (my $file = "$class.pm") =~ s{::}{/}g;
        # Sympa's die handler (Sympa::Crash) cannot tell this eval from a
        # crash while the module compiles ($^S is undef) and would exit.
        if (eval { local $SIG{__DIE__}; require $file; 1 }) {
            $JSON_CLASS = $class;
            last;
        }
        warn "sympa-smime: SYMPA_SMIME_JSON=$class cannot be loaded\n"
            if defined $forced and $class eq $forced;
    }
}

my $json = $JSON_CLASS->new->utf8->canonical;

sub json_class { return $JSON_CLASS }

sub new {
    my $class = shift;
    return bless {next_id => 0}, $class;
}

# The requests of @$todo as lines, each with an id of its own, and the state
# that ties the answers to them (Sympa::SMIME::Sidecar::Protocol::Batch).
# Ids are never reused by a client: an answer to an id not asked is then
# always a sidecar gone wrong.
sub batch {
    my ($self, $requests, $todo, $answers) = @_;
    return Sympa::SMIME::Sidecar::Protocol::Batch->new($self, $requests,
        $todo, $answers);
}

sub next_id { return ++$_[0]->{next_id} }

sub encode_bytes {
    my $bytes = shift;
    Carp::croak('encode_bytes: undefined value') unless defined $bytes;
    # A string with the UTF8 flag on goes as print() would write it to
    # Sympa's spool or to sendmail: as bytes when every character is one
    # (a byte string upgraded by a concatenation with a character string,
    # whose 8-bit bytes must not be encoded twice), else in UTF-8.  $bytes
    # is our own copy.
    utf8::downgrade($bytes, 1) or utf8::encode($bytes);
    return MIME::Base64::encode_base64($bytes, '');
}

sub decode_bytes {
    my $b64 = shift;
    Carp::croak('decode_bytes: undefined value') unless defined $b64;
    Carp::croak('decode_bytes: not base64')      unless is_base64($b64);
    return MIME::Base64::decode_base64($b64);
}

# Copy of the params where byte strings holding UTF-8 become character
# strings, so that they reach the sidecar as the same text: Sympa keeps
# paths and passwords as UTF-8 bytes, which JSON would otherwise take for
# Latin-1.  _b64 members are ASCII by construction and can be large.
sub _prepare {
    my ($data, $key) = @_;
    my $ref = ref $data;
    if ($ref eq 'HASH') {
        return {map { ($_ => _prepare($data->{$_}, $_)) } keys %$data};
    } elsif ($ref eq 'ARRAY') {
        return [map { _prepare($_) } @$data];
    } elsif ($ref) {
        return $data;
    }
    # Numbers must stay numbers: a regexp match would turn them into
    # strings in JSON's eyes.
    return $data
        if not defined $data
        or Scalar::Util::looks_like_number($data)
        or (defined $key and $key =~ /_b64\z/)
        or utf8::is_utf8($data);
    return $data unless $data =~ /[\x80-\xFF]/;
    my $copy = $data;
    utf8::decode($copy);
    return $copy;
}

# One request line.  Large base64 members are put in as they are, not through
# the JSON encoder, which would only scan them for characters to escape
# (base64 has none): 2.3 ms of the 3.7 MB line of a 2 MB decryption, against
# 0.06 ms.  The encoder writes a token of this process where each goes; were
# a token anywhere else in the line, it is encoded whole instead.
sub request_line {
    my ($id, $method, $params) = @_;

    my $request = {
        jsonrpc => '2.0',
        id      => $id,
        method  => $method,
        (defined $params ? (params => _prepare($params)) : ()),
    };
    my $prepared = $request->{params};
    my (%raw, %key_of);
    foreach my $key (sort grep {/_b64\z/} keys %{$prepared || {}}) {
        my $value = $prepared->{$key};
        next unless defined $value           and not ref $value;
        next unless length $value >= RAW_MIN and is_base64($value);
        my $token = _token($key);
        # ASCII, so that splicing it into the encoder's bytes cannot upgrade
        # them to characters.
        utf8::downgrade($value);
        $raw{$token}      = $value;
        $key_of{$token}   = $key;
        $prepared->{$key} = $token;
    }
    my $line = $json->encode($request);
    foreach my $token (sort keys %raw) {
        my $at = index $line, qq{"$token"};
        if ($at < 0 or index($line, $token, $at + 1 + length $token) >= 0) {
            $prepared->{$key_of{$_}} = $raw{$_} foreach keys %raw;
            return $json->encode($request) . "\n";
        }
        substr($line, $at + 1, length $token) = $raw{$token};
    }
    return $line . "\n";
}

# One answer line decoded.  Large base64 strings, the members whose name ends
# in "_b64", are cut out before the JSON decoder sees the line, and put back
# in its result: the decoder would copy them character by character.  A
# quote in JSON text always opens or closes a string, so '_b64":"' is a name
# ending in _b64 followed by its string value; a value holding anything but
# base64 (an escape) is left to the decoder.
sub decode_line {
    my $line = shift;

    my %raw;
    my $from = 0;
    while ((my $at = index $line, '_b64":"', $from) >= 0) {
        my $start = $at + 7;
        my $end   = index $line, '"', $start;
        last if $end < 0;
        $from = $end + 1;
        next if $end - $start < RAW_MIN;
        my $value = substr $line, $start, $end - $start;
        next unless is_base64($value);
        my $token = _token(scalar keys %raw);
        substr($line, $start, $end - $start) = $token;
        $raw{$token} = $value;
        $from = $start + length($token) + 1;
    }
    my $message = $json->decode($line);
    _put_back($message, \%raw) if %raw;
    return $message;
}

# A string no JSON value holds but by our doing: a token of this process.
my $nonce = sprintf '%d.%d.%d', $$, time, int rand 1_000_000_000;

sub _token {
    my $name = shift;
    return "sympa-smime-raw:$name:$nonce";
}

# Replaces, anywhere in $data, every string that is a key of %$raw.
sub _put_back {
    my ($data, $raw) = @_;
    my $ref = ref $data;
    my @slots =
          $ref eq 'HASH'  ? (map { \$data->{$_} } keys %$data)
        : $ref eq 'ARRAY' ? (map { \$_ } @$data)
        :                   ();
    foreach my $slot (@slots) {
        if (ref $$slot) {
            _put_back($$slot, $raw);
        } elsif (defined $$slot and exists $raw->{$$slot}) {
            $$slot = $raw->{$$slot};
        }
    }
    return;
}

# Standard base64 without line breaks (RFC 4648, padded).  tr/// and index
# rather than one regular expression: 0.65 ms instead of 1.8 over 2.7 MB.
sub is_base64 {
    my $text = shift;
    return 0 if $text =~ tr{A-Za-z0-9+/=}{}c;
    my $pad = index $text, '=';
    return 1 if $pad < 0;
    my $tail = length($text) - $pad;
    return ($tail <= 2 and substr($text, $pad) =~ tr/=// == $tail) ? 1 : 0;
}

# One {result} or {error} for the caller, from an answer to $method.
sub answer {
    my ($message, $method) = @_;
    if (ref $message->{error} eq 'HASH') {
        return {
            error => Sympa::SMIME::Sidecar::Error->from_rpc(
                $message->{error}, $method
            )
        };
    }
    return {result => $message->{result}};
}

package Sympa::SMIME::Sidecar::Protocol::Batch;

use strict;
use warnings;

# Requests whose params cannot be JSON get their error at once and are not
# sent; the others wait, by id, for their answer.
sub new {
    my ($class, $protocol, $requests, $todo, $answers) = @_;

    my $self = bless {
        requests  => $requests,
        answers   => $answers,
        pending   => {},          # id => index in @$requests
        sent      => [],          # ids in the order they were written
        lines     => [],
        anonymous => [],
    }, $class;
    foreach my $i (@$todo) {
        my ($method, $params) = @{$requests->[$i]};
        my $id   = $protocol->next_id;
        my $line = eval {
            Sympa::SMIME::Sidecar::Protocol::request_line($id, $method,
                $params);
        };
        unless (defined $line) {
            # JSON modules' messages name the offending type, not the data.
            (my $why = $@) =~ s/ at \S+ line \d+\.?\n?\z//;
            $answers->[$i] = {
                error => Sympa::SMIME::Sidecar::Error->new(
                    reason  => 'malformed_input',
                    message => "params cannot be sent as JSON: $why",
                    method  => $method,
                )
            };
            next;
        }
        $self->{pending}{$id} = $i;
        push @{$self->{sent}},  $id;
        push @{$self->{lines}}, \$line;
    }
    return $self;
}

# The request lines to write, as references to strings.
sub lines { return @{$_[0]->{lines}} }

# Whether every request sent has its answer, or can be given one of the
# answers without id.
sub done {
    my $self = shift;
    return keys %{$self->{pending}} <= @{$self->{anonymous}};
}

# Takes one line of the sidecar's stdout.  Returns 'answer' for the answer
# to a request still waiting, 'anonymous' for an answer without id,
# ('stray', why) for an answer to an id not asked, or ('garbage', why) for
# a line that is no answer at all; after either, no answer can be trusted.
sub take {
    my ($self, $line) = @_;

    my $message =
        eval { Sympa::SMIME::Sidecar::Protocol::decode_line($line) };
    return ('garbage', 'it wrote a line that is not JSON-RPC')
        unless ref $message eq 'HASH'
        and (exists $message->{result} or ref $message->{error} eq 'HASH');
    my $id = $message->{id};
    unless (defined $id) {
        # Answers the sidecar could not tie to a request (a line it could
        # not read): it answers every line exactly once, so once all else
        # is in, they belong to the requests still unanswered, in the order
        # sent (finish).
        push @{$self->{anonymous}}, $message;
        return 'anonymous';
    }
    if (exists $self->{pending}{$id}) {
        my $i = delete $self->{pending}{$id};
        $self->{answers}[$i] =
            Sympa::SMIME::Sidecar::Protocol::answer($message,
            $self->{requests}[$i][0]);
        return 'answer';
    }
    # Every id is sent once, to a sidecar started for this client: an answer
    # to another one means the sidecar mixes its answers up, so none can be
    # trusted (and the one awaited would only come with the timeout).
    return ('stray',
        ref $id
        ? 'it answered with an id that is neither a string nor a number'
        : "it answered id $id, which was not asked");
}

# Gives the answers without id to the requests without answer.
sub finish {
    my $self    = shift;
    my $pending = $self->{pending};
    foreach my $id (grep { exists $pending->{$_} } @{$self->{sent}}) {
        my $i = delete $pending->{$id};
        $self->{answers}[$i] =
            Sympa::SMIME::Sidecar::Protocol::answer(
            shift @{$self->{anonymous}},
            $self->{requests}[$i][0]);
    }
    return;
}

package Sympa::SMIME::Sidecar::Error;

use strict;
use warnings;
use overload
    '""'     => \&as_string,
    'bool'   => sub {1},
    fallback => 1;

sub new {
    my ($class, %args) = @_;
    return bless {
        reason     => (defined $args{reason}  ? $args{reason}  : 'internal'),
        message    => (defined $args{message} ? $args{message} : ''),
        code       => (defined $args{code}    ? $args{code}    : 0),
        data       => $args{data},
        method     => $args{method},
        cannot_run => ($args{cannot_run} ? 1 : 0),
    }, $class;
}

sub from_rpc {
    my ($class, $error, $method) = @_;
    my $code = $error->{code};
    $code = 0 unless defined $code and $code =~ /\A-?\d+\z/;
    my $data = ref $error->{data} eq 'HASH' ? $error->{data} : undef;
    # The sidecar gives every error its reason (docs/protocol.md): the one
    # table of reasons is Reason.java, and no copy of it lives here.  An
    # error without one comes from something else speaking on the pipe.
    my $reason = $data && $data->{reason};
    $reason = 'internal' unless defined $reason and $reason =~ /\A\w+\z/;
    return $class->new(
        reason  => $reason,
        message => $error->{message},
        code    => $code + 0,
        data    => $data,
        method  => $method,
    );
}

sub throw {
    my $class = shift;
    die $class->new(@_);
}

sub reason  { return $_[0]->{reason} }
sub message { return $_[0]->{message} }
sub code    { return $_[0]->{code} }
sub data    { return $_[0]->{data} }
sub method  { return $_[0]->{method} }

sub cannot_run { return $_[0]->{cannot_run} }

sub as_string {
    my $self = shift;
    return sprintf '%s: %s', $self->{reason}, $self->{message};
}

1;
__END__

=encoding utf-8

=head1 NAME

Sympa::SMIME::Sidecar::Protocol - The lines between the client and the sidecar

=head1 SYNOPSIS

  use Sympa::SMIME::Sidecar::Protocol;

  my $protocol = Sympa::SMIME::Sidecar::Protocol->new;
  my @answers  = (undef) x @requests;
  my $batch    = $protocol->batch(\@requests, [0 .. $#requests], \@answers);
  print {$pipe} $$_ foreach $batch->lines;
  until ($batch->done) {
      my ($taken, $why) = $batch->take(scalar <$answers_pipe>);
      die $why if $taken eq 'garbage' or $taken eq 'stray';
  }
  $batch->finish;    # @answers: {result => ...} or {error => $error} each

=head1 DESCRIPTION

The protocol part of L<Sympa::SMIME::Sidecar>: JSON-RPC 2.0 requests and
answers as lines (F<docs/protocol.md>), with no process.  The process part,
L<Sympa::SMIME::Sidecar::Process>, moves the lines.

Large base64 members (names ending in C<_b64>, 1024 characters or more)
bypass the JSON encoder and decoder: they are spliced into the request line
and cut out of answer lines.  The lines are byte for byte what the JSON
module writes and reads.

=head1 METHODS

=over

=item new ( )

Class method.  A protocol state: the ids of one client, never reused.

=item batch ( \@requests, \@todo, \@answers )

The requests of C<@requests> (C<[$method, \%params]> each) whose indexes are
in C<@todo>, as a L</Sympa::SMIME::Sidecar::Protocol::Batch> that writes
their answers in C<@answers> at the same indexes.  A request whose params
cannot be JSON gets its error (C<malformed_input>) there at once and is not
sent.

=item next_id ( )

A new id.

=back

=head1 FUNCTIONS

=over

=item request_line ( $id, $method, [ \%params ] )

The request as one line of bytes, ended by a newline.  Byte strings holding
UTF-8 in the params are sent as the text they encode (Sympa keeps paths and
passwords as UTF-8 bytes).  Dies when the params cannot be JSON.

=item decode_line ( $line )

The message of an answer line, with large base64 members put back.  Dies on
a line that is not JSON.

=item answer ( \%message, $method )

C<{result =E<gt> ...}> or C<{error =E<gt> $error}> for an answer to
C<$method>.

=item encode_bytes ( $bytes ), decode_bytes ( $base64 )

See L<Sympa::SMIME::Sidecar/FUNCTIONS>.

=item is_base64 ( $text )

True for standard base64 without line breaks (RFC 4648, padded).

=item json_class ( )

The JSON module in use (see L<Sympa::SMIME::Sidecar/json_class>).

=back

=head2 Sympa::SMIME::Sidecar::Protocol::Batch

=over

=item lines ( )

The request lines to write, as references to strings.

=item take ( $line )

Takes one line of the sidecar's stdout.  Returns C<answer> for the answer to
a request still waiting, C<anonymous> for an answer without id (to a line
the sidecar could not read), C<('stray', $why)> for an answer to an id not
asked and C<('garbage', $why)> for a line that is no JSON-RPC answer: after
these two, no answer on the stream can be trusted.

=item done ( )

True when every request has its answer, or can be given one of the answers
without id: the sidecar answers each line once, so these belong to the
requests left.

=item finish ( )

Gives the answers without id to the requests left, in the order sent.

=back

=head2 Sympa::SMIME::Sidecar::Error

The failures of the client, documented in
L<Sympa::SMIME::Sidecar/Sympa::SMIME::Sidecar::Error>.

=head1 SEE ALSO

L<Sympa::SMIME::Sidecar>, L<Sympa::SMIME::Sidecar::Process>,
F<docs/protocol.md>.

=cut
