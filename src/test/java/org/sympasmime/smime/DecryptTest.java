package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.cms.AuthEnvelopedData;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.mime.LineEnds;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.testutil.Openssl;
import org.sympasmime.testutil.TestPki;

/** Messages made by {@code openssl cms -encrypt}, opened by {@link Decrypt}. */
class DecryptTest {
  /** 8-bit text, CRLF, a NUL and a lone CR: it must come back byte for byte. */
  static final byte[] ENTITY = ("Content-Type: text/plain; charset=utf-8\r\n"
      + "Content-Transfer-Encoding: 8bit\r\n\r\n"
      + "H\u00c3\u00a9llo w\u00c3\u00b6rld\r\nlone\rCR and NUL \0 here\r\n")
      .getBytes(StandardCharsets.ISO_8859_1);

  static TestPki pki;
  static Decrypt decrypt;

  @BeforeAll
  static void setUp() {
    assumeTrue(Openssl.available(), "openssl CLI not available");
    pki = TestPki.get();
    decrypt = new Decrypt(new KeyMaterial());
  }

  /** {@code openssl cms -encrypt -binary} of {@code entity}, LF line ends as openssl writes. */
  static byte[] opensslEncrypt(byte[] entity, String... args) {
    String[] all = new String[args.length + 3];
    all[0] = "cms";
    all[1] = "-encrypt";
    all[2] = "-binary";
    System.arraycopy(args, 0, all, 3, args.length);
    return Openssl.run(pki.dir(), entity, all).check().stdout();
  }

  static Decrypt.KeyPair pair(String cert, String key) {
    return new Decrypt.KeyPair(pki.cert(cert), pki.path(key));
  }

  static Decrypt.Result decrypt(byte[] message, Decrypt.KeyPair... pairs) throws SmimeException {
    return decrypt.decrypt(new Decrypt.Request(message, List.of(pairs), Optional.empty()));
  }

  static Reason failure(byte[] message, Optional<String> password, Decrypt.KeyPair... pairs) {
    SmimeException e = assertThrows(SmimeException.class,
        () -> decrypt.decrypt(new Decrypt.Request(message, List.of(pairs), password)));
    return e.reason();
  }

  static Reason failure(byte[] message, Decrypt.KeyPair... pairs) {
    return failure(message, Optional.empty(), pairs);
  }

  @ParameterizedTest
  @CsvSource({
    "-aes128, aes-128-cbc, false",
    "-aes192, aes-192-cbc, false",
    "-aes256, aes-256-cbc, false",
    "-des3, des-ede3-cbc, false",
    "-aes-128-gcm, aes-128-gcm, true",
    "-aes-192-gcm, aes-192-gcm, true",
    "-aes-256-gcm, aes-256-gcm, true",
  })
  void opensslCiphers(String option, String name, boolean authenticated) throws Exception {
    byte[] message = opensslEncrypt(ENTITY, option, "alice.crt");
    Decrypt.Result r = decrypt(message, pair("alice", "alice.key"));
    assertArrayEquals(ENTITY, r.entity());
    assertEquals(name, r.contentEncryption());
    assertEquals(authenticated, r.authenticated());
    assertEquals(pki.cert("alice"), r.cert());
  }

  @ParameterizedTest
  @CsvSource({
    "rsa_padding_mode:oaep, rsa_padding_mode:oaep",
    "rsa_padding_mode:oaep, rsa_oaep_md:sha256",
    "rsa_padding_mode:pkcs1, rsa_padding_mode:pkcs1",
  })
  void rsaKeyTransportVariants(String opt1, String opt2) throws Exception {
    byte[] message = opensslEncrypt(ENTITY, "-aes256", "-recip", "alice.crt",
        "-keyopt", opt1, "-keyopt", opt2);
    String printed = Openssl.run(pki.dir(), message, "cms", "-cmsout", "-print").check().text();
    if (opt1.endsWith("oaep")) {
      assertTrue(printed.contains("rsaesOaep"), printed);
    }
    if (opt2.endsWith("sha256")) {
      assertTrue(printed.contains("sha256"), printed);
    }
    assertArrayEquals(ENTITY, decrypt(message, pair("alice", "alice.key")).entity());
  }

  @Test
  void recipientBySubjectKeyIdentifier() throws Exception {
    byte[] message = opensslEncrypt(ENTITY, "-keyid", "-aes128", "bob.crt", "alice.crt");
    assertTrue(Openssl.run(pki.dir(), message, "cms", "-cmsout", "-print").check().text()
        .contains("subjectKeyIdentifier"));
    Decrypt.Result r = decrypt(message, pair("alice", "alice.key"));
    assertArrayEquals(ENTITY, r.entity());
  }

