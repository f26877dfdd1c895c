package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.mime.LineEnds;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.testutil.Openssl;
import org.sympasmime.testutil.TestPki;

/** Envelopes made by {@link Encrypt}, opened by {@code openssl cms -decrypt} and by us. */
class EncryptTest {
  static final byte[] ENTITY = DecryptTest.ENTITY;

  static final String HEADER = "MIME-Version: 1.0\r\n"
      + "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n"
      + "Content-Type: application/pkcs7-mime; smime-type=%s; name=\"smime.p7m\"\r\n"
      + "Content-Transfer-Encoding: base64\r\n"
      + "\r\n";

  static TestPki pki;
  static KeyMaterial material;
  static Encrypt encrypt;
  static Decrypt decrypt;

  @TempDir
  Path tmp;

  @BeforeAll
  static void setUp() {
    assumeTrue(Openssl.available(), "openssl CLI not available");
    pki = TestPki.get();
    material = new KeyMaterial();
    encrypt = new Encrypt(material);
    decrypt = new Decrypt(material);
  }

  static Encrypt.Result encrypt(byte[] entity, ContentCipher cipher, KeyTransport transport,
      String... who) throws SmimeException {
    List<Encrypt.RecipientSource> recipients = new ArrayList<>();
    for (String w : who) {
      recipients.add(new Encrypt.FromPath(pki.cert(w)));
    }
    return encrypt.encrypt(new Encrypt.Request(entity, recipients, cipher, transport, false,
        Optional.empty()));
  }

  static byte[] opensslDecrypt(byte[] message, String who) {
    return Openssl.run(pki.dir(), message, "cms", "-decrypt", "-recip", who + ".crt",
        "-inkey", who + ".key").check().stdout();
  }

  static String print(byte[] message) {
    return Openssl.run(pki.dir(), message, "cms", "-cmsout", "-print").check().text();
  }

  /** The header is Crypt::SMIME's; the body is 64-column base64 ending in CRLF CRLF. */
  static void assertLayout(byte[] message, String smimeType) {
    String text = new String(message, StandardCharsets.ISO_8859_1);
    String header = String.format(HEADER, smimeType);
    assertTrue(text.startsWith(header), text);
    String body = text.substring(header.length());
    assertTrue(body.endsWith("\r\n\r\n"), "ends with CRLF CRLF");
    String[] lines = body.substring(0, body.length() - 4).split("\r\n", -1);
    for (int i = 0; i < lines.length; i++) {
      assertTrue(lines[i].matches("[A-Za-z0-9+/=]+"), "base64 line " + i);
      assertTrue(i == lines.length - 1 ? lines[i].length() <= 64 : lines[i].length() == 64,
          "line " + i + " has " + lines[i].length() + " characters");
    }
    assertFalse(text.replace("\r\n", "").contains("\n"), "no bare LF");
    assertFalse(text.replace("\r\n", "").contains("\r"), "no bare CR");
  }

  /** Every offered cipher with every RSA key transport. */
  static Stream<Arguments> rsaCombinations() {
    List<ContentCipher> ciphers = List.of(ContentCipher.AES_128_CBC, ContentCipher.AES_192_CBC,
        ContentCipher.AES_256_CBC, ContentCipher.AES_128_GCM, ContentCipher.AES_256_GCM);
    return ciphers.stream().flatMap(c -> Stream.of(KeyTransport.values()).map(k ->
        Arguments.of(c, k, c.id(), switch (k) {
          case RSA_PKCS1 -> "rsaEncryption";
          case RSA_OAEP -> "rsaesOaep";
          case RSA_OAEP_SHA256 -> "sha256";
        })));
  }

  @ParameterizedTest
  @MethodSource("rsaCombinations")
  void rsaRecipientOpensWithOpenssl(ContentCipher cipher, KeyTransport transport,
      String opensslCipher, String keyAlgorithm) throws Exception {
    Encrypt.Result r = encrypt(ENTITY, cipher, transport, "alice");
    String smimeType = cipher.aead() ? "authEnveloped-data" : "enveloped-data";
    assertEquals(smimeType, r.smimeType());
    assertLayout(r.message(), smimeType);
    String printed = print(r.message());
    assertTrue(printed.contains(opensslCipher), printed);
    assertTrue(printed.contains(keyAlgorithm), printed);
    if (transport == KeyTransport.RSA_OAEP) {
      assertFalse(printed.contains("sha256"), printed);
    }
    if (transport == KeyTransport.RSA_OAEP_SHA256) {
      // The MGF1 hash follows the OAEP hash, as openssl's rsa_oaep_md does.
      assertTrue(printed.matches("(?s).*mgf1.*sha256.*"), printed);
    }
    assertArrayEquals(ENTITY, opensslDecrypt(r.message(), "alice"));
    Decrypt.Result back = decrypt.decrypt(new Decrypt.Request(r.message(),
        List.of(new Decrypt.KeyPair(pki.cert("alice"), pki.key("alice"))), Optional.empty()));
    assertArrayEquals(ENTITY, back.entity());
    assertEquals(cipher.id(), back.contentEncryption());
  }

