package org.sympasmime.mime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

class MimeBase64Test {
  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void writesSixtyFourColumnsWithTheGivenLineEnd() {
    byte[] data = new byte[100]; // 136 base64 characters: 64 + 64 + 8
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 7);
    }
    String crlf = MimeBase64.encode(data, "\r\n");
    String[] lines = crlf.split("\r\n", -1);
    assertEquals(4, lines.length);
    assertEquals(64, lines[0].length());
    assertEquals(64, lines[1].length());
    assertEquals(8, lines[2].length());
    assertEquals("", lines[3]);
    assertEquals(crlf.replace("\r\n", "\n"), MimeBase64.encode(data, "\n"));
    assertEquals("", MimeBase64.encode(new byte[0], "\n"));
    assertEquals("AAAA\n", MimeBase64.encode(new byte[3], "\n"));
  }

  @Test
  void readsWhatItWritesSkippingLineBreaksAndBlanks() throws Exception {
    byte[] data = new byte[1000];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) i;
    }
    byte[] text = ascii("Header: x\r\n\r\n" + MimeBase64.encode(data, "\r\n"));
    assertArrayEquals(data, MimeBase64.decode(text, 13, "body"));
    assertArrayEquals(new byte[] {0, 0, 0}, MimeBase64.decode(ascii(" AA \tAA\n\r\n"), 0, "x"));
    // Missing final padding is tolerated.
    assertArrayEquals(new byte[] {(byte) 0xfb}, MimeBase64.decode(ascii("+w"), 0, "x"));
  }

  @Test
  void anythingElseIsMalformedInput() {
    for (String bad : new String[] {"AA-A", "AAAA=AAA", "AA!A", "\r\n \t", ""}) {
      SmimeException e = assertThrows(SmimeException.class,
          () -> MimeBase64.decode(ascii(bad), 0, "signature part"), bad);
      assertEquals(Reason.MALFORMED_INPUT, e.reason());
      assertEquals(true, e.getMessage().startsWith("the signature part is "), e.getMessage());
    }
  }
}
