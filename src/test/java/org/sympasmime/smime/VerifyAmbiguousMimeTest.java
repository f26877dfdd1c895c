package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sympasmime.testutil.SignedMailPki.bytes;
import static org.sympasmime.testutil.SignedMailPki.text;

import java.nio.charset.StandardCharsets;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/**
 * smime.verify on signed messages that MIME-tools, which splits them for Sympa, would read
 * otherwise than we do. Each refused form still verified before it was refused: the signature
 * vouched for our reading while Sympa acted on MIME-tools'. Each twin is a harmless spelling
 * that must keep verifying.
 */
class VerifyAmbiguousMimeTest {
  private static final String CT = "Content-Type: multipart/signed;";

  /** alice.eml, its boundary B and its multipart/signed Content-Type line. */
  private static final String ALICE = text("alice.eml");
  private static final String B = ALICE.replaceAll("(?s).*boundary=\"([^\"]+)\".*", "$1");
  private static final String FIELD =
      ALICE.substring(ALICE.indexOf(CT), ALICE.indexOf('\n', ALICE.indexOf(CT)));

  private static String params(String params) {
    return ALICE.replace(FIELD, CT + " " + params);
  }

  private static String first(String from, String to) {
    int at = ALICE.indexOf(from);
    assertTrue(at >= 0, from);
    return ALICE.substring(0, at) + to + ALICE.substring(at + from.length());
  }

  private static final String PROTOCOL = "protocol=\"application/pkcs7-signature\"";
  private static final String QUOTED_B = "boundary=\"" + B + "\"";

