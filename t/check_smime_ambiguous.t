# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# check_smime_signature on signed messages whose parts MIME-tools (Sympa)
# splits otherwise than OpenSSL: alice's signed part stays where OpenSSL
# looks for it, and the part Sympa reads is an attacker's command.  None may
# be smime-signed: the sidecar refuses them (malformed_input), and the shim
# compares what MIME-tools reads with what the sidecar verified in case a
# sidecar reads them as OpenSSL does.
use strict;
use warnings;
use File::Path qw(remove_tree make_path);
use Test::More;

use lib 't/lib';
use SMIMETest;

my $pki       = pki();
my $home      = sympa_home();
my $certs_dir = $Conf::Conf{'ssl_cert_dir'};

done_unless_sidecar('smime.verify', 'x509.parse');

# Runs check_smime_signature on $string in a clean ssl_cert_dir.
sub check {
    my $string  = shift;
    my %options = @_;

    remove_tree($certs_dir);
    make_path($certs_dir);
    my $message = new_message($string, sender => 'alice@example.org');
    return {
        %{  run_method(
                $message, 'check_smime_signature',
                original => $options{original}
            )
        },
        files => files_in($certs_dir),
    };
}

my $signed = sign_entity('alice');
my ($field) = $signed =~ /^(Content-Type: multipart\/signed;.*)$/m
    or die 'no multipart/signed';
my ($b) = $field =~ /boundary="([^"]+)"/ or die 'no boundary';
my $protocol = 'protocol="application/pkcs7-signature"; micalg="sha-256"';

# A multipart/signed whose first part is the attacker's, with boundary $e.
sub evil {
    my $e = shift;
    return join "\n", "--$e", 'Content-Type: text/plain', '',
        'ADD secure evil@example.org', "--$e",
        'Content-Type: application/pkcs7-signature', '', 'MAA=', "--$e--",
        '';
}

# $signed with another Content-Type line and the evil multipart in the
# preamble, which OpenSSL skips.
sub with_params {
    my $params = shift;
    my $e      = shift;
    my $string = $signed;
    $string =~ s/^\Q$field\E$/Content-Type: multipart\/signed; $params/m
        or die;
    $string =~ s/\n\n/\n\nThis is an S\/MIME signed message\n\n${\ evil($e)}/
        or die;
    return $string;
}

my %ambiguous = (
    'two boundary parameters' =>
        with_params(qq{$protocol; boundary="$b"; boundary="evil"}, 'evil'),
    'boundary and BOUNDARY' =>
        with_params(qq{$protocol; boundary="$b"; BOUNDARY="evil"}, 'evil'),
    'boundary and RFC 2231 boundary*0' =>
        with_params(qq{$protocol; boundary="$b"; boundary*0="evil"}, 'evil'),
    # MIME-tools ends an unquoted value at "/": its boundary is "evil".
    'an unquoted boundary that is not a token' => do {
        (my $s = with_params(qq{$protocol; boundary=evil/x}, 'evil')) =~
            s/^--\Q$b\E/--evil\/x/mg;
        $s;
    },
    # OpenSSL splits at a line that starts with the delimiter, MIME-tools
    # only at one followed by nothing but white space.
    'delimiter lines followed by text' => do {
        my $s = $signed;
        $s =~ s/^--\Q$b\E$/--$b junk/mg;
        $s =~ s/^--\Q$b\E--$/--$b--junk\n${\ evil($b)}/m or die;
        $s;
    },
);

# Harmless spellings of the same message.
my %twins = (
    'as signed'                               => $signed,
    'an unquoted token boundary, in capitals' => do {
        (my $s = $signed) =~
            s/^\Q$field\E$/Content-Type: multipart\/signed; $protocol; BOUNDARY=$b/m;
        $s;
    },
    'transport padding after the delimiters' => do {
        (my $s = $signed) =~ s/^(--\Q$b\E(?:--)?)$/$1 \t/mg;
        $s;
    },
);

foreach my $name (sort keys %ambiguous) {
    my $string = $ambiguous{$name};
    like new_message($string)->get_plain_body, qr/\AADD secure evil/,
        "$name: Sympa reads the attacker's command";

    my $r = check($string);
    is $r->{died},   undef, "$name: does not die";
    is $r->{result}, undef, "$name: undef";
    ok !$r->{signed}, "$name: not smime_signed";
    is_deeply $r->{files}, {}, "$name: no certificate stored";
    is
        scalar(grep {/Unable to verify S\/MIME signature: malformed_input: /}
            @{$r->{logs}}), 1, "$name: one malformed_input line";
}

# Signed parts MIME::Entity does not print back byte for byte.
my $closed = <<'EOF';
Content-Type: multipart/mixed; boundary="in"

--in
Content-Type: text/plain

Hello
--in
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAAA
--in--
EOF
chomp $closed;
my $empty_preamble = <<'EOF';
Content-Type: multipart/alternative; boundary=in


--in
Content-Type: text/plain

Hello
--in
Content-Type: multipart/related; boundary=in2

--in2
Content-Type: text/html

