package org.sympasmime.mime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

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
}