  static Stream<Arguments> ambiguous() {
    return Stream.of(
        Arguments.of("two boundary parameters",
            params(PROTOCOL + "; micalg=sha-256; " + QUOTED_B + "; boundary=\"evil\"")),
        Arguments.of("boundary and BOUNDARY",
            params(PROTOCOL + "; micalg=sha-256; " + QUOTED_B + "; BOUNDARY=\"evil\"")),
        Arguments.of("boundary and RFC 2231 boundary*0",
            params(PROTOCOL + "; micalg=sha-256; " + QUOTED_B + "; boundary*0=\"evil\"")),
        Arguments.of("boundary and RFC 2231 boundary*",
            params(PROTOCOL + "; micalg=sha-256; " + QUOTED_B + "; Boundary*=us-ascii''evil")),
        Arguments.of("two protocol parameters", params(PROTOCOL
            + "; protocol=\"application/pgp-signature\"; micalg=sha-256; " + QUOTED_B)),
        Arguments.of("two micalg parameters",
            params(PROTOCOL + "; micalg=sha-256; MICALG=md5; " + QUOTED_B)),
        // MIME-tools stops reading parameters at one that is not name=value.
        Arguments.of("a parameter without a value before the boundary",
            params(PROTOCOL + "; micalg=sha-256; signed; " + QUOTED_B)),
        // MIME-tools ends an unquoted value at a tspecial: its boundary would be B's prefix.
        Arguments.of("an unquoted boundary that is not a token",
            ALICE.replace(QUOTED_B, "boundary=" + B + "/x").replace("--" + B, "--" + B + "/x")),
        Arguments.of("a comment before the boundary value",
            params(PROTOCOL + "; micalg=sha-256; boundary=(c)\"" + B + "\"")),
        Arguments.of("a comment with a semicolon",
            params(PROTOCOL + "; micalg=sha-256; " + QUOTED_B + " (a; boundary=evil)")),
        Arguments.of("an unterminated quoted boundary",
            params(PROTOCOL + "; micalg=sha-256; boundary=\"" + B)),
        // MIME-tools strips the space from delimiter lines, so it never finds --B.
        Arguments.of("a boundary ending with a space", ALICE.replace(QUOTED_B,
            "boundary=\"" + B + " \"").replace("--" + B, "--" + B + " ")),
        Arguments.of("a second Content-Type field",
            ALICE.replace(FIELD, FIELD + "\ncontent-TYPE: text/plain")),
        // RFC 2046: only transport padding may follow a delimiter; MIME-tools reads these as
        // text, OpenSSL as delimiters.
        Arguments.of("an opening delimiter followed by text",
            first("\n--" + B + "\n", "\n--" + B + " junk\n")),
        Arguments.of("a closing delimiter followed by text",
            first("\n--" + B + "--", "\n--" + B + "--junk")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ambiguous")
  void refused(String name, String message) {
    SmimeException e = assertThrows(SmimeException.class, () -> VerifyTest.verify(
        message.getBytes(StandardCharsets.ISO_8859_1), "root.crt"));
    assertEquals(Reason.MALFORMED_INPUT, e.reason(), e.getMessage());
  }

  static Stream<Arguments> twins() {
    UnaryOperator<String> padded = s -> s.replace("\n--" + B + "\n", "\n--" + B + " \t\n")
        .replace("\n--" + B + "--\n", "\n--" + B + "--  \n");
    return Stream.of(
        Arguments.of("alice.eml, a quoted boundary", ALICE),
        Arguments.of("one BOUNDARY in capitals, one PROTOCOL",
            params("PROTOCOL=\"application/pkcs7-signature\"; MicAlg=sha-256; BOUNDARY=\""
                + B + "\"")),
        Arguments.of("an unquoted token boundary",
            params(PROTOCOL + "; micalg=sha-256; boundary=" + B)),
        Arguments.of("white space around = and a trailing semicolon",
            params(PROTOCOL + " ;micalg = sha-256;\tboundary =\t\"" + B + "\" ;")),
        Arguments.of("comments after a value and after a semicolon",
            params(PROTOCOL + " (PKCS #7); (digest) micalg=sha-256 (SHA-2); " + QUOTED_B)),
        Arguments.of("quoted-pairs in the boundary",
            params(PROTOCOL + "; micalg=sha-256; boundary=\""
                + B.replace("-", "\\-") + "\"")),
        Arguments.of("transport padding after the delimiters", padded.apply(ALICE)),
        Arguments.of("two Received fields", "Received: a\nReceived: b\n" + ALICE));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("twins")
  void stillVerified(String name, String message) throws Exception {
    Verify.Result r = VerifyTest.verify(message.getBytes(StandardCharsets.ISO_8859_1),
        "root.crt");
    assertEquals("ok", VerifyTest.reason(r), r.detail());
    assertArrayEquals(bytes("entity.txt"), r.content().orElseThrow());
  }

  private static final String OPAQUE = text("alice-opaque.eml");

  static Stream<Arguments> ambiguousOpaque() {
    return Stream.of(
        Arguments.of("two smime-type parameters",
            OPAQUE.replace("smime-type=signed-data", "smime-type=signed-data; "
                + "smime-type=enveloped-data")),
        Arguments.of("smime-type and RFC 2231 smime-type*",
            OPAQUE.replace("smime-type=signed-data", "smime-type=signed-data; "
                + "smime-type*=''enveloped-data")),
        Arguments.of("two name parameters",
            OPAQUE.replace("; name=\"smime.p7m\"", "; name=\"smime.p7m\"; NAME=evil.exe")),
        Arguments.of("a second Content-Type field", OPAQUE.replace("; name=\"smime.p7m\"\n",
            "; name=\"smime.p7m\"\nCONTENT-TYPE: text/plain\n")),
        Arguments.of("two Content-Transfer-Encoding fields",
            OPAQUE.replace("Content-Transfer-Encoding: base64",
                "Content-Transfer-Encoding: base64\nContent-Transfer-Encoding: binary")));
  }

  @ParameterizedTest(name = "opaque: {0}")
  @MethodSource("ambiguousOpaque")
  void opaqueRefused(String name, String message) {
    assertTrue(!message.equals(OPAQUE), "the fixture changed: " + name);
    SmimeException e = assertThrows(SmimeException.class, () -> VerifyTest.verify(
        message.getBytes(StandardCharsets.ISO_8859_1), "root.crt"));
    assertEquals(Reason.MALFORMED_INPUT, e.reason(), e.getMessage());
  }
}
