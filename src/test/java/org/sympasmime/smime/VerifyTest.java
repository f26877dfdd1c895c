package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sympasmime.testutil.SignedMailPki.bytes;
import static org.sympasmime.testutil.SignedMailPki.path;
import static org.sympasmime.testutil.SignedMailPki.text;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.BcProvider;
import org.sympasmime.pki.Pem;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.testutil.SignedMailPki;

/** smime.verify against messages made by {@code openssl cms -sign} with the test PKI. */
class VerifyTest {
  private static final TrustStores STORES = new TrustStores();
  private static final Verify VERIFIER = new Verify(STORES);

  static Verify.Result verify(byte[] message, String cafile) throws SmimeException {
    return verify(message, Optional.of(path(cafile)), Optional.empty(), Optional.empty());
  }

  static Verify.Result verify(byte[] message, Optional<Path> cafile, Optional<Path> capath,
      Optional<Instant> at) throws SmimeException {
    return VERIFIER.verify(new Verify.Request(message, cafile, capath, at));
  }

  static String reason(Verify.Result r) {
    return r.failure().map(Reason::id).orElse("ok");
  }

  static byte[] lf(byte[] in) {
    return new String(in, StandardCharsets.ISO_8859_1).replace("\r\n", "\n")
        .getBytes(StandardCharsets.ISO_8859_1);
  }

  static byte[] replace(byte[] in, String from, String to) {
    String s = new String(in, StandardCharsets.ISO_8859_1);
    assertTrue(s.contains(from), "fixture lacks " + from);
    return s.replace(from, to).getBytes(StandardCharsets.ISO_8859_1);
  }

  @ParameterizedTest(name = "{0} -> {2}")
  @CsvSource({
    "alice.eml, root.crt, ok",
    "alice-crlf.eml, root.crt, ok",
    "alice-opaque.eml, root.crt, ok",
    "alice-sha1.eml, root.crt, ok",
    "alice-pss.eml, root.crt, ok",
    "alice-md5.eml, root.crt, unsupported_algorithm",
    "alice-nocerts.eml, root.crt, no_signer_cert",
    "two-signers.eml, root.crt, ok",
    "chained-certfile.eml, root.crt, ok",
    "chained.eml, root.crt, untrusted_chain",
    "chained.eml, cafile-with-int.pem, ok",
    "ec.eml, root.crt, ok",
    "nronly.eml, root.crt, ok",
    "anyeku.eml, root.crt, wrong_usage", // as OpenSSL: anyExtendedKeyUsage alone is not emailProtection
    "serverauth.eml, root.crt, wrong_usage",
    "enconly.eml, root.crt, wrong_usage",
    "noku.eml, root.crt, ok",
    "noext.eml, root.crt, ok",
    "untrusted.eml, root.crt, untrusted_chain",
    "untrusted.eml, other.crt, ok",
    "alice.eml, other.crt, untrusted_chain",
    "expired.eml, root.crt, expired",
    "future.eml, root.crt, not_yet_valid",
    "binary.eml, root.crt, ok",
    "binary-opaque.eml, root.crt, ok",
  })
  void reasons(String message, String cafile, String expected) throws Exception {
    Verify.Result r = verify(bytes(message), cafile);
    assertTrue(r.signed());
    assertEquals(expected, reason(r), r.detail());
    assertEquals(expected.equals("ok"), r.valid());
  }

  @Test
  void signersArePemAsOpensslWritesThem() throws Exception {
    Verify.Result r = verify(bytes("alice.eml"), "root.crt");
    assertEquals(List.of(text("alice.crt")), pems(r.signers()));
    assertEquals("multipart/signed", r.format().orElseThrow());
    assertEquals("signed by Alice@Example.org", r.detail());

    Verify.Result two = verify(bytes("two-signers.eml"), "root.crt");
    assertEquals(List.of(text("alice.crt"), text("bob.crt")), pems(two.signers()));

    Verify.Result chained = verify(bytes("chained-certfile.eml"), "root.crt");
    assertEquals(List.of(text("chained.crt")), pems(chained.signers()));
    assertEquals(2, chained.certificates().size());
    assertTrue(pems(chained.certificates()).contains(text("int.crt")));
  }