  @ParameterizedTest
  @CsvSource({
    "ec256, AES_128_CBC, id-aes128-wrap",
    "ec256, AES_256_CBC, id-aes256-wrap",
    "ec256, AES_128_GCM, id-aes128-wrap",
    "ec384, AES_128_CBC, id-aes128-wrap",
    "ec384, AES_192_CBC, id-aes192-wrap",
    "ec384, AES_256_GCM, id-aes256-wrap",
  })
  void ecRecipientOpensWithOpenssl(String who, ContentCipher cipher, String wrap)
      throws Exception {
    // key_transport is ignored for EC recipients: they always get ECDH.
    Encrypt.Result r = encrypt(ENTITY, cipher, KeyTransport.RSA_OAEP, who);
    assertLayout(r.message(), r.smimeType());
    String printed = print(r.message());
    assertTrue(printed.contains("dhSinglePass-stdDH-sha256kdf-scheme"), printed);
    assertTrue(printed.contains(wrap), printed);
    assertArrayEquals(ENTITY, opensslDecrypt(r.message(), who));
    Decrypt.Result back = decrypt.decrypt(new Decrypt.Request(r.message(),
        List.of(new Decrypt.KeyPair(pki.cert(who), pki.key(who))), Optional.empty()));
    assertArrayEquals(ENTITY, back.entity());
  }

  @Test
  void mixedRecipientsEachOpen() throws Exception {
    Encrypt.Result r = encrypt(ENTITY, ContentCipher.AES_256_CBC, KeyTransport.RSA_PKCS1,
        "alice", "ec256", "bob");
    String printed = print(r.message());
    assertEquals(3, Pattern.compile("d.recipientInfo|d\\.(ktri|kari)").matcher(printed)
        .results().count(), printed);
    for (String who : List.of("alice", "ec256", "bob")) {
      assertArrayEquals(ENTITY, opensslDecrypt(r.message(), who), who);
    }
  }

  @Test
  void defaultsAreCryptSmimes() throws Exception {
    Encrypt.Result r = encrypt.encrypt(Encrypt.Request.of(ENTITY,
        List.of(new Encrypt.FromPath(pki.cert("alice")))));
    assertEquals("enveloped-data", r.smimeType());
    assertLayout(r.message(), "enveloped-data");
    String printed = print(r.message());
    assertTrue(printed.contains("aes-128-cbc") && printed.contains("rsaEncryption"), printed);
    // Issuer and serial, not a key identifier, name the recipient.
    assertTrue(printed.contains("issuerAndSerialNumber"), printed);
  }

