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
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.mime.MimeBase64;
import org.sympasmime.mime.MimeHeader;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.testutil.Openssl;

/**
 * The encrypted messages of the shared corpus (system property {@code corpus.dir}), with the
 * expectations of each set's MANIFEST.md. Skipped when the corpus is absent.
 */
class CorpusDecryptTest {
  static final String ALICE_TO_BOB = "This is a test message from Alice to Bob.";
  static final String SAMPLE = "This is some sample content.";

  static Path corpus;
  static Decrypt decrypt;

  @BeforeAll
  static void setUp() {
    String dir = System.getProperty("corpus.dir");
    assumeTrue(dir != null && Files.isDirectory(Path.of(dir)), "corpus not available");
    corpus = Path.of(dir);
    decrypt = new Decrypt(new KeyMaterial());
  }

  static byte[] read(String relative) throws IOException {
    return Files.readAllBytes(corpus.resolve(relative));
  }

  static Decrypt.KeyPair pair(String cert, String key) {
    return new Decrypt.KeyPair(corpus.resolve(cert), corpus.resolve(key));
  }

  static Decrypt.KeyPair tbBob() {
    return pair("thunderbird-nss/pem/Bob.crt", "thunderbird-nss/pem/Bob.key");
  }

  static Decrypt.Result open(byte[] message, Decrypt.KeyPair... keys) throws SmimeException {
    return decrypt.decrypt(new Decrypt.Request(message, List.of(keys), Optional.empty()));
  }

  static Decrypt.Result openDer(byte[] der, Decrypt.KeyPair... keys) throws SmimeException {
    return decrypt.decryptDer(new Decrypt.Request(der, List.of(keys), Optional.empty()));
  }

  static Reason failure(byte[] message, Decrypt.KeyPair... keys) {
    return assertThrows(SmimeException.class, () -> open(message, keys)).reason();
  }

  static Reason failureDer(byte[] der, Decrypt.KeyPair... keys) {
    return assertThrows(SmimeException.class, () -> openDer(der, keys)).reason();
  }

  static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  static String withoutCr(byte[] bytes) {
    return text(bytes).replace("\r", "");
  }