  @Test
  void contentIsTheSignedEntityInCrlf() throws Exception {
    byte[] entity = bytes("entity.txt");
    for (String m : List.of("alice.eml", "alice-crlf.eml", "alice-opaque.eml")) {
      Verify.Result r = verify(bytes(m), "root.crt");
      assertArrayEquals(entity, r.content().orElseThrow(), m);
    }
    Verify.Result lf = verify(lf(bytes("alice.eml")), "root.crt");
    assertTrue(lf.valid(), lf.detail());
    assertArrayEquals(entity, lf.content().orElseThrow());
    assertEquals("signed-data", verify(bytes("alice-opaque.eml"), "root.crt").format().get());
  }

  @Test
  void nulAnd8bitBytesSurvive() throws Exception {
    byte[] entity = bytes("binary.txt");
    assertTrue(new String(entity, StandardCharsets.ISO_8859_1).contains("\0"));
    for (String m : List.of("binary.eml", "binary-opaque.eml")) {
      Verify.Result r = verify(bytes(m), "root.crt");
      assertTrue(r.valid(), r.detail());
      assertArrayEquals(entity, r.content().orElseThrow(), m);
    }
  }

  @Test
  void oneChangedByteBreaksTheSignature() throws Exception {
    byte[] tampered = replace(bytes("alice.eml"), "Hello world.", "Jello world.");
    Verify.Result r = verify(tampered, "root.crt");
    assertEquals("bad_signature", reason(r));
    assertTrue(r.signed());
    assertEquals(List.of(text("alice.crt")), pems(r.signers()));
    byte[] space = replace(bytes("alice.eml"), "trailing space \r\n", "trailing space\r\n");
    assertEquals("bad_signature", reason(verify(space, "root.crt")));
    byte[] opaque = bytes("alice-opaque.eml");
    String s = new String(opaque, StandardCharsets.ISO_8859_1);
    int body = s.indexOf("\n\n") + 2;
    // Flip a bit of the encapsulated content, far from the base64 end.
    byte[] der = java.util.Base64.getMimeDecoder().decode(s.substring(body));
    String dump = new String(der, StandardCharsets.ISO_8859_1);
    int at = dump.indexOf("Hello world.");
    der[at] ^= 1;
    assertEquals("bad_signature", reason(verify(SignedMailPki.opaque(der), "root.crt")));
  }

  @Test
  void xPkcs7SignatureAndLenientHeaders() throws Exception {
    byte[] msg = bytes("alice.eml");
    byte[] x = replace(msg, "application/pkcs7-signature", "application/x-pkcs7-signature");
    assertEquals("ok", reason(verify(x, "root.crt")));

    String s = new String(msg, StandardCharsets.ISO_8859_1);
    String boundary = s.replaceAll("(?s).*boundary=\"([^\"]+)\".*", "$1");
    String ct = s.substring(s.indexOf("Content-Type: multipart/signed"), s.indexOf('\n',
        s.indexOf("Content-Type: multipart/signed")));
    String folded = "content-type: MULTIPART/SIGNED;\n\tprotocol=\"application/pkcs7-signature\";"
        + "\n micalg=sha-256; boundary=" + boundary;
    byte[] lenient = replace(msg, ct, folded);
    Verify.Result r = verify(lenient, "root.crt");
    assertEquals("ok", reason(r), r.detail());
    assertArrayEquals(bytes("entity.txt"), r.content().orElseThrow());

    byte[] noProtocol = replace(msg, "protocol=\"application/pkcs7-signature\"; ", "");
    assertEquals("ok", reason(verify(noProtocol, "root.crt")));

    // Sympa's own layout: LF header, then a CRLF body, plus an 8bit CTE on the multipart.
    String crlf = new String(bytes("alice-crlf.eml"), StandardCharsets.ISO_8859_1);
    int end = crlf.indexOf("\r\n\r\n");
    String sympa = "From: a@example.org\nSubject: test\n"
        + crlf.substring(0, end).replace("\r\n", "\n")
        + "\nContent-Transfer-Encoding: 8bit\n\n" + crlf.substring(end + 4);
    Verify.Result sy = verify(sympa.getBytes(StandardCharsets.ISO_8859_1), "root.crt");
    assertEquals("ok", reason(sy), sy.detail());
    assertArrayEquals(bytes("entity.txt"), sy.content().orElseThrow());
  }