  @ParameterizedTest
  @CsvSource({
    "ec256, -aes128, sha1",
    "ec256, -aes128, sha256",
    "ec384, -aes256, sha1",
    "ec384, -aes256, sha256",
    "ec256, -aes-128-gcm, sha256",
    "ec384, -aes-256-gcm, sha384",
  })
  void ecdhRecipients(String who, String cipher, String kdf) throws Exception {
    byte[] message = opensslEncrypt(ENTITY, cipher, "-recip", who + ".crt",
        "-keyopt", "ecdh_kdf_md:" + kdf);
    String printed = Openssl.run(pki.dir(), message, "cms", "-cmsout", "-print").check().text();
    assertTrue(printed.contains("dhSinglePass-stdDH-" + kdf + "kdf-scheme"), printed);
    Decrypt.Result r = decrypt(message, pair(who, who + ".key"));
    assertArrayEquals(ENTITY, r.entity());
  }

  @Test
  void oursIsTheSecondOfTwoRecipients() throws Exception {
    byte[] message = opensslEncrypt(ENTITY, "-aes128", "bob.crt", "alice.crt");
    assertArrayEquals(ENTITY, decrypt(message, pair("alice", "alice.key")).entity());
    assertArrayEquals(ENTITY, decrypt(message, pair("bob", "bob.key")).entity());
  }

  @Test
  void everyPairIsTriedInOrder() throws Exception {
    byte[] message = opensslEncrypt(ENTITY, "-aes128", "alice.crt");
    // Not a recipient, then a recipient with the wrong key, then the right pair.
    Decrypt.Result r = decrypt(message, pair("bob", "bob.key"), pair("alice", "bob.key"),
        pair("alice", "alice.key"));
    assertArrayEquals(ENTITY, r.entity());
    assertEquals(pki.cert("alice"), r.cert());
  }

  @Test
  void lfAndCrlfMessagesGiveTheSameBytes() throws Exception {
    byte[] lf = opensslEncrypt(ENTITY, "-aes128", "alice.crt");
    assertFalse(new String(lf, StandardCharsets.ISO_8859_1).contains("\r\n"));
    byte[] crlf = LineEnds.bareLfToCrlf(lf);
    assertArrayEquals(ENTITY, decrypt(lf, pair("alice", "alice.key")).entity());
    assertArrayEquals(ENTITY, decrypt(crlf, pair("alice", "alice.key")).entity());
  }

  @Test
  void noLineEndConversionOnOutput() throws Exception {
    // Text mode: openssl canonicalizes the LF entity to CRLF before encrypting; -binary keeps
    // LF. Either way the decrypted bytes are what was encrypted.
    byte[] lfEntity = "Content-Type: text/plain\n\nline one\nline two\n"
        .getBytes(StandardCharsets.US_ASCII);
    byte[] text = Openssl.run(pki.dir(), lfEntity, "cms", "-encrypt", "-aes128", "alice.crt")
        .check().stdout();
    assertArrayEquals(LineEnds.bareLfToCrlf(lfEntity), decrypt(text, pair("alice", "alice.key")).entity());
    byte[] binary = opensslEncrypt(lfEntity, "-aes128", "alice.crt");
    assertArrayEquals(lfEntity, decrypt(binary, pair("alice", "alice.key")).entity());
  }

  @Test
  void lenientTopLevelHeader() throws Exception {
    byte[] message = opensslEncrypt(ENTITY, "-aes128", "alice.crt");
    String text = new String(message, StandardCharsets.ISO_8859_1);
    int body = text.indexOf("\n\n") + 2;
    String header = "Received: from x by y;\n\tTue, 1 Jan 2030 00:00:00 +0000\n"
        + "CONTENT-TYPE: Application/X-PKCS7-MIME;\n\tname=\"smime.p7m\";\n"
        + " smime-type=\"Enveloped-Data\" (a comment)\n"
        + "content-transfer-encoding: BASE64\n\n";
    byte[] rewritten = (header + text.substring(body)).getBytes(StandardCharsets.ISO_8859_1);
    assertArrayEquals(ENTITY, decrypt(rewritten, pair("alice", "alice.key")).entity());
  }