  @Test
  void headerMatchesCryptSmime() throws Exception {
    Path script = tmp.resolve("enc.pl");
    Files.writeString(script, "use Crypt::SMIME; local $/; open my $f, '<', $ARGV[0] or die;"
        + " my $c = <$f>; binmode STDOUT;"
        + " print Crypt::SMIME->new->setPublicKey($c)"
        + "->encrypt(\"Content-Type: text/plain\\n\\nHi\\n\");");
    ProcessBuilder pb = new ProcessBuilder("perl", script.toString(), pki.cert("alice").toString());
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      assumeTrue(false, "perl not available");
      return;
    }
    byte[] theirs = p.getInputStream().readAllBytes();
    assumeTrue(p.waitFor() == 0 && theirs.length > 0, "Crypt::SMIME not installed");
    Encrypt.Result ours = encrypt.encrypt(Encrypt.Request.of(
        "Content-Type: text/plain\n\nHi\n".getBytes(StandardCharsets.US_ASCII),
        List.of(new Encrypt.FromPath(pki.cert("alice")))));
    String t = new String(theirs, StandardCharsets.ISO_8859_1);
    String o = new String(ours.message(), StandardCharsets.ISO_8859_1);
    assertEquals(t.substring(0, t.indexOf("\r\n\r\n")), o.substring(0, o.indexOf("\r\n\r\n")));
    // Same plaintext, same key, same cipher: the same envelope size and line layout.
    assertEquals(t.length(), o.length());
    assertEquals(t.replaceAll("[A-Za-z0-9+/=]", "x"), o.replaceAll("[A-Za-z0-9+/=]", "x"));
    assertArrayEquals(opensslDecrypt(theirs, "alice"), opensslDecrypt(ours.message(), "alice"));
  }

  @Test
  void bareLfBecomesCrlfButLoneCrStays() throws Exception {
    byte[] in = "Content-Type: text/plain\n\nA\nB\r\nC\rD\n\nend"
        .getBytes(StandardCharsets.US_ASCII);
    Encrypt.Result r = encrypt(in, ContentCipher.AES_128_CBC, KeyTransport.RSA_PKCS1, "alice");
    assertArrayEquals("Content-Type: text/plain\r\n\r\nA\r\nB\r\nC\rD\r\n\r\nend"
        .getBytes(StandardCharsets.US_ASCII), opensslDecrypt(r.message(), "alice"));
  }

  @Test
  void everyByteValueSurvivesInBinaryMode() throws Exception {
    byte[] all = new byte[512];
    for (int i = 0; i < all.length; i++) {
      all[i] = (byte) (i < 256 ? i : 255 - (i - 256));
    }
    for (ContentCipher cipher : List.of(ContentCipher.AES_128_CBC, ContentCipher.AES_256_GCM)) {
      Encrypt.Result r = encrypt.encrypt(new Encrypt.Request(all,
          List.of(new Encrypt.FromPath(pki.cert("alice")), new Encrypt.FromPath(pki.cert("ec384"))),
          cipher, KeyTransport.RSA_PKCS1, true, Optional.empty()));
      assertArrayEquals(all, opensslDecrypt(r.message(), "alice"));
      assertArrayEquals(all, opensslDecrypt(r.message(), "ec384"));
      Decrypt.Result back = decrypt.decrypt(new Decrypt.Request(r.message(),
          List.of(new Decrypt.KeyPair(pki.cert("alice"), pki.key("alice"))), Optional.empty()));
      assertArrayEquals(all, back.entity());
    }
    // Without binary the same bytes are changed (the LF at 0x0a gains a CR).
    Encrypt.Result text = encrypt(all, ContentCipher.AES_128_CBC, KeyTransport.RSA_PKCS1, "alice");
    assertArrayEquals(LineEnds.bareLfToCrlf(all), opensslDecrypt(text.message(), "alice"));
    assertEquals(all.length + 2, LineEnds.bareLfToCrlf(all).length);
  }

  @Test
  void pemRecipientAndChainFile() throws Exception {
    Encrypt.Result r = encrypt.encrypt(Encrypt.Request.of(ENTITY,
        List.of(new Encrypt.FromPem(pki.pem("bob")))));
    assertArrayEquals(ENTITY, opensslDecrypt(r.message(), "bob"));
    // A file holding a chain: only its first certificate is a recipient.
    Path chain = tmp.resolve("chain.pem");
    Files.writeString(chain, pki.pem("alice") + pki.pem("bob"));
    Encrypt.Result c = encrypt.encrypt(Encrypt.Request.of(ENTITY,
        List.of(new Encrypt.FromPath(chain))));
    assertArrayEquals(ENTITY, opensslDecrypt(c.message(), "alice"));
    assertTrue(Openssl.run(pki.dir(), c.message(), "cms", "-decrypt", "-recip", "bob.crt",
        "-inkey", "bob.key").exit() != 0);
  }

  @Test
  void derCertificateFileIsAReadableRecipient() throws Exception {
    // Pem reads a DER certificate file too; the envelope is one its owner opens.
    Path der = tmp.resolve("alice.der");
    Files.write(der, Openssl.run(pki.dir(), "x509", "-in", "alice.crt", "-outform", "DER")
        .check().stdout());
    Encrypt.Result r = encrypt.encrypt(Encrypt.Request.of(ENTITY,
        List.of(new Encrypt.FromPath(der))));
    assertArrayEquals(ENTITY, opensslDecrypt(r.message(), "alice"));
  }

  static Reason refusal(Encrypt.RecipientSource... sources) {
    return refusal(Optional.empty(), sources);
  }

  static Reason refusal(Optional<Instant> at, Encrypt.RecipientSource... sources) {
    SmimeException e = assertThrows(SmimeException.class, () -> encrypt.encrypt(
        new Encrypt.Request(ENTITY, List.of(sources), ContentCipher.AES_128_CBC,
            KeyTransport.RSA_PKCS1, false, at)));
    return e.reason();
  }

  static Encrypt.RecipientSource cert(String who) {
    return new Encrypt.FromPath(pki.cert(who));
  }

  @Test
  void datesAreChecked() throws Exception {
    assertEquals(Reason.EXPIRED, refusal(cert("expired")));
    assertEquals(Reason.NOT_YET_VALID, refusal(cert("future")));
    // One bad recipient refuses the whole envelope.
    assertEquals(Reason.EXPIRED, refusal(cert("alice"), cert("expired")));
    // at_time moves the check: in mid-2020 the expired one was valid, the others not yet.
    Optional<Instant> mid2020 = Optional.of(Instant.parse("2020-06-01T00:00:00Z"));
    Encrypt.Result r = encrypt.encrypt(new Encrypt.Request(ENTITY, List.of(cert("expired")),
        ContentCipher.AES_128_CBC, KeyTransport.RSA_PKCS1, false, mid2020));
    assertArrayEquals(ENTITY, Openssl.run(pki.dir(), r.message(), "cms", "-decrypt", "-recip",
        "expired.crt", "-inkey", "alice.key").check().stdout());
    assertEquals(Reason.NOT_YET_VALID, refusal(mid2020, cert("alice")));
    assertEquals(Reason.EXPIRED,
        refusal(Optional.of(Instant.parse("2045-01-01T00:00:00Z")), cert("future")));
  }

  @Test
  void keyUsageAndKeyTypeAreChecked() throws Exception {
    assertEquals(Reason.WRONG_USAGE, refusal(cert("sigonly")));
    assertEquals(Reason.WRONG_USAGE, refusal(cert("ec-sigonly")));
    assertEquals(Reason.NO_RECIPIENTS, refusal(cert("ed25519")));
    // No keyUsage at all allows everything.
    Encrypt.Result r = encrypt.encrypt(Encrypt.Request.of(ENTITY, List.of(cert("noku"))));
    assertArrayEquals(ENTITY, Openssl.run(pki.dir(), r.message(), "cms", "-decrypt", "-recip",
        "noku.crt", "-inkey", "alice.key").check().stdout());
  }

  @Test
  void filesWithoutCertificatesAreRefused() throws Exception {
    Path empty = Files.write(tmp.resolve("empty"), new byte[0]);
    Path garbage = Files.writeString(tmp.resolve("garbage"), "not a certificate\n");
    Path keyOnly = pki.key("alice");
    Path corrupt = Files.writeString(tmp.resolve("corrupt"),
        "-----BEGIN CERTIFICATE-----\nMIIB!!!notbase64\n-----END CERTIFICATE-----\n");
    Path derGarbage = Files.write(tmp.resolve("der-garbage"), new byte[] {0x30, 0x03, 1, 2});
    for (Path p : List.of(empty, garbage, keyOnly, corrupt, derGarbage)) {
      assertEquals(Reason.BAD_CERTIFICATE, refusal(new Encrypt.FromPath(p)), p.toString());
    }
    assertEquals(Reason.FILE_UNREADABLE, refusal(new Encrypt.FromPath(tmp.resolve("missing"))));
    assertEquals(Reason.BAD_CERTIFICATE, refusal(new Encrypt.FromPem("")));
    assertEquals(Reason.BAD_CERTIFICATE, refusal(new Encrypt.FromPem("garbage")));
    assertEquals(Reason.BAD_CERTIFICATE,
        refusal(new Encrypt.FromPem(Files.readString(pki.key("alice")))));
    assertEquals(Reason.NO_RECIPIENTS, refusal());
  }

  @Test
  void unknownAlgorithmNamesAreRefused() {
    for (String name : List.of("des-ede3-cbc", "rc2-cbc", "aes-192-gcm", "AES-128-CBC", "")) {
      assertEquals(Reason.UNSUPPORTED_ALGORITHM, assertThrows(SmimeException.class,
          () -> ContentCipher.forEncryption(name)).reason(), name);
    }
    assertEquals(Reason.UNSUPPORTED_ALGORITHM, assertThrows(SmimeException.class,
        () -> KeyTransport.forName("rsa-oaep-sha512")).reason());
  }

  @Test
  void envelopesAreFreshEachTime() throws Exception {
    Encrypt.Result a = encrypt(ENTITY, ContentCipher.AES_128_CBC, KeyTransport.RSA_PKCS1, "alice");
    Encrypt.Result b = encrypt(ENTITY, ContentCipher.AES_128_CBC, KeyTransport.RSA_PKCS1, "alice");
    assertFalse(Arrays.equals(a.message(), b.message()));
    Matcher m = Pattern.compile("\r\n\r\n(.*)\r\n\r\n", Pattern.DOTALL)
        .matcher(new String(a.message(), StandardCharsets.ISO_8859_1));
    assertTrue(m.find());
    // DER, not BER: definite lengths throughout, as Crypt::SMIME writes.
    byte[] der = Base64.getMimeDecoder().decode(m.group(1));
    assertEquals(0x30, der[0] & 0xff);
    assertTrue((der[1] & 0xff) != 0x80, "definite length");
  }
}
