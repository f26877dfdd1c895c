package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RawHeaderTest {
  static RawHeader parse(String s) {
    return RawHeader.parse(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void unfoldsAndFindsFieldsInAnyCase() {
    RawHeader h = parse("Subject: one\r\n two\r\nCONTENT-type: Text/Plain;\r\n\tcharset=\"utf-8\""
        + "\r\n\r\nbody\r\n");
    assertEquals(Optional.of("one two"), h.field("subject"));
    RawHeader.MediaType t = h.contentType().orElseThrow();
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
  void firstOccurrenceWinsAndLinesWithoutColonAreSkipped() {
    RawHeader h = parse("garbage line\nX: 1\nX: 2\n\n");
    assertEquals(Optional.of("1"), h.field("x"));
    assertEquals(2, h.fields().size());
  }

  @Test
  void mediaTypeParameters() {
    RawHeader.MediaType t = RawHeader.parseMediaType(
        "application/x-pkcs7-mime (comment; here) ; Name = \"smime \\\"p7m\\\";x\" ;"
            + " smime-type=enveloped-data; smime-type=signed-data").orElseThrow();
    assertEquals("application/x-pkcs7-mime", t.mimeType());
    assertEquals(Optional.of("smime \"p7m\";x"), t.parameter("name"));
    assertEquals(Optional.of("enveloped-data"), t.parameter("smime-type"));
    assertTrue(RawHeader.parseMediaType("text").isEmpty());
    assertTrue(RawHeader.parseMediaType("").isEmpty());
    assertTrue(RawHeader.parseMediaType("/plain").isEmpty());
    assertEquals(Optional.empty(),
        RawHeader.parseMediaType("text/plain; ; =x; novalue").orElseThrow().parameter("novalue"));
  }

  @Test
  void eightBitBytesSurviveAsLatin1() {
    byte[] raw = {'S', ':', ' ', (byte) 0xc3, (byte) 0xa9, '\n', '\n'};
    String v = RawHeader.parse(raw).field("s").orElseThrow();
    assertEquals("\u00c3\u00a9", v);
  }
}