  @Test
  void notSmimeIsAResult() throws Exception {
    byte[] plain = "From: a@example.org\nContent-Type: text/plain\n\nHello\n"
        .getBytes(StandardCharsets.US_ASCII);
    Verify.Result r = verify(plain, "root.crt");
    assertFalse(r.signed());
    assertFalse(r.valid());
    assertEquals("not_smime", reason(r));
    assertTrue(r.format().isEmpty());
    assertTrue(r.content().isEmpty());
    assertEquals("not_smime", reason(verify("Subject: x\n\nbody\n".getBytes(
        StandardCharsets.US_ASCII), "root.crt")));

    byte[] pgp = replace(bytes("alice.eml"), "application/pkcs7-signature",
        "application/pgp-signature");
    assertEquals("not_smime", reason(verify(pgp, "root.crt")));
    byte[] pgpNoProtocol = replace(replace(bytes("alice.eml"),
        "protocol=\"application/pkcs7-signature\"; ", ""),
        "Content-Type: application/pkcs7-signature", "Content-Type: application/pgp-signature");
    assertEquals("not_smime", reason(verify(pgpNoProtocol, "root.crt")));
    byte[] enveloped = replace(bytes("alice-opaque.eml"), "smime-type=signed-data",
        "smime-type=enveloped-data");
    assertEquals("not_smime", reason(verify(enveloped, "root.crt")));
  }

  @Test
  void malformedInputIsAnError() throws Exception {
    String s = new String(bytes("alice.eml"), StandardCharsets.ISO_8859_1);
    String boundary = s.replaceAll("(?s).*boundary=\"([^\"]+)\".*", "$1");
    int sigStart = s.indexOf("\n\n", s.indexOf("Content-Type: application/pkcs7-signature")) + 2;
    int sigEnd = s.indexOf("\n--" + boundary + "--");
    String garbage = s.substring(0, sigStart) + "!!!! not base64 ????\n" + s.substring(sigEnd);
    assertMalformed(garbage);
    String notCms = s.substring(0, sigStart) + "SGVsbG8gd29ybGQ=\n" + s.substring(sigEnd);
    assertMalformed(notCms);
    String threeParts = s.replace("\n--" + boundary + "--",
        "\n--" + boundary + "\nContent-Type: text/plain\n\nthird\n--" + boundary + "--");
    assertMalformed(threeParts);
    assertMalformed(s.substring(0, s.indexOf("\n--" + boundary + "--")));
    assertMalformed(s.replaceAll("boundary=\"[^\"]+\"", "boundary=\"\""));
  }

  private static void assertMalformed(String message) {
    SmimeException e = assertThrows(SmimeException.class,
        () -> verify(message.getBytes(StandardCharsets.ISO_8859_1), "root.crt"));
    assertEquals(Reason.MALFORMED_INPUT, e.reason(), e.getMessage());
  }

  @Test
  void datesAreCheckedAtTheValidationTime() throws Exception {
    Optional<Path> ca = Optional.of(path("root.crt"));
    Verify.Result then = verify(bytes("expired.eml"), ca, Optional.empty(),
        Optional.of(Instant.parse("2020-06-01T00:00:00Z")));
    assertEquals("ok", reason(then), then.detail());
    Verify.Result later = verify(bytes("future.eml"), ca, Optional.empty(),
        Optional.of(Instant.parse("2040-06-01T00:00:00Z")));
    assertEquals("ok", reason(later), later.detail());
    Verify.Result before = verify(bytes("alice.eml"), ca, Optional.empty(),
        Optional.of(Instant.parse("2001-01-01T00:00:00Z")));
    assertEquals("not_yet_valid", reason(before));
  }

  @Test
  void signerCertificateFromTheTrustStore(@TempDir Path tmp) throws Exception {
    Path cafile = tmp.resolve("ca.pem");
    Files.writeString(cafile, text("root.crt") + text("alice.crt"));
    Verify.Result r = verify(bytes("alice-nocerts.eml"), Optional.of(cafile), Optional.empty(),
        Optional.empty());
    assertEquals("ok", reason(r), r.detail());
    assertTrue(r.certificates().isEmpty());
    assertEquals(List.of(text("alice.crt")), pems(r.signers()));
  }