<p>Hello</p>
--in2--
--in--
EOF
my %shapes = (
    'a nested multipart closed without a line break' =>
        sign_entity('alice', entity => $closed),
    'a nested multipart with an empty preamble' =>
        sign_entity('alice', entity => $empty_preamble),
    'a nested multipart with an empty preamble, CRLF' =>
        sign_entity('alice', entity => $empty_preamble, crlf => 1),
);

foreach my $name (sort keys %twins, keys %shapes) {
    my $r = check($twins{$name} // $shapes{$name});
    is $r->{result}, 1, "$name: verified";
    ok $r->{signed}, "$name: smime_signed";
}

# A sidecar that splits as OpenSSL does: its answer for the message as
# signed, whatever it is asked about.  The shim alone must refuse.
{
    my $call = \&Sympa::SMIME::Shim::_call;
    no warnings 'redefine';
    local *Sympa::SMIME::Shim::_call = sub {
        my ($method, $needed, %params) = @_;
        $params{message_b64} = $signed if $method eq 'smime.verify';
        return $call->($method, $needed, %params);
    };
    foreach my $name (sort keys %ambiguous) {
        my $r = check($ambiguous{$name});
        is $r->{result}, undef, "OpenSSL's split, $name: undef";
        ok !$r->{signed}, "OpenSSL's split, $name: not smime_signed";
        is scalar(
            grep {
                /Unable to verify S\/MIME signature: malformed_input: the first part MIME-tools reads is not the signed content/
            } @{$r->{logs}}
            ),
            1, "OpenSSL's split, $name: one malformed_input line";
    }
    foreach my $name (sort keys %twins) {
        is check($twins{$name})->{result}, 1, "OpenSSL's split, $name: 1";
    }
}

# What the shim compares, on line ends and shapes the signed messages above
# do not have.
{
    my $content = "Content-Type: text/plain\r\n\r\nHello\r\nworld";
    my %result  = (
        valid       => 1,
        format      => 'multipart/signed',
        content_b64 => $content
    );
    my $message = sub {
        my $part = shift;
        my $more = shift // '';
        return new_message(
            qq{Content-Type: multipart/signed; $protocol; boundary="b"\n\n}
                . "--b\n$part\n--b\nContent-Type: application/pkcs7-signature"
                . "\n\nMAA=\n$more--b--\n");
    };
    # What as_entity() parses, as check_smime_signature() passes it.
    my $reading = sub {
        my ($m, $r) = @_;
        return Sympa::SMIME::Shim::_unsigned_reading(
            $m->{_head}->as_string . "\n" . ($m->{_body} // ''), $r);
    };

    is $reading->(
        $message->("Content-Type: text/plain\n\nHello\nworld"), \%result
        ),
        '', 'LF line ends: the same content';
    is $reading->(
        $message->("Content-Type: text/plain\r\n\r\nHello\r\r\nworld\r"),
        \%result
        ),
        '', 'CRLF, and CRs before the LF: the same content';
    like $reading->(
        $message->("Content-Type: text/plain\n\nHello\nworld\n"), \%result
        ),
        qr/not the signed content/,
        'one more line break: not the same';
    like $reading->(
        $message->("Content-Type: text/plain\n\nHello\rworld"), \%result
        ),
        qr/not the signed content/,
        'a lone CR for a line break: not the same';
    like $reading->(
        $message->(
            "Content-Type: text/plain\n\nHello\nworld",
            "--b\nContent-Type: text/plain\n\nthird\n"
        ),
        \%result
        ),
        qr/3 parts/, 'a third part: refused';
    like $reading->(
        $message->("Content-Type: text/plain\n\nHello\nworld"),
        {%result, format => 'signed-data'}
        ),
        qr/MIME-tools reads multipart\/signed/,
        'signed-data for the sidecar, multipart/signed for MIME-tools';
    like $reading->(
        $message->("Content-Type: text/plain\n\nHello\nworld"),
        {%result, content_b64 => undef}
        ),
        qr/no signed content/, 'no content in the answer';

    # A nested multipart whose closing delimiter is printed with a line
    # break: the same text is accepted, another is not.
    my $nested = join "\n", 'Content-Type: multipart/mixed; boundary=in', '',
        '--in', 'Content-Type: text/plain', '', 'Hello', '--in--';
    my %nested = (%result, content_b64 => $nested =~ s/\n/\r\n/gr);
    is $reading->($message->($nested), \%nested), '',
        'nested multipart: the same content';
    like $reading->($message->($nested =~ s/Hello/Jello/r), \%nested),
        qr/not the signed content/, 'nested multipart: another text';
    like $reading->($message->($nested =~ s/in--\z/in--\nJello/r), \%nested),
        qr/not the signed content/, 'nested multipart: an epilogue more';
}

SKIP: {
    skip 'Crypt::SMIME hidden or missing', 1 unless xs_available();

    # Crypt::SMIME splits as OpenSSL: 6.2.70 let these through.
    foreach my $name (sort keys %ambiguous) {
        is check($ambiguous{$name}, original => 1)->{result}, 1,
            "$name: the original verifies it";
    }
}

done_testing();