  /**
   * The raw bytes of MIME sub-part {@code index} (0-based) of {@code entity}; the manifest's
   * {@code part} helper, in Java.
   */
  static byte[] part(byte[] entity, int index) {
    String d = text(entity);
    String[] hb = d.split("\r?\n\r?\n", 2);
    Matcher m = Pattern.compile("boundary=\"?([^\";\r\n]+)", Pattern.CASE_INSENSITIVE)
        .matcher(hb[0]);
    assertTrue(m.find(), "no boundary");
    String q = Pattern.quote(m.group(1));
    String[] parts = hb[1].split("(?:^|\r?\n)--" + q + "[^\r\n]*\r?\n");
    String p = parts[index + 1].split("\r?\n--" + q + "--")[0];
    return p.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** The content of an opaque signature, checked by openssl against the corpus CA. */
  static byte[] unwrapSigned(byte[] message, String caFile) {
    return Openssl.run(corpus, message, "cms", "-verify", "-CAfile", caFile).check().stdout();
  }

  // --- lamps-protected-headers: PH3, PH4, PH5 ---

  @ParameterizedTest
  @CsvSource({
    "smime-sign+enc.eml, smime-sign+enc.inner",
    "smime-sign+enc+legacy-disp.eml, smime-sign+enc+legacy-disp.inner",
    "smime-enc+legacy-disp.eml, smime-enc+legacy-disp.inner",
  })
  void lampsProtectedHeaders(String message, String inner) throws Exception {
    String set = "lamps-protected-headers/";
    Decrypt.Result r = open(read(set + message), pair(set + "pem/bob.crt", set + "pem/bob.key"));
    assertEquals("des-ede3-cbc", r.contentEncryption());
    assertFalse(r.authenticated());
    // The .inner files were stored after fromdos, hence the CR stripping (as the manifest says).
    assertEquals(text(read(set + inner)), withoutCr(r.entity()));
    if (message.startsWith("smime-sign")) {
      // The decrypted bytes are exact: the inner opaque signature still verifies over them.
      byte[] content = Openssl.run(corpus.resolve("lamps-protected-headers"), r.entity(), "cms",
          "-verify", "-CAfile", "sample-ca.pem").check().stdout();
      assertEquals(text(read(set + inner + ".inner")), withoutCr(content));
    }
  }

  // --- bouncycastle-mail: BC21-BC26 ---

  @Test
  void directProjectAes192() throws Exception {
    Decrypt.Result r = open(read("bouncycastle-mail/test192.message"),
        pair("bouncycastle-mail/cert.pem", "bouncycastle-mail/key.pem"));
    assertEquals("aes-192-cbc", r.contentEncryption());
    assertTrue(text(r.entity()).contains("Ciao from vienna"));
  }

  @ParameterizedTest
  @CsvSource({"test128.message, aes-128-cbc", "test256.message, aes-256-cbc"})
  void keyLongerOrShorterThanItsOidIsRefused(String file, String cipher) {
    // docs/decisions.md: a 24-byte key under an AES-128/256 OID is refused, as OpenSSL does.
    SmimeException e = assertThrows(SmimeException.class, () -> open(
        read("bouncycastle-mail/" + file),
        pair("bouncycastle-mail/cert.pem", "bouncycastle-mail/key.pem")));
    assertEquals(Reason.MALFORMED_INPUT, e.reason());
    assertTrue(e.getMessage().contains("24 bytes") && e.getMessage().contains(cipher),
        e.getMessage());
  }

  @Test
  void subjectKeyIdentifierRecipientsWithoutTheirKey() throws Exception {
    Decrypt.KeyPair direct = pair("bouncycastle-mail/cert.pem", "bouncycastle-mail/key.pem");
    // BC24: the Outlook 2010 recipient's key is not in the corpus.
    assertEquals(Reason.NO_MATCHING_KEY,
        failure(read("bouncycastle-mail/outlook_2010_beta_sime_msg.eml"), direct));
    // BC25: the .NET message names dotnet_enc_cert.pem by its key identifier; we have the
    // certificate but not its key, so the match is found and the (wrong) key is refused.
    // .NET labels its EnvelopedData smime-type=signed-data; like Sympa, we take the label at
    // its word (Sympa never calls decrypt on signed-data), so the body is tried bare here.
    byte[] dotnet = read("bouncycastle-mail/dotnet_encrypted_mail.eml");
    assertEquals(Reason.NOT_SMIME, failure(dotnet, direct));
    MimeHeader header = MimeHeader.parse(dotnet);
    assertEquals("signed-data", header.contentType().orElseThrow().parameter("smime-type")
        .orElseThrow());
    byte[] der = MimeBase64.decode(dotnet, header.bodyOffset(), "body");
    assertEquals(Reason.NO_MATCHING_KEY, failureDer(der, direct));
    assertEquals(Reason.KEY_MISMATCH, failureDer(der,
        pair("bouncycastle-mail/dotnet_enc_cert.pem", "bouncycastle-mail/key.pem")));
  }

  @Test
  void signaturePresentedAsEnvelope() throws Exception {
    // BC26: rejected cleanly (OpenSSL: invalid mime type).
    assertEquals(Reason.NOT_SMIME, failure(read("bouncycastle-mail/brokenEnv.message"),
        pair("bouncycastle-mail/cert.pem", "bouncycastle-mail/key.pem")));
  }

  // --- thunderbird-nss ---

  static Stream<String> topLevelEnvelopes() {
    return Stream.of("alice.env.eml",
        "alice.dsig.SHA1.multipart.env.eml", "alice.dsig.SHA256.multipart.env.eml",
        "alice.dsig.SHA384.multipart.env.eml", "alice.dsig.SHA512.multipart.env.eml",
        "alice.sig.SHA1.opaque.env.eml", "alice.sig.SHA256.opaque.env.eml",
        "alice.sig.SHA384.opaque.env.eml", "alice.sig.SHA512.opaque.env.eml",
        "alice.html.sig.SHA1.opaque.env.eml", "alice.html.sig.SHA256.opaque.env.eml",
        "alice.html.sig.SHA384.opaque.env.eml", "alice.html.sig.SHA512.opaque.env.eml");
  }

  /** TB1, TB5, TB7, TB9, TB21, TB23, TB25, TB37, TB39, TB41, TB53, TB55, TB57. */
  @ParameterizedTest
  @MethodSource("topLevelEnvelopes")
  void thunderbirdEnvelopes(String file) throws Exception {
    Decrypt.Result r = open(read("thunderbird-nss/smime/" + file), tbBob());
    assertEquals("aes-128-cbc", r.contentEncryption());
    assertEquals(corpus.resolve("thunderbird-nss/pem/Bob.crt"), r.cert());
    if (file.equals("alice.env.eml")) {
      assertTrue(text(r.entity()).contains(ALICE_TO_BOB));
      return;
    }
    // Signed inside: the signature over our output verifies, so the bytes are exact.
    String content = text(unwrapSigned(r.entity(), "thunderbird-nss/smime/TestCA.pem"));
    assertTrue(content.contains(file.contains("html")
        ? "<html><body>" + ALICE_TO_BOB + "</body></html>" : ALICE_TO_BOB), content);
  }

  /** TB10, TB26, TB42, TB58 (encrypt, then opaque-sign) and TB12, TB28, TB44, TB60 (+ Dave). */
  @ParameterizedTest
  @CsvSource({
    "alice.env.sig.SHA1.opaque.eml, 1", "alice.env.sig.SHA256.opaque.eml, 1",
    "alice.env.sig.SHA384.opaque.eml, 1", "alice.env.sig.SHA512.opaque.eml, 1",
    "alice.env.sig.SHA1.opaque.dave.sig.SHA1.opaque.eml, 2",
    "alice.env.sig.SHA256.opaque.dave.sig.SHA256.opaque.eml, 2",
    "alice.env.sig.SHA384.opaque.dave.sig.SHA384.opaque.eml, 2",
    "alice.env.sig.SHA512.opaque.dave.sig.SHA512.opaque.eml, 2",
  })
  void envelopesInsideOpaqueSignatures(String file, int layers) throws Exception {
    byte[] message = read("thunderbird-nss/smime/" + file);
    assertEquals(Reason.NOT_SMIME, failure(message, tbBob()));
    for (int i = 0; i < layers; i++) {
      message = unwrapSigned(message, "thunderbird-nss/smime/TestCA.pem");
    }
    assertTrue(text(open(message, tbBob()).entity()).contains(ALICE_TO_BOB));
  }

  /** TB11, TB27, TB43, TB59 and their Dave wrappings TB13, TB29, TB45, TB61. */
  @ParameterizedTest
  @CsvSource({
    "SHA1, false", "SHA256, false", "SHA384, false", "SHA512, false",
    "SHA1, true", "SHA256, true", "SHA384, true", "SHA512, true",
  })
  void envelopesInsideClearSignatures(String hash, boolean dave) throws Exception {
    String file = "alice.env.dsig." + hash + ".multipart"
        + (dave ? ".dave.sig." + hash + ".opaque" : "") + ".eml";
    byte[] message = read("thunderbird-nss/smime/" + file);
    assertEquals(Reason.NOT_SMIME, failure(message, tbBob()));
    if (dave) {
      message = unwrapSigned(message, "thunderbird-nss/smime/TestCA.pem");
    }
    assertTrue(text(open(part(message, 0), tbBob()).entity()).contains(ALICE_TO_BOB));
  }

  /** TB67-TB72: OpenSSL-made messages for Fran (RSA-OAEP variants, ECDH P-384). */
  @ParameterizedTest
  @CsvSource({
    "fran-oaep_ossl.env, Fran, des-ede3-cbc",
    "fran-oaep-label_ossl.env, Fran, aes-256-cbc",
    "fran-oaep-sha256hash_ossl.env, Fran, aes-128-cbc",
    "fran-oaep-sha256hash-sha256mgf_ossl.env, Fran, aes-256-cbc",
    "fran-ec_ossl-aes128-sha256.env, Fran-ec, aes-128-cbc",
    "fran-ec_ossl-aes256-sha512.env, Fran-ec, aes-256-cbc",
  })
  void interopMessagesForFran(String file, String who, String cipher) throws Exception {
    Decrypt.Result r = open(read("thunderbird-nss/smime-interop/" + file),
        pair("thunderbird-nss/pem/" + who + ".crt", "thunderbird-nss/pem/" + who + ".key"));
    assertEquals(cipher, r.contentEncryption());
    assertTrue(text(r.entity()).contains("This is a test message to Fran."));
  }

  /** TB73, TB75, TB76: an outer (bad) signature around an envelope Bob opens. */
  @ParameterizedTest
  @CsvSource({
    "alice.dsig.SHA256.multipart.env.dsig.eml, true",
    "outer-smime-bad-sig-inner-smime-enc-sig.eml, true",
    "outer-smime-bad-sig-inner-smime-enc.eml, false",
  })
  void handMadeOuterSignatures(String file, boolean innerSigned) throws Exception {
    byte[] message = read("thunderbird-nss/smime-manual/" + file);
    assertEquals(Reason.NOT_SMIME, failure(message, tbBob()));
    byte[] entity = open(part(message, 0), tbBob()).entity();
    String content = innerSigned
        ? text(unwrapSigned(entity, "thunderbird-nss/smime/TestCA.pem")) : text(entity);
    assertTrue(content.contains(ALICE_TO_BOB), content);
  }

  /** TB74, TB77, TB78: envelopes to a 2023 key that is not in the corpus. */
  @Test
  void envelopesToAnOldKeyFailCleanly() throws Exception {
    String dir = "thunderbird-nss/smime-manual/";
    byte[] mixed = part(read(dir + "alice.env.mixed.dsig.SHA256.multipart.eml"), 0);
    assertEquals(Reason.NOT_SMIME, failure(mixed, tbBob()));
    assertEquals(Reason.NO_MATCHING_KEY, failure(part(mixed, 0), tbBob()));
    for (String pgp : List.of("outer-pgp-sig-inner-smime-enc.eml",
        "outer-pgp-sig-inner-smime-enc-sig.eml")) {
      byte[] message = read(dir + pgp);
      assertEquals(Reason.NOT_SMIME, failure(message, tbBob()), pgp);
      assertEquals(Reason.NO_MATCHING_KEY, failure(part(message, 0), tbBob()), pgp);
    }
  }

  /** TB81: two separately encrypted alternatives (EFAIL bait): each opens on its own. */
  @Test
  void efailStyleAlternatives() throws Exception {
    byte[] message = read("thunderbird-nss/browser/multipart-alternative.eml");
    assertEquals(Reason.NOT_SMIME, failure(message, tbBob()));
    assertTrue(text(open(part(message, 0), tbBob()).entity()).contains("Please reply"));
    assertTrue(text(open(part(message, 1), tbBob()).entity())
        .contains("SECRET-TEXT the attacker wants to steal"));
  }

  /** TB92: the 2019 DER envelopes were made for a Bob key that no longer exists. */
  @Test
  void staleDerEnvelopes() throws Exception {
    try (Stream<Path> files = Files.list(corpus.resolve("thunderbird-nss/stale-2019"))) {
      List<Path> envs = files.filter(p -> p.toString().endsWith(".env")).sorted().toList();
      assertFalse(envs.isEmpty());
      for (Path env : envs) {
        assertEquals(Reason.NO_MATCHING_KEY, failureDer(Files.readAllBytes(env), tbBob()),
            env.toString());
      }
    }
  }

  // --- rfc4134: R14, R15, R16 ---

  static Decrypt.KeyPair rfc4134Bob() {
    return pair("rfc4134/pem/BobRSASignByCarl.pem", "rfc4134/pem/BobPrivRSAEncrypt.key.pem");
  }

  @Test
  void rfc4134TripleDes() throws Exception {
    Decrypt.Result der = openDer(read("rfc4134/5.1.bin"), rfc4134Bob());
    assertArrayEquals(SAMPLE.getBytes(StandardCharsets.US_ASCII), der.entity());
    assertEquals("des-ede3-cbc", der.contentEncryption());
    Decrypt.Result eml = open(read("rfc4134/5.3.eml"), rfc4134Bob());
    assertArrayEquals(SAMPLE.getBytes(StandardCharsets.US_ASCII), eml.entity());
    // The DER object wrapped as an S/MIME entity opens the same way.
    assertArrayEquals(SAMPLE.getBytes(StandardCharsets.US_ASCII),
        open(wrap(read("rfc4134/5.1.bin"), "enveloped-data"), rfc4134Bob()).entity());
  }

  @Test
  void rfc4134Rc2IsRefused() throws Exception {
    SmimeException e = assertThrows(SmimeException.class,
        () -> openDer(read("rfc4134/5.2.bin"), rfc4134Bob()));
    assertEquals(Reason.UNSUPPORTED_ALGORITHM, e.reason());
    assertTrue(e.getMessage().contains("RC2"), e.getMessage());
  }

  @Test
  void rfc4134NonEnvelopedObjectsAreNotSmimeEncrypted() throws Exception {
    for (String file : List.of("3.1.bin", "4.2.bin", "6.0.bin", "7.1.bin")) {
      assertEquals(Reason.NOT_SMIME, failureDer(read("rfc4134/" + file), rfc4134Bob()), file);
    }
  }

  static byte[] wrap(byte[] der, String smimeType) {
    return ("Content-Type: application/pkcs7-mime; smime-type=" + smimeType
        + "; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + java.util.Base64.getMimeEncoder().encodeToString(der) + "\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  // --- rfc9216-lamps-cms: LC6-LC10 ---

  static Decrypt.KeyPair lampsBob() {
    return pair("rfc9216-lamps-cms/certs-and-keys/lamps-bob.encrypt.crt",
        "rfc9216-lamps-cms/certs-and-keys/lamps-bob.decrypt.p8.pem");
  }

  static Decrypt.KeyPair lampsDana() {
    return pair("rfc9216-lamps-cms/certs-and-keys/lamps-dana.encrypt.crt",
        "rfc9216-lamps-cms/certs-and-keys/lamps-dana.decrypt.p8.pem");
  }

  static byte[] lamps(String name) throws IOException {
    return read("rfc9216-lamps-cms/binary-files/" + name + ".p7m");
  }

  @Test
  void rfc9216RsaOaep() throws Exception {
    for (String name : List.of("encryptedForBobRSAOaep", "encryptedForBobAndDana")) {
      Decrypt.Result r = openDer(lamps(name), lampsBob());
      assertArrayEquals(SAMPLE.getBytes(StandardCharsets.US_ASCII), r.entity(), name);
      assertEquals("aes-128-cbc", r.contentEncryption());
      assertArrayEquals(r.entity(), open(wrap(lamps(name), "enveloped-data"), lampsBob())
          .entity());
    }
  }

  @Test
  void rfc9216X25519ChaChaAndKekFailCleanly() throws Exception {
    // LC7, Dana's half: X25519 key agreement is not implemented.
    SmimeException x25519 = assertThrows(SmimeException.class,
        () -> openDer(lamps("encryptedForBobAndDana"), lampsDana()));
    assertEquals(Reason.UNSUPPORTED_ALGORITHM, x25519.reason());
    // Bob is tried after Dana and opens it: every pair is tried.
    assertArrayEquals(SAMPLE.getBytes(StandardCharsets.US_ASCII),
        openDer(lamps("encryptedForBobAndDana"), lampsDana(), lampsBob()).entity());
    // LC8: ChaCha20-Poly1305.
    SmimeException chacha = assertThrows(SmimeException.class,
        () -> openDer(lamps("authEnvelopedForBobChaCha20Poly1305"), lampsBob()));
    assertEquals(Reason.UNSUPPORTED_ALGORITHM, chacha.reason());
    assertTrue(chacha.getMessage().contains("ChaCha20"), chacha.getMessage());
    // LC9: X25519 with HKDF, AES-GCM.
    assertEquals(Reason.UNSUPPORTED_ALGORITHM,
        failureDer(lamps("authEnvelopedForDanaX25519HKDF"), lampsDana()));
    assertEquals(Reason.NO_MATCHING_KEY,
        failureDer(lamps("authEnvelopedForDanaX25519HKDF"), lampsBob()));
    // LC10: a KEK recipient only; no certificate can match it.
    assertEquals(Reason.NO_MATCHING_KEY, failureDer(lamps("encryptedKekri"), lampsBob()));
  }
}