  @Test
  void capathWithAndWithoutHashLinks() throws Exception {
    for (String dir : List.of("capath-plain", "capath-hashed")) {
      Verify.Result r = verify(bytes("alice.eml"), Optional.empty(), Optional.of(path(dir)),
          Optional.empty());
      assertEquals("ok", reason(r), dir);
    }
    // An intermediate alone is no trust anchor (no partial chains).
    Verify.Result intOnly = verify(bytes("chained-certfile.eml"), Optional.empty(),
        Optional.of(path("capath-int")), Optional.empty());
    assertEquals("untrusted_chain", reason(intOnly));
    // cafile and capath together: the union.
    Verify.Result both = verify(bytes("chained.eml"), Optional.of(path("root.crt")),
        Optional.of(path("capath-int")), Optional.empty());
    assertEquals("ok", reason(both), both.detail());
  }

  @Test
  void capathSeesNewFiles(@TempDir Path tmp) throws Exception {
    Optional<Path> capath = Optional.of(tmp);
    assertEquals("untrusted_chain",
        reason(verify(bytes("alice.eml"), Optional.empty(), capath, Optional.empty())));
    Files.write(tmp.resolve("root.pem"), bytes("root.crt"));
    assertEquals("ok",
        reason(verify(bytes("alice.eml"), Optional.empty(), capath, Optional.empty())));
  }

  @Test
  void unreadableTrustStoreIsAnError(@TempDir Path tmp) throws Exception {
    Files.writeString(tmp.resolve("empty.pem"), "no certificate here\n");
    record Case(Optional<Path> cafile, Optional<Path> capath) {}
    for (Case c : List.of(
        new Case(Optional.of(tmp.resolve("missing.pem")), Optional.empty()),
        new Case(Optional.of(tmp.resolve("empty.pem")), Optional.empty()),
        new Case(Optional.of(tmp), Optional.empty()),
        new Case(Optional.empty(), Optional.of(tmp.resolve("nodir"))))) {
      SmimeException e = assertThrows(SmimeException.class,
          () -> verify(bytes("alice.eml"), c.cafile(), c.capath(), Optional.empty()));
      assertEquals(Reason.TRUST_STORE_UNREADABLE, e.reason(), e.getMessage());
    }
  }

  @Test
  void systemStoreOnlyWhenNothingIsConfigured() throws Exception {
    Assumptions.assumeTrue(Files.isReadable(TrustStores.SYSTEM_CA_FILE));
    // Our test root is not a system CA, so the default store cannot vouch for alice.
    assertEquals("untrusted_chain", reason(verify(bytes("alice.eml"), Optional.empty(),
        Optional.empty(), Optional.empty())));
    // And with a cafile, the system store is not consulted: a system CA certificate used as
    // "message" signer chain would not help either; the cafile alone decides.
    assertEquals("untrusted_chain", reason(verify(bytes("alice.eml"), "other.crt")));
  }

  @Test
  void ed25519Signature() throws Exception {
    X509Certificate cert = Pem.certificates(bytes("ed.crt")).get(0);
    PrivateKey key = Pem.privateKey(bytes("ed.key"), Optional.empty());
    CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
    gen.addSignerInfoGenerator(new JcaSignerInfoGeneratorBuilder(
        new JcaDigestCalculatorProviderBuilder().setProvider(BcProvider.get()).build())
        .build(new JcaContentSignerBuilder("Ed25519").setProvider(BcProvider.get()).build(key), cert));
    gen.addCertificates(new JcaCertStore(List.of(cert)));
    byte[] entity = bytes("entity.txt");
    CMSSignedData sd = gen.generate(new CMSProcessableByteArray(entity), false);
    Verify.Result r = verify(SignedMailPki.multipartSigned(entity, sd.getEncoded()), "root.crt");
    assertEquals("ok", reason(r), r.detail());
    assertArrayEquals(entity, r.content().orElseThrow());
    byte[] other = "Content-Type: text/plain\r\n\r\nother\r\n".getBytes(StandardCharsets.US_ASCII);
    assertEquals("bad_signature",
        reason(verify(SignedMailPki.multipartSigned(other, sd.getEncoded()), "root.crt")));
  }

  static List<String> pems(List<X509Certificate> certs) {
    return certs.stream().map(Pem::encode).toList();
  }
}
