package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/** The raw-byte multipart split, which decides which bytes a signature covers. */
class SignedEntityTest {
  static List<String> split(String body) throws SmimeException {
    return SignedEntity.split(body.getBytes(StandardCharsets.ISO_8859_1), 0, "b").stream()
        .map(p -> new String(p, StandardCharsets.ISO_8859_1)).toList();
  }

  @Test
  void lineBreaksBecomeCrlfAndTheLastOneBelongsToTheDelimiter() throws Exception {
    assertEquals(List.of("a\r\nb \r\n\r\nc", "sig"),
        split("preamble\n--b\na\nb \r\n\nc\n--b\nsig\n--b--\nepilogue\n"));
    // The CRs at the end of a line go with its LF (OpenSSL strip_eol); inner CRs and NUL stay.
    assertEquals(List.of("x\r\ny\rz\0", "s"), split("--b\r\nx\r\r\ny\rz\0\r\n--b\r\ns\r\n--b--"));
    // An empty line before the delimiter is content: only one line break is the delimiter's.
    assertEquals(List.of("x\r\n", "s"), split("--b\nx\n\n--b\ns\n--b--\n"));
  }

  @Test
  void delimitersMatchByPrefixAsInOpenssl() throws Exception {
    assertEquals(List.of("x", "s"), split("--b  \nx\n--b\t\ns\n--b--  \n"));
    assertEquals(List.of("--a", "s"), split("--b\n--a\n--b\ns\n--b--"));
  }

  @Test
  void theClosingDelimiterIsRequired() {
    SmimeException e = assertThrows(SmimeException.class, () -> split("--b\nx\n--b\ns\n"));
    assertEquals(Reason.MALFORMED_INPUT, e.reason());
  }

  @Test
  void headersAreLenient() throws Exception {
    String msg = "subject: x\ncontent-type:\tMultipart/Signed;\r\n boundary = b ;"
        + " PROTOCOL=\"application/pgp-signature\" (comment)\n\n--b\nx\n--b\ns\n--b--\n";
    SignedEntity e = SignedEntity.parse(msg.getBytes(StandardCharsets.ISO_8859_1));
    assertInstanceOf(SignedEntity.NotSmime.class, e);
  }

  @Test
  void transportPaddingMayFollowADelimiter() throws Exception {
    // RFC 2046: space and tab; MIME-tools strips CRs too, and the CRs before the LF are the
    // line break's anyway.
    assertEquals(List.of("x", "s"), split("--b \t\r \r\nx\n--b\t\ns\n--b-- \r\t\r\r\n"));
    assertEquals(List.of("x", "s"), split("--b\nx\n--b\ns\n--b--"));
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "--bjunk\nx\n--b\ns\n--b--\n",
    "--b junk\nx\n--b\ns\n--b--\n",
    "--b\nx\n--b\ns\n--b--junk\n",
    "--b\nx\n--b\ns\n--b-- junk\n",
    "--b\nx\n--b\ns\n--b---\n",
    "--b\nx\n--b-\ns\n--b--\n",
    "--b\nx\n--b\fy\n--b\ns\n--b--\n",
    // In the preamble too: MIME-tools would take the next --b for the first delimiter.
    "--b0\n--b\nx\n--b\ns\n--b--\n",
  })
  void aLineThatOnlyStartsWithTheDelimiterIsRefused(String body) {
    // OpenSSL splits at such a line, MIME-tools reads it as text: the signed part would not be
    // the part Sympa reads.
    SmimeException e = assertThrows(SmimeException.class, () -> split(body));
    assertEquals(Reason.MALFORMED_INPUT, e.reason());
  }

  @Test
  void aBoundaryEndingWithWhiteSpaceIsRefused() {
    // OpenSSL finds its delimiter lines; MIME-tools strips the space from them and finds none.
    String msg = "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";"
        + " boundary=\"b \"\n\n--b \nx\n--b \nContent-Type: application/pkcs7-signature\n\n"
        + "MAA=\n--b --\n";
    SmimeException e = assertThrows(SmimeException.class,
        () -> SignedEntity.parse(msg.getBytes(StandardCharsets.ISO_8859_1)));
    assertEquals(Reason.MALFORMED_INPUT, e.reason());
  }
}
