package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.AlgorithmPolicy;
import org.sympasmime.pki.CertificateInfo;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.testutil.SignedMailPki;

/**
 * smime.verify against the real-world corpus ({@code t/corpus} of the repository, system
 * property {@code corpus.dir}); skipped when it is absent. Expected results are the manifests'.
 */
class VerifyCorpusTest {
  private static final Verify VERIFIER = new Verify(new TrustStores());
  private static Path corpus;

  @BeforeAll
  static void corpus() {
    String dir = System.getProperty("corpus.dir");
    Assumptions.assumeTrue(dir != null && Files.isDirectory(Path.of(dir)),
        "corpus.dir not available");
    corpus = Path.of(dir);
  }

  static Path file(String name) {
    return corpus.resolve(name);
  }

  static byte[] read(String name) {
    try {
      return Files.readAllBytes(file(name));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static Verify.Result verify(byte[] message, String cafile, Optional<Instant> at)
      throws SmimeException {
    return VERIFIER.verify(new Verify.Request(message, Optional.of(file(cafile)),
        Optional.empty(), at));
  }

  /**
   * Bouncy Castle's 2006 validator certificates are MD5-signed (and BC9's key has 512 bits),
   * which the default algorithm policy refuses ({@link #validatorMessagesUnderTheDefaultPolicy});
   * the path, date, usage and revocation rows run under a policy that lets them through, so
   * that what they test is still tested.
   */
  static final AlgorithmPolicy LEGACY = new AlgorithmPolicy(AlgorithmPolicy.Treatment.ACCEPT,
      AlgorithmPolicy.Treatment.ACCEPT, AlgorithmPolicy.Treatment.WARN, 512, 512, 224);

  static Verify.Result verifyLegacy(byte[] message, String cafile, Optional<Instant> at)
      throws SmimeException {
    return VERIFIER.verify(new Verify.Request(message, Optional.of(file(cafile)),
        Optional.empty(), at, Optional.empty(), false, LEGACY));
  }

  static String reason(Verify.Result r) {
    return r.failure().map(Reason::id).orElse("ok");
  }

  static List<String> signerEmails(Verify.Result r) throws SmimeException {
    List<String> out = new ArrayList<>();
    for (X509Certificate c : r.signers()) {
      out.addAll(CertificateInfo.of(c).emails());
    }
    return out;
  }

  static String contentText(Verify.Result r) {
    return new String(r.content().orElseThrow(), StandardCharsets.ISO_8859_1);
  }

  // ---- bouncycastle-mail

  @ParameterizedTest(name = "{0} {1} at {3} -> {4}")
  @CsvSource({
    "BC1, validator.validMail.eml, validator.root.crt, 1157362574, ok, arminha@student.ethz.ch",
    "BC2, validator.validMail.eml, validator.root.crt, 0, expired, arminha@student.ethz.ch",
    "BC3, validator.validMail.eml, validator.fakeRoot.crt, 1157362574, untrusted_chain, arminha@student.ethz.ch",
    "BC4, validator.expired.eml, validator.root.crt, 1157101715, expired, arminha@student.ethz.ch",
    "BC5, validator.notYetValid.eml, validator.root.crt, 1156777441, not_yet_valid, arminha@student.ethz.ch",
    "BC6, validator.keyUsage.eml, validator.root.crt, 1156769558, wrong_usage, arminha@student.ethz.ch",
    "BC7, validator.extKeyUsage.eml, validator.root.crt, 1156777297, wrong_usage, arminha@student.ethz.ch",
    "BC8, validator.noEmail.eml, validator.root.crt, 1156777376, ok, ''",
    "BC9, validator.shortKey.eml, validator.root.crt, 1156777526, ok, arminha@student.ethz.ch",
    "BC10, validator.longValidity.eml, validator.root.crt, 1157112083, ok, arminha@student.ethz.ch",
    "BC11, validator.revoked.eml, validator.root.crt, 1157107745, ok, arminha@student.ethz.ch",
  })
  void validatorMessages(String id, String message, String cafile, long at, String expected,
      String email) throws Exception {
    Verify.Result r = verifyLegacy(read("bouncycastle-mail/" + message),
        "bouncycastle-mail/" + cafile,
        at == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(at)));
    assertTrue(r.signed(), id);
    assertEquals(expected, reason(r), id + ": " + r.detail());
    assertEquals(email.isEmpty() ? List.of() : List.of(email), signerEmails(r), id);
    if (id.equals("BC1")) {
      assertTrue(contentText(r).contains("This is a Test Mail!"));
      assertEquals("multipart/signed", r.format().orElseThrow());
    }
  }

  /**
   * The same rows with {@code validator.revoked.crl} (issued 2006-09-01 10:00Z, no nextUpdate,
   * revoking serial 0x11): BC11 is now revoked, every other row keeps its result. The rows
   * checked before the CRL was issued have no current CRL, which is accepted by default.
   */
  @ParameterizedTest(name = "{0} {1} with the CRL -> {3}")
  @CsvSource({
    "BC1, validator.validMail.eml, 1157362574, ok",
    "BC2, validator.validMail.eml, 0, expired",
    "BC4, validator.expired.eml, 1157101715, expired",
    "BC5, validator.notYetValid.eml, 1156777441, not_yet_valid",
    "BC6, validator.keyUsage.eml, 1156769558, wrong_usage",
    "BC7, validator.extKeyUsage.eml, 1156777297, wrong_usage",
    "BC8, validator.noEmail.eml, 1156777376, ok",
    "BC9, validator.shortKey.eml, 1156777526, ok",
    "BC10, validator.longValidity.eml, 1157112083, ok",
    "BC11, validator.revoked.eml, 1157107745, revoked",
  })
  void validatorMessagesWithTheCrl(String id, String message, long at, String expected)
      throws Exception {
    Verify.Result r = verifyWithCrl(message, at, false);
    assertEquals(expected, reason(r), id + ": " + r.detail());
    assertEquals(List.of(), r.warnings(), id);
  }

  @Test
  void validatorRevokedDetailAndRequiredCrl() throws Exception {
    Verify.Result revoked = verifyWithCrl("validator.revoked.eml", 1157107745, false);
    assertEquals("C=CH, emailAddress=arminha@student.ethz.ch, CN=SignadMailValidatorTest Revoked"
        + " (serial 11) was revoked 2006-09-01T09:30:00Z (keyCompromise) by the CRL of C=CH,"
        + " CN=SignedMailValidatorTest Root of 2006-09-01T10:00:00Z", revoked.detail());
    // Without the CRL, BC11 verifies (the validatorMessages row above).
    assertEquals("ok", reason(verifyWithCrl("validator.validMail.eml", 1157362574, true)));
    assertEquals("ok", reason(verifyWithCrl("validator.longValidity.eml", 1157112083, true)));
    Verify.Result early = verifyWithCrl("validator.shortKey.eml", 1156777526, true);
    assertEquals("revocation_unknown", reason(early), early.detail());
  }

  static Verify.Result verifyWithCrl(String message, long at, boolean required)
      throws SmimeException {
    return VERIFIER.verify(new Verify.Request(read("bouncycastle-mail/" + message),
        Optional.of(file("bouncycastle-mail/validator.root.crt")), Optional.empty(),
        at == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(at)),
        Optional.of(file("bouncycastle-mail/validator.revoked.crl")), required, LEGACY));
  }

