# -*- indent-tabs-mode: nil; -*-
# vim:ft=perl:et:sw=4

# The shim reads only the header of what the sidecar returns (_head) where
# 6.2.70 parsed the whole message with MIME::Parser and kept its head: the
# two must give the same header, field for field and byte for byte, for
# every spelling of line breaks, folded fields, a byte-order mark, an empty
# header, a header without a body, 8-bit bytes and NULs, and multiparts.
use strict;
use warnings;
use Test::More;

use lib 't/lib';
use SMIMETest;

sub full_parse_head {
    my $string = shift;
    my $parser = MIME::Parser->new;
    $parser->output_to_core(1);
    $parser->tmp_to_core(1);
    return $parser->parse_data($string)->head;
}

my $multipart = <<'EOF_MULTI';
Content-Type: multipart/mixed; boundary="b1"
X-Folded: first
 second
	third

preamble
--b1
Content-Type: text/plain

part
--b1--
EOF_MULTI

my %cases = (
    'LF'       => "Content-Type: text/plain\nSubject: a\n\nbody\n",
    'CRLF'     => "Content-Type: text/plain\r\nSubject: a\r\n\r\nbody\r\n",
    'mixed'    => "Content-Type: text/plain\r\nSubject: a\n\r\nbody\n",
    'CR CR LF' => "Subject: a\r\r\nX-B: b\n\nbody\n",
    'bare CR'  => "Subject: a\rX-B: b\n\nbody\n",
    'BOM'      => "\xEF\xBB\xBFSubject: bom\n\nbody\n",
    'empty header'  => "\nbody only\n",
    'no body'       => "Subject: alone\nX-A: b\n",
    'no final LF'   => "Subject: alone",
    '8-bit and NUL' =>
        "Subject: caf\xe9 \0 nul\nX-U: d\xc3\xa9j\xc3\xa0\n\n\xff\0\n",
    'multipart'      => $multipart,
    'multipart CRLF' => do { (my $s = $multipart) =~ s/\n/\r\n/g; $s },
    'garbage line'   => "Subject: a\nthis is not a field\nX-B: b\n\nbody\n",
    'space before colon' => "Subject : a\nX-B:b\n\nbody\n",
    'From line'          =>
        "From alice Sun Nov 29 12:00:00 2026\nSubject: a\n\nbody\n",
);

foreach my $name (sort keys %cases) {
    my $string = $cases{$name};
    my ($head, $error) = Sympa::SMIME::Shim::_head($string);
    ok $head, "$name: a head" or diag $error;
    my $full = full_parse_head($string);
    is $head->as_string, $full->as_string,
        "$name: as the full parse reads it";
    is_deeply [sort $head->tags], [sort $full->tags], "$name: same fields";
    is $head->mime_type, $full->mime_type, "$name: same MIME type";
}

done_testing();