  @Test
  void base64WithOddLineBreaks() throws Exception {
    byte[] message = opensslEncrypt(ENTITY, "-aes128", "alice.crt");
    String text = new String(message, StandardCharsets.ISO_8859_1);
    int body = text.indexOf("\n\n") + 2;
    String b64 = text.substring(body).replaceAll("\\s", "");
    StringBuilder odd = new StringBuilder();
    for (int i = 0; i < b64.length(); i += 37) {
      odd.append(b64, i, Math.min(b64.length(), i + 37)).append(i % 2 == 0 ? "\r\n" : " \n\t");
    }
    byte[] rewritten = (text.substring(0, body) + odd + "\n\n\n")
        .getBytes(StandardCharsets.ISO_8859_1);
    assertArrayEquals(ENTITY, decrypt(rewritten, pair("alice", "alice.key")).entity());
  }

  @Test
  void notOurKey() {
    byte[] message = opensslEncrypt(ENTITY, "-aes128", "bob.crt");
    assertEquals(Reason.NO_MATCHING_KEY, failure(message, pair("alice", "alice.key")));
    assertEquals(Reason.NO_MATCHING_KEY, failure(message));
  }

  @Test
  void rightCertificateWrongKey() {
    byte[] message = opensslEncrypt(ENTITY, "-aes128", "alice.crt");
    assertEquals(Reason.KEY_MISMATCH, failure(message, pair("alice", "bob.key")));
    assertEquals(Reason.KEY_MISMATCH, failure(message, pair("alice", "ec256.key")));
    byte[] ec = opensslEncrypt(ENTITY, "-aes128", "ec256.crt");
    assertEquals(Reason.KEY_MISMATCH, failure(ec, pair("ec256", "ec384.key")));
    assertEquals(Reason.KEY_MISMATCH, failure(ec, pair("ec256", "alice.key")));
  }

  @ParameterizedTest
  @CsvSource({"alice.p8enc.key", "alice.trad.key"})
  void encryptedKeys(String keyFile) throws Exception {
    byte[] message = opensslEncrypt(ENTITY, "-aes128", "alice.crt");
    Decrypt.Result r = decrypt.decrypt(new Decrypt.Request(message,
        List.of(pair("alice", keyFile)), Optional.of(TestPki.PASSWORD)));
    assertArrayEquals(ENTITY, r.entity());
    assertEquals(Reason.BAD_PASSWORD,
        failure(message, Optional.of("wrong"), pair("alice", keyFile)));
    assertEquals(Reason.BAD_PASSWORD, failure(message, Optional.empty(), pair("alice", keyFile)));
  }

  @Test
  void errorMessagesNeverCarryThePassword() {
    byte[] message = opensslEncrypt(ENTITY, "-aes128", "alice.crt");
    String secret = "hunter2-very-secret";
    SmimeException e = assertThrows(SmimeException.class, () -> decrypt.decrypt(
        new Decrypt.Request(message, List.of(pair("alice", "alice.p8enc.key")),
            Optional.of(secret))));
    assertEquals(Reason.BAD_PASSWORD, e.reason());
    assertFalse(e.getMessage().contains(secret));
  }

  @Test
  void unreadableFiles() {
    byte[] message = opensslEncrypt(ENTITY, "-aes128", "alice.crt");
    assertEquals(Reason.FILE_UNREADABLE, failure(message, pair("alice", "missing.key")));
    assertEquals(Reason.FILE_UNREADABLE, failure(message,
        new Decrypt.KeyPair(pki.path("missing.crt"), pki.key("alice"))));
  }

  @ParameterizedTest
  @CsvSource({"-rc2, RC2", "-des, DES"})
  void legacyCiphersAreRefused(String option, String word) {
    Openssl.Run run = Openssl.run(pki.dir(), ENTITY, "cms", "-encrypt", "-binary", option,
        "-provider", "legacy", "-provider", "default", "alice.crt");
    assumeTrue(run.exit() == 0, "openssl cannot make " + option + " (no legacy provider)");
    SmimeException e = assertThrows(SmimeException.class,
        () -> decrypt(run.stdout(), pair("alice", "alice.key")));
    assertEquals(Reason.UNSUPPORTED_ALGORITHM, e.reason());
    assertTrue(e.getMessage().contains(word), e.getMessage());
  }

