package org.sympasmime.mime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

class MimeHeaderTest {
  static MimeHeader parse(String s) {
    return MimeHeader.parse(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void unfoldsAndFindsFieldsInAnyCase() {
    MimeHeader h = parse("Subject: one\r\n two\r\nCONTENT-type: Text/Plain;\r\n\tcharset=\"utf-8\""
        + "\r\n\r\nbody\r\n");
    assertEquals(Optional.of("one two"), h.field("subject"));
    MimeHeader.MediaType t = h.contentType().orElseThrow();
    assertEquals("text/plain", t.mimeType());
    assertEquals(Optional.of("utf-8"), t.parameter("CHARSET"));
    assertEquals("Subject: one\r\n two\r\nCONTENT-type: Text/Plain;\r\n\tcharset=\"utf-8\"\r\n\r\n"
        .length(), h.bodyOffset());
  }

  @Test
  void bodyOffsetWithLfAndMixedLineEnds() {
    assertEquals(6, parse("A: b\n\nxyz").bodyOffset());
    assertEquals(7, parse("A: b\r\n\nxyz").bodyOffset());
    assertEquals(7, parse("A: b\n\r\nxyz").bodyOffset());
    assertEquals(1, parse("\nbody").bodyOffset());
    assertEquals(List.of(), parse("\r\nbody").fields());
    // No empty line: everything is header, the body is empty.
    assertEquals(9, parse("A: b\nC: d").bodyOffset());
    assertEquals(Optional.of("d"), parse("A: b\nC: d").field("c"));
  }

  @Test
  void everyCrBeforeTheLfBelongsToTheLineBreak() {
    // OpenSSL's strip_eol: "A: b\r\r\n" is the field "A: b", "\r\r\n" an empty line.
    MimeHeader h = parse("A: b\r\r\n\r\r\nxyz");
    assertEquals(Optional.of("b"), h.field("a"));
    assertEquals(10, h.bodyOffset());
    // A lone CR inside a line is content.
    assertEquals(Optional.of("b\rc"), parse("A: b\rc\n\n").field("a"));
  }

  @Test
  void firstOccurrenceWinsAndLinesWithoutColonAreSkipped() {
    MimeHeader h = parse("garbage line\nX: 1\nX: 2\n\n");
    assertEquals(Optional.of("1"), h.field("x"));
    assertEquals(2, h.fields().size());
  }

  @Test
  void aContinuationBelongsToTheLastFieldAsInOpenssl() {
    // A skipped line does not end the field before it; a continuation before any field is
    // read as a field.
    MimeHeader h = parse(" Content-Type: multipart/signed;\ngarbage\n boundary=\"b\"\n\n");
    assertEquals(Optional.of("b"), h.contentType().orElseThrow().parameter("boundary"));
    assertEquals(1, h.fields().size());
  }

  @Test
  void mediaTypeParameters() {
    MimeHeader.MediaType t = MimeHeader.parseMediaType(
        "application/x-pkcs7-mime (comment; here) ; Name = \"smime \\\"p7m\\\";x\" ;"
            + " smime-type=enveloped-data; smime-type=signed-data").orElseThrow();
    assertEquals("application/x-pkcs7-mime", t.mimeType());
    assertEquals(Optional.of("smime \"p7m\";x"), t.parameter("name"));
    assertEquals(Optional.of("enveloped-data"), t.parameter("smime-type"));
    assertTrue(MimeHeader.parseMediaType("text").isEmpty());
    assertTrue(MimeHeader.parseMediaType("").isEmpty());
    assertTrue(MimeHeader.parseMediaType("/plain").isEmpty());
    assertTrue(MimeHeader.parseMediaType("text/plain junk").isEmpty());
    assertEquals(Optional.empty(),
        MimeHeader.parseMediaType("text/plain; ; =x; novalue").orElseThrow().parameter("novalue"));
    assertEquals("text/plain",
        MimeHeader.parseMediaType(" Text (a \\) b) / Plain ").orElseThrow().mimeType());
  }

  @Test
  void anUnquotedValueRunsToTheSemicolonAsInOpenssl() {
    MimeHeader.MediaType t = MimeHeader.parseMediaType(
        "multipart/signed; boundary=----=_Part_1/x; micalg=\"sha-256\"; x=\"a\\\"b;c\"; "
            + "y = b (comment) ;").orElseThrow();
    assertEquals("multipart/signed", t.mimeType());
    assertEquals("----=_Part_1/x", t.parameter("boundary").orElseThrow());
    assertEquals("sha-256", t.parameter("micalg").orElseThrow());
    assertEquals("a\"b;c", t.parameter("x").orElseThrow());
    assertEquals("b", t.parameter("y").orElseThrow());
  }

  @Test
  void eightBitBytesSurviveAsLatin1() {
    byte[] raw = {'S', ':', ' ', (byte) 0xc3, (byte) 0xa9, '\n', '\n'};
    String v = MimeHeader.parse(raw).field("s").orElseThrow();
    assertEquals("\u00c3\u00a9", v);
  }

  @Test
  void aMillionContinuationLinesAreOneField() {
    StringBuilder s = new StringBuilder("Content-Type: text/plain;\n");
    for (int i = 0; i < 1_000_000; i++) {
      s.append(" x=y;\n");
    }
    MimeHeader h = parse(s.append("\nbody").toString());
    assertEquals(1, h.fields().size());
    assertEquals(Optional.of("y"), h.contentType().orElseThrow().parameter("x"));
    assertEquals(s.length() - 4, h.bodyOffset());
  }

  static MimeHeader.MediaType strict(String contentType) throws SmimeException {
    return parse("Content-Type: " + contentType + "\n\n").unambiguousContentType()
        .orElseThrow();
  }

  @ParameterizedTest
  @ValueSource(strings = {
    // MIME-tools lets the last of two equal names win, we the first.
    "multipart/signed; boundary=a; boundary=b",
    "multipart/signed; boundary=a; BOUNDARY=b",
    "multipart/signed; protocol=\"application/pkcs7-signature\"; Protocol=x; boundary=a",
    "multipart/signed; micalg=sha-256; micalg=md5; boundary=a",
    // MIME-tools joins RFC 2231 sections and lets them override the plain parameter.
    "multipart/signed; boundary=a; boundary*0=b",
    "multipart/signed; boundary*0=a; boundary*1=b",
    "multipart/signed; boundary*=us-ascii'en'a",
    "application/pkcs7-mime; smime-type*0*=signed-data",
    // MIME-tools ends an unquoted value at a tspecial or a space, we at the semicolon.
    "multipart/signed; boundary=----=_Part_1",
    "multipart/signed; boundary=a/b",
    "multipart/signed; boundary=a b",
    "multipart/signed; boundary=a\"b\"",
    // MIME-tools stops at a segment that is not name=value, or reads it as a longer name.
    "multipart/signed; signed; boundary=a",
    "multipart/signed; x y=1; boundary=a",
    "multipart/signed; =1; boundary=a",
    // Comments where MIME-tools does not skip them, or holding what it splits at.
    "multipart/signed; boundary=(c)a",
    "multipart/signed; boundary (c)=a",
    "multipart/signed(c); boundary=a",
    "(c) multipart/signed; boundary=a",
    "multipart/signed; boundary=a (b; boundary=c)",
    "multipart/signed; boundary=a (b (c) d)",
    "multipart/signed; boundary=a (unterminated",
    // Quoted strings MIME-tools does not end where we do.
    "multipart/signed; boundary=\"a",
    "multipart/signed; boundary=\"a\\\"",
    "multipart/signed; boundary=\"a\rb\"",
    // No clean type/subtype.
    "multipart / signed; boundary=a",
  })
  void ambiguousParametersAreRefused(String contentType) {
    SmimeException e = assertThrows(SmimeException.class, () -> strict(contentType));
    assertEquals(Reason.MALFORMED_INPUT, e.reason());
  }

  @Test
  void theRefusalSaysWhat() {
    SmimeException e = assertThrows(SmimeException.class,
        () -> strict("multipart/signed; boundary=a; BOUNDARY=b"));
    assertEquals("Content-Type parameter boundary given twice (boundary, BOUNDARY): MIME parsers"
        + " disagree on how to read it", e.getMessage());
    e = assertThrows(SmimeException.class, () -> strict("multipart/signed; boundary*0=a"));
    assertEquals("Content-Type parameter boundary*0 in RFC 2231 form: MIME parsers disagree on"
        + " how to read it", e.getMessage());
    String longValue = "multipart/signed; boundary=a" + "/x".repeat(1000);
    e = assertThrows(SmimeException.class, () -> strict(longValue));
    assertTrue(e.getMessage().length() < 250, e.getMessage());
  }

  @Test
  void unambiguousParametersAreReadAsBefore() throws Exception {
    for (String value : List.of(
        "multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=\"sha-256\";"
            + " boundary=\"----ABC=_x/y?z\"",
        "Multipart/Signed;PROTOCOL=\"application/pkcs7-signature\";MICALG=sha-256;"
            + "BOUNDARY=\"----ABC=_x/y?z\";",
        "multipart/signed ; protocol = \"application/pkcs7-signature\" (PKCS #7) ;\t(digest)"
            + " micalg=sha-256 ;; boundary=\"----ABC=_x\\/y?z\" (quoted-pair) ")) {
      MimeHeader.MediaType t = strict(value);
      assertEquals(t, MimeHeader.parseMediaType(value).orElseThrow(), value);
      assertEquals("multipart/signed", t.mimeType());
      assertEquals(Optional.of("----ABC=_x/y?z"), t.parameter("boundary"), value);
      assertEquals(Optional.of("sha-256"), t.parameter("micalg"), value);
    }
    assertEquals(Optional.of("abc-123_x.y+z'"),
        strict("multipart/signed; boundary=abc-123_x.y+z'").parameter("boundary"));
    // A quoted value holds what a token cannot, 8-bit bytes too.
    assertEquals(Optional.of("a;b (c) \u00e9"),
        strict("multipart/signed; boundary=\"a;b (c) \u00e9\"").parameter("boundary"));
    assertTrue(parse("Subject: x\n\n").unambiguousContentType().isEmpty());
    // Not a media type for us, and no parameters for MIME-tools: signed for neither.
    assertTrue(parse("Content-Type: multipart/signed boundary=a\n\n").unambiguousContentType()
        .isEmpty());
  }

  @Test
  void aFieldThatDecidesMustBeThereOnce() throws Exception {
    MimeHeader twice = parse("Content-Type: multipart/signed; boundary=a\nX: 1\n"
        + "CONTENT-TYPE: text/plain\n\n");
    SmimeException e = assertThrows(SmimeException.class, twice::unambiguousContentType);
    assertEquals(Reason.MALFORMED_INPUT, e.reason());
    assertThrows(SmimeException.class, () -> parse("Content-Transfer-Encoding: base64\n"
        + "content-transfer-encoding : binary\n\n").singleField("Content-Transfer-Encoding"));
    MimeHeader once = parse("Received: a\nReceived: b\nContent-Type: text/plain\n\n");
    assertEquals(Optional.of("text/plain"), once.singleField("content-type"));
    assertEquals(Optional.empty(), once.singleField("Content-Transfer-Encoding"));
    assertEquals("text/plain", once.unambiguousContentType().orElseThrow().mimeType());
  }
}