  @ParameterizedTest(name = "{0} {1} under the default policy")
  @CsvSource({
    "BC1, validator.validMail.eml, 1157362574, uses MD5",
    "BC9, validator.shortKey.eml, 1156777526, uses MD5",
    "BC11, validator.revoked.eml, 1157107745, uses MD5",
  })
  void validatorMessagesUnderTheDefaultPolicy(String id, String message, long at, String why)
      throws Exception {
    Verify.Result r = verify(read("bouncycastle-mail/" + message),
        "bouncycastle-mail/validator.root.crt", Optional.of(Instant.ofEpochSecond(at)));
    assertEquals("unsupported_algorithm", reason(r), id + ": " + r.detail());
    assertTrue(r.detail().contains(why), r.detail());
  }

  @Test
  void shortKeyRefusedEvenWhereMd5IsAccepted() throws Exception {
    AlgorithmPolicy md5Only = new AlgorithmPolicy(AlgorithmPolicy.Treatment.ACCEPT,
        AlgorithmPolicy.Treatment.WARN, AlgorithmPolicy.Treatment.WARN, 1024, 2048, 224);
    Verify.Result r = VERIFIER.verify(new Verify.Request(
        read("bouncycastle-mail/validator.shortKey.eml"),
        Optional.of(file("bouncycastle-mail/validator.root.crt")), Optional.empty(),
        Optional.of(Instant.ofEpochSecond(1156777526)), Optional.empty(), false, md5Only));
    assertEquals("unsupported_algorithm", reason(r), r.detail());
    assertTrue(r.detail().contains("512-bit RSA key"), r.detail());
  }