  @Test
  void signedMessagesAreNotSmimeEncrypted() {
    byte[] detached = Openssl.run(pki.dir(), ENTITY, "cms", "-sign", "-signer", "alice.crt",
        "-inkey", "alice.key").check().stdout();
    assertEquals(Reason.NOT_SMIME, failure(detached, pair("alice", "alice.key")));
    byte[] opaque = Openssl.run(pki.dir(), ENTITY, "cms", "-sign", "-nodetach", "-signer",
        "alice.crt", "-inkey", "alice.key").check().stdout();
    assertTrue(new String(opaque, StandardCharsets.ISO_8859_1).contains("signed-data"));
    assertEquals(Reason.NOT_SMIME, failure(opaque, pair("alice", "alice.key")));
    // Without smime-type the CMS content type is what tells.
    byte[] untyped = new String(opaque, StandardCharsets.ISO_8859_1)
        .replace("smime-type=signed-data;", "").getBytes(StandardCharsets.ISO_8859_1);
    assertEquals(Reason.NOT_SMIME, failure(untyped, pair("alice", "alice.key")));
    byte[] plain = "Content-Type: text/plain\n\nhello\n".getBytes(StandardCharsets.US_ASCII);
    assertEquals(Reason.NOT_SMIME, failure(plain, pair("alice", "alice.key")));
    byte[] none = "Subject: x\n\nhello\n".getBytes(StandardCharsets.US_ASCII);
    assertEquals(Reason.NOT_SMIME, failure(none, pair("alice", "alice.key")));
  }

  @Test
  void malformedBodies() {
    String head = "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n\n";
    for (String body : List.of("", "\n\n", "MIIB*AYJ\n", "aGVsbG8gd29ybGQ=\n", "MIIBuAYJKoZIhvcN\n",
        "aGVsbG8=aGVsbG8=\n")) {
      byte[] m = (head + body).getBytes(StandardCharsets.US_ASCII);
      assertEquals(Reason.MALFORMED_INPUT, failure(m, pair("alice", "alice.key")), body);
    }
    // A header only, no empty line: nothing to decode.
    byte[] headerOnly =
        "Content-Type: application/pkcs7-mime\n".getBytes(StandardCharsets.US_ASCII);
    assertEquals(Reason.MALFORMED_INPUT, failure(headerOnly, pair("alice", "alice.key")));
  }

  @Test
  void truncatedEnvelope() {
    byte[] message = opensslEncrypt(ENTITY, "-aes128", "alice.crt");
    String text = new String(message, StandardCharsets.ISO_8859_1);
    int body = text.indexOf("\n\n") + 2;
    byte[] der = Base64.getMimeDecoder().decode(text.substring(body));
    byte[] cut = Arrays.copyOf(der, der.length - 40);
    byte[] m = (text.substring(0, body) + Base64.getMimeEncoder().encodeToString(cut) + "\n")
        .getBytes(StandardCharsets.ISO_8859_1);
    assertEquals(Reason.MALFORMED_INPUT, failure(m, pair("alice", "alice.key")));
  }

  @Test
  void tamperedGcmTagIsRejected() throws Exception {
    byte[] message = opensslEncrypt(ENTITY, "-aes-128-gcm", "alice.crt");
    // Re-encoded with its own tag it opens; with one bit of the tag flipped it must not.
    assertArrayEquals(ENTITY, decrypt(withGcmTag(message, 0), pair("alice", "alice.key"))
        .entity());
    SmimeException e = assertThrows(SmimeException.class,
        () -> decrypt(withGcmTag(message, 1), pair("alice", "alice.key")));
    assertEquals(Reason.MALFORMED_INPUT, e.reason());
  }

  /** The message with the AuthEnvelopedData tag's first byte XORed with {@code flip}, as DER. */
  static byte[] withGcmTag(byte[] message, int flip) throws Exception {
    String text = new String(message, StandardCharsets.ISO_8859_1);
    int body = text.indexOf("\n\n") + 2;
    ContentInfo info = ContentInfo.getInstance(ASN1Primitive.fromByteArray(
        Base64.getMimeDecoder().decode(text.substring(body))));
    AuthEnvelopedData aed = AuthEnvelopedData.getInstance(info.getContent());
    byte[] mac = aed.getMac().getOctets();
    mac[0] ^= (byte) flip;
    AuthEnvelopedData changed = new AuthEnvelopedData(aed.getOriginatorInfo(),
        aed.getRecipientInfos(), aed.getAuthEncryptedContentInfo(), aed.getAuthAttrs(),
        new DEROctetString(mac), aed.getUnauthAttrs());
    byte[] der = new ContentInfo(CMSObjectIdentifiers.authEnvelopedData, changed)
        .getEncoded(ASN1Encoding.DER);
    return (text.substring(0, body) + Base64.getMimeEncoder().encodeToString(der) + "\n")
        .getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void bareDerEnvelope() throws Exception {
    byte[] der = Openssl.run(pki.dir(), ENTITY, "cms", "-encrypt", "-binary", "-aes128",
        "-outform", "DER", "alice.crt").check().stdout();
    Decrypt.Result r = decrypt.decryptDer(new Decrypt.Request(der,
        List.of(pair("alice", "alice.key")), Optional.empty()));
    assertArrayEquals(ENTITY, r.entity());
  }
}