  /** The manifest's {@code -noverify} rows: the signature holds, the chain does not. */
  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "BC12, 3nnn_smime.eml, bruce_hoff@hotmail.com",
    "BC13, quotable.message, arminha@student.ethz.ch",
    "BC14, embeddedmulti.message, hauser@acm.org",
    "BC15, qp-soft-break.eml, martijn@izecom.com",
    "BC16, multi-alternative.eml, EDIFACT@landenergie.de",
    "BC17, extra-nl.eml, test@example.com",
    "BC18, circular.eml, armin@privasphere.com",
    "BC19, openssl-signed-sha256-non-default-salt-length.eml, test@example.com",
  })
  void realClientMessages(String id, String message, String email) throws Exception {
    byte[] bytes = read("bouncycastle-mail/" + message);
    // The validator root has nothing to do with these signers: no trust anchor, as -noverify.
    Verify.Result r = verify(bytes, "bouncycastle-mail/validator.root.crt", Optional.empty());
    assertTrue(r.signed(), id);
    assertTrue(List.of("untrusted_chain", "expired").contains(reason(r)),
        id + ": signature must hold, chain must not: " + reason(r) + " " + r.detail());
    assertTrue(signerEmails(r).contains(email), id + " " + signerEmails(r));
    assertFalse(r.content().orElseThrow().length == 0);
  }

  /**
   * BC12/BC20: Outlook for Mac sent its signed attributes in non-DER order. OpenSSL checks
   * them as received and finds the signature valid; Bouncy Castle re-sorts them and does not.
   * We follow OpenSSL (docs/decisions.md); the chain ends in an untrusted StartCom root.
   */
  @Test
  void outlookMacUnsortedSignedAttributes() throws Exception {
    byte[] bytes = read("bouncycastle-mail/3nnn_smime.eml");
    Verify.Result r = verify(bytes, "bouncycastle-mail/validator.root.crt", Optional.empty());
    assertEquals("untrusted_chain", reason(r), r.detail());
    assertEquals(3, r.certificates().size());
    // Any change to the signed bytes is still caught.
    String s = new String(bytes, StandardCharsets.ISO_8859_1)
        .replace("Test using single, tiny attachment.", "Test using single, tiny attachment!");
    Verify.Result tampered = verify(s.getBytes(StandardCharsets.ISO_8859_1),
        "bouncycastle-mail/validator.root.crt", Optional.empty());
    assertEquals("bad_signature", reason(tampered));
  }

  @Test
  void brokenEnvelopeIsNotASignedMessage() throws Exception {
    Verify.Result r = verify(read("bouncycastle-mail/brokenEnv.message"),
        "bouncycastle-mail/validator.root.crt", Optional.empty());
    assertFalse(r.signed());
  }

  // ---- lamps-protected-headers

  @Test
  void lampsProtectedHeaders() throws Exception {
    String dir = "lamps-protected-headers/";
    Verify.Result ph1 = verify(read(dir + "smime-multipart-signed.eml"), dir + "sample-ca.pem",
        Optional.empty());
    assertEquals("ok", reason(ph1), "PH1 " + ph1.detail());
    assertEquals(List.of("alice@smime.example"), signerEmails(ph1));
    assertTrue(contentText(ph1).contains("Bob, we need to cancel this contract."));

    Verify.Result ph2 = verify(read(dir + "smime-onepart-signed.eml"), dir + "sample-ca.pem",
        Optional.empty());
    assertEquals("ok", reason(ph2), "PH2 " + ph2.detail());
    assertEquals("signed-data", ph2.format().orElseThrow());
    assertEquals(new String(read(dir + "smime-onepart-signed.inner"), StandardCharsets.ISO_8859_1),
        contentText(ph2).replace("\r", ""));
    assertEquals(List.of("alice@smime.example"), signerEmails(ph2));

    Verify.Result ph6 = verify(read(dir + "smime-multipart-signed.eml"),
        "thunderbird-nss/smime/TestCA.pem", Optional.empty());
    assertEquals("untrusted_chain", reason(ph6), "PH6");
  }

  // ---- rfc4134

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "4.1.bin, AliceDSS@example.com",
    "4.2.bin, AliceRSA@example.com",
    "4.4.bin, AliceDSS@example.com",
    "4.5.bin, AliceRSA@example.com",
    "4.7.bin, AliceDSS@example.com",
    "4.10.bin, AliceDSS@example.com",
    // The manifest says AliceRSA + DianeDSS; the SignerInfos name serials C8 and D2 of CarlDSS,
    // AliceDSS and DianeDSS (whose key inherits its DSA parameters from CarlDSS).
    "4.6.bin, AliceDSS@example.com DianeDSS@example.com",
  })
  void rfc4134SignedData(String file, String emails) throws Exception {
    Verify.Result r = verify(SignedMailPki.opaque(read("rfc4134/" + file)), "rfc4134/pem/carl-roots.pem",
        Optional.empty());
    assertEquals("ok", reason(r), file + ": " + r.detail());
    assertEquals("This is some sample content.", contentText(r));
    assertEquals(List.of(emails.split(" ")), signerEmails(r));
  }

  @Test
  void rfc4134DetachedAndMime() throws Exception {
    byte[] content = read("rfc4134/ExContent.bin");
    Verify.Result r9 = verify(SignedMailPki.multipartSigned(content, read("rfc4134/4.3.bin")),
        "rfc4134/pem/carl-roots.pem", Optional.empty());
    assertEquals("ok", reason(r9), "4.3 " + r9.detail());
    assertArrayEquals(content, r9.content().orElseThrow());
    byte[] changed = "This is some sample content!".getBytes(StandardCharsets.US_ASCII);
    Verify.Result r20 = verify(SignedMailPki.multipartSigned(changed, read("rfc4134/4.3.bin")),
        "rfc4134/pem/carl-roots.pem", Optional.empty());
    assertEquals("bad_signature", reason(r20), "R20");

    for (String eml : List.of("4.8.eml", "4.9.eml")) {
      Verify.Result r = verify(read("rfc4134/" + eml), "rfc4134/pem/carl-roots.pem",
          Optional.empty());
      assertEquals("ok", reason(r), eml + ": " + r.detail());
      assertEquals(List.of("AliceDSS@example.com"), signerEmails(r));
      assertTrue(contentText(r).contains("This is some sample content."), eml);
    }
    Verify.Result certsOnly = verify(SignedMailPki.opaque(read("rfc4134/4.11.bin")),
        "rfc4134/pem/carl-roots.pem", Optional.empty());
    assertFalse(certsOnly.signed(), "4.11 is certs-only");
  }

  // ---- rfc9216-lamps-cms

  @Test
  void rfc9216SignedObjects(@TempDir Path tmp) throws Exception {
    String dir = "rfc9216-lamps-cms/";
    for (String[] c : List.of(
        new String[] {"signedByAliceRSA.p7m", "alice@smime.example"},
        new String[] {"signedByAliceRSAPSS.p7m", "alice@smime.example"},
        new String[] {"signedByCarlosEd25519.p7m", "carlos@smime.example"})) {
      Verify.Result r = verify(SignedMailPki.opaque(read(dir + "binary-files/" + c[0])),
          dir + "ca/roots.pem", Optional.empty());
      assertEquals("ok", reason(r), c[0] + ": " + r.detail());
      assertEquals(List.of(c[1]), signerEmails(r), c[0]);
      assertEquals("This is some sample content.", contentText(r));
    }
    byte[] content = read(dir + "content.txt");
    Verify.Result detached = verify(SignedMailPki.multipartSigned(content,
        read(dir + "binary-files/signedByCarlosDetached.p7m")), dir + "ca/roots.pem",
        Optional.empty());
    assertEquals("ok", reason(detached), "LC4 " + detached.detail());

    byte[] noCerts = SignedMailPki.opaque(read(dir + "binary-files/signedByAliceAndCarlosNoCerts.p7m"));
    assertEquals("no_signer_cert", reason(verify(noCerts, dir + "ca/roots.pem", Optional.empty())));
    Path cafile = tmp.resolve("roots-and-signers.pem");
    Files.writeString(cafile, Files.readString(file(dir + "ca/roots.pem")) + "\n"
        + Files.readString(file(dir + "certs-and-keys/lamps-alice.crt")) + "\n"
        + Files.readString(file(dir + "certs-and-keys/lamps-carlos.crt")));
    Verify.Result both = VERIFIER.verify(new Verify.Request(noCerts, Optional.of(cafile),
        Optional.empty(), Optional.empty()));
    assertEquals("ok", reason(both), "LC5 " + both.detail());
    // SignerInfo order: Carlos (Ed25519) comes first in the object.
    assertEquals(List.of("carlos@smime.example", "alice@smime.example"), signerEmails(both));
  }

  // ---- thunderbird-nss

  /** Every top-level message in smime/: expected result from its name, as the manifest says. */
  @Test
  void thunderbirdMessages() throws Exception {
    List<Path> files;
    try (Stream<Path> s = Files.list(file("thunderbird-nss/smime"))) {
      files = s.filter(p -> p.toString().endsWith(".eml")).sorted().toList();
    }
    int signed = 0;
    for (Path p : files) {
      String name = p.getFileName().toString();
      Verify.Result r = verify(Files.readAllBytes(p), "thunderbird-nss/smime/TestCA.pem",
          Optional.empty());
      String expected;
      if (name.endsWith(".env.eml")) {
        expected = "not_smime"; // the outer layer is encryption
      } else if (name.endsWith(".bad.eml") || name.endsWith(".mismatch-econtent.eml")
          || name.matches("alice\\.env\\.dsig\\.SHA\\d+\\.multipart\\.eml")) {
        expected = "bad_signature"; // tampered, or NSS signed the LF form of a CRLF file
      } else {
        expected = "ok";
      }
      assertEquals(expected, reason(r), name + ": " + r.detail());
      if (!expected.equals("ok")) {
        continue;
      }
      signed++;
      String outer = name.contains(".dave.") ? "Dave@example.com" : "Alice@example.com";
      assertEquals(List.of(outer), signerEmails(r), name);
      if (name.contains(".dave.")) {
        // The signed content is itself Alice's signed (or encrypted-then-signed) message.
        Verify.Result inner = verify(r.content().orElseThrow(),
            "thunderbird-nss/smime/TestCA.pem", Optional.empty());
        String innerExpected = name.contains("alice.env.dsig") ? "bad_signature"
            : name.contains("alice.env.sig") ? "ok" : "ok";
        assertEquals(innerExpected, reason(inner), name + " inner: " + inner.detail());
        assertEquals(List.of("Alice@example.com"), signerEmails(inner), name);
        if (name.startsWith("alice.plain")) {
          assertTrue(contentText(inner).contains("This is a test message from Alice to Bob."));
        }
      } else if (name.startsWith("alice.html")) {
        assertTrue(contentText(r).contains(
            "<html><body>This is a test message from Alice to Bob.</body></html>"), name);
      } else if (!name.startsWith("alice.env")) {
        assertTrue(contentText(r).contains("This is a test message from Alice to Bob."), name);
      } else {
        Verify.Result inner = verify(r.content().orElseThrow(),
            "thunderbird-nss/smime/TestCA.pem", Optional.empty());
        assertEquals("not_smime", reason(inner), name + ": the inner layer is encrypted");
      }
    }
    assertTrue(signed >= 40, "signed messages checked: " + signed);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "smime-manual/alice.dsig.SHA256.multipart.env.dsig.eml, bad_signature",
    "smime-manual/outer-smime-bad-sig-inner-smime-enc-sig.eml, bad_signature",
    "smime-manual/outer-smime-bad-sig-inner-smime-enc.eml, bad_signature",
    "smime-manual/outer-pgp-sig-inner-smime-enc.eml, not_smime",
    "smime-manual/outer-pgp-sig-inner-smime-enc-sig.eml, not_smime",
    // Signature intact (openssl -noverify agrees); the embedded Alice certificate was issued
    // by an older key of the same-named CA, so no path reaches TestCA.pem.
    "browser/alice.html.sig.SHA256.opaque.eml, untrusted_chain",
    "browser/nested-sigs.eml, bad_signature",
    "browser/alice.dsig.SHA256.multipart.in.mixed.eml, not_smime",
  })
  void thunderbirdManualAndBrowser(String name, String expected) throws Exception {
    Verify.Result r = verify(read("thunderbird-nss/" + name), "thunderbird-nss/smime/TestCA.pem",
        Optional.empty());
    assertEquals(expected, reason(r), name + ": " + r.detail());
  }

  @Test
  void thunderbirdEditedMessageFails() throws Exception {
    Verify.Result r = verify(read("thunderbird-nss/smime-manual/alice.env.mixed.dsig.SHA256.multipart.eml"),
        "thunderbird-nss/smime/TestCA.pem", Optional.empty());
    assertTrue(r.signed());
    assertFalse(r.valid(), r.detail());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"SHA1", "SHA256", "SHA384", "SHA512"})
  void thunderbirdStale2019(String digest) throws Exception {
    String dir = "thunderbird-nss/stale-2019/";
    Verify.Result opaque = verify(SignedMailPki.opaque(read(dir + "alice.textplain.sig." + digest)),
        "thunderbird-nss/smime/TestCA.pem", Optional.empty());
    assertTrue(List.of("untrusted_chain", "expired").contains(reason(opaque)), opaque.detail());
    assertTrue(contentText(opaque).contains("This is a test message from Alice to Bob."));
    Verify.Result detached = verify(SignedMailPki.multipartSigned(read(dir + "alice.mime"),
        read(dir + "alice.mime.dsig." + digest)), "thunderbird-nss/smime/TestCA.pem",
        Optional.empty());
    assertTrue(List.of("untrusted_chain", "expired").contains(reason(detached)),
        detached.detail());
    assertArrayEquals(read(dir + "alice.mime"), detached.content().orElseThrow());
  }
}
