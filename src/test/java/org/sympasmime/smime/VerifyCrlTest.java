package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.math.BigInteger;
import java.security.KeyPair;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.cert.X509CRLHolder;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.Crls;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.testutil.CertSpec;
import org.sympasmime.testutil.Openssl;
import org.sympasmime.testutil.PkiFiles;
import org.sympasmime.testutil.PkiFiles.Revoked;
import org.sympasmime.testutil.TestKeys;

/**
 * Revocation checking in smime.verify, with a PKI and CRLs made by {@link PkiFiles}: a root
 * issuing an intermediate and the signers alice and bob, the intermediate issuing carol and dave,
 * serial numbers as an {@code openssl ca} with serial files 1000 and 2000 gives them. Every
 * certificate is valid from 2020 to 2035, so {@code at_time} can move around the CRLs. The
 * messages are signed by {@code openssl cms}.
 */
class VerifyCrlTest {
  private static final Verify VERIFIER = new Verify(new TrustStores(), new Crls());
  private static final Instant JAN_2020 = Instant.parse("2020-01-15T00:00:00Z");

  @TempDir
  static Path dir;

  @BeforeAll
  static void pki() {
    Assumptions.assumeTrue(Openssl.available(), "no openssl");
    PkiFiles pki = new PkiFiles(dir, ".crt");
    X500Name rootName = CertSpec.dn("/CN=CRL Test Root");
    pki.selfSigned("root", CertSpec.ca(rootName, keys("root")).serial(BigInteger.valueOf(0x1000))
        .validity(Instant.parse("2019-12-01T00:00:00Z"), Instant.parse("2036-01-01T00:00:00Z")));
    // Same name as the root, another key: its CRLs must count for nothing.
    pki.selfSigned("fake", CertSpec.ca(rootName, keys("fake")));
    pki.issue("inter", valid2020(CertSpec.ca(CertSpec.dn("/CN=CRL Test Intermediate"),
        keys("inter")), 0x1001), "root");
    int serial = 0x1002;
    for (String leaf : List.of("alice", "bob")) {
      pki.issue(leaf, valid2020(leaf(leaf), serial++), "root");
    }
    serial = 0x2000;
    for (String leaf : List.of("carol", "dave")) {
      pki.issue(leaf, valid2020(leaf(leaf), serial++), "inter");
    }
    Path entity = pki.path("entity.txt");
    try {
      Files.writeString(entity, "Content-Type: text/plain\r\n\r\nHello.\r\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (String leaf : List.of("alice", "bob", "carol", "dave")) {
      List<String> sign = new ArrayList<>(List.of("cms", "-sign", "-in", "entity.txt", "-signer",
          leaf + ".crt", "-inkey", leaf + ".key", "-out", leaf + ".eml"));
      if (leaf.equals("carol") || leaf.equals("dave")) {
        sign.addAll(List.of("-certfile", "inter.crt"));
      }
      pki.openssl(sign.toArray(String[]::new));
    }

    Instant now = Instant.now();
    Instant in30Days = now.plus(30, ChronoUnit.DAYS);
    Revoked bob = Revoked.of(pki.get("bob"), now, CRLReason.keyCompromise);
    Revoked inter = Revoked.of(pki.get("inter"), now, CRLReason.cACompromise);
    X509CRLHolder root = pki.crl("root", now, in30Days, List.of(bob));
    pki.write("root.crl", root);
    pki.write("root.der", root);
    pki.write("root-expired.crl", pki.crl("root", Instant.parse("2020-01-01T00:00:00Z"),
        Instant.parse("2020-02-01T00:00:00Z"), List.of(bob)));
    pki.write("root-inter.crl", pki.crl("root", now, in30Days, List.of(bob, inter)));
    // alice put on hold in yesterday's CRL, released in today's.
    pki.write("root-hold.crl", pki.crl("root", now.minus(1, ChronoUnit.DAYS), in30Days,
        List.of(bob, inter, Revoked.of(pki.get("alice"), now, CRLReason.certificateHold))));
    pki.write("root-released.crl", pki.crl("root", now, in30Days, List.of(bob, inter)));

    pki.write("inter.crl", pki.crl("inter", now, in30Days,
        List.of(Revoked.of(pki.get("dave"), now))));
    pki.write("fake.crl", pki.crl("fake", now, in30Days,
        List.of(Revoked.of(pki.get("alice"), now))));
  }

  private static KeyPair keys(String name) {
    return TestKeys.rsa("VerifyCrlTest/" + name);
  }

  /** An S/MIME signer {@code CN=name, emailAddress=name@example.org}. */
  private static CertSpec leaf(String name) {
    return CertSpec.leaf(CertSpec.dn("/CN=" + name + "/emailAddress=" + name + "@example.org"),
        keys(name));
  }

  private static CertSpec valid2020(CertSpec spec, int serial) {
    return spec.serial(BigInteger.valueOf(serial))
        .validity(Instant.parse("2020-01-01T00:00:00Z"), Instant.parse("2035-01-01T00:00:00Z"));
  }

  private static byte[] read(String name) {
    try {
      return Files.readAllBytes(dir.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Verify.Result verify(String message, Optional<String> crls, boolean required,
      Optional<Instant> at) throws SmimeException {
    return VERIFIER.verify(new Verify.Request(read(message), Optional.of(dir.resolve("root.crt")),
        Optional.empty(), at, crls.map(dir::resolve), required));
  }

  static Verify.Result verify(String message, String crls) throws SmimeException {
    return verify(message, Optional.of(crls), false, Optional.empty());
  }

  static String reason(Verify.Result r) {
    return r.failure().map(Reason::id).orElse("ok");
  }

  @Test
  void withoutCrlsNothingIsRevoked() throws Exception {
    for (String m : List.of("alice.eml", "bob.eml", "carol.eml", "dave.eml")) {
      Verify.Result r = verify(m, Optional.empty(), false, Optional.empty());
      assertEquals("ok", reason(r), m + ": " + r.detail());
    }
  }

  @Test
  void revokedSignerIsRevoked() throws Exception {
    Verify.Result bob = verify("bob.eml", "root.crl");
    assertEquals("revoked", reason(bob), bob.detail());
    assertTrue(bob.signed());
    assertTrue(bob.detail().startsWith("CN=bob, emailAddress=bob@example.org (serial 1003)"
        + " was revoked "), bob.detail());
    assertTrue(bob.detail().contains("(keyCompromise) by the CRL of CN=CRL Test Root"),
        bob.detail());
    assertEquals(1, bob.signers().size(), "the signer is still reported");

    Verify.Result alice = verify("alice.eml", "root.crl");
    assertEquals("ok", reason(alice), alice.detail());
    assertEquals(List.of(), alice.warnings());
    assertEquals("revoked", reason(verify("bob.eml", "root.der")), "a DER CRL");
  }

  @Test
  void aBrokenSignatureStillWinsOverRevocation() throws Exception {
    String s = new String(read("bob.eml"), StandardCharsets.ISO_8859_1);
    assertTrue(s.contains("Hello."));
    Files.writeString(dir.resolve("bob-tampered.eml"), s.replace("Hello.", "Jello."),
        StandardCharsets.ISO_8859_1);
    assertEquals("bad_signature", reason(verify("bob-tampered.eml", "root.crl")));
  }

  @Test
  void intermediatesAreCheckedToo() throws Exception {
    Verify.Result carol = verify("carol.eml", "root-inter.crl");
    assertEquals("revoked", reason(carol), carol.detail());
    assertTrue(carol.detail().startsWith("CN=CRL Test Intermediate (serial 1001) was revoked"),
        carol.detail());
    assertTrue(carol.detail().contains("(cACompromise)"), carol.detail());

    // The intermediate's own CRL is missing: accepted by default, refused when required.
    assertEquals("ok", reason(verify("carol.eml", "root.crl")));
    Verify.Result required = verify("carol.eml", Optional.of("root.crl"), true, Optional.empty());
    assertEquals("revocation_unknown", reason(required), required.detail());
    assertEquals("no current CRL of CN=CRL Test Intermediate: cannot tell whether CN=carol,"
        + " emailAddress=carol@example.org is revoked", required.detail());
    assertEquals("ok", reason(verify("alice.eml", Optional.of("root.crl"), true,
        Optional.empty())), "alice's issuer has its CRL");
  }

  @Test
  void aCrlSignedByAnotherKeyIsIgnored() throws Exception {
    // fake.crl has the root's name and lists alice, but the root did not sign it.
    Verify.Result alice = verify("alice.eml", "fake.crl");
    assertEquals("ok", reason(alice), alice.detail());
    assertEquals(List.of(), alice.warnings());
    Verify.Result required = verify("alice.eml", Optional.of("fake.crl"), true,
        Optional.empty());
    assertEquals("revocation_unknown", reason(required), required.detail());
  }

  @Test
  void anExpiredCrlIsNoCrlAndIsReported() throws Exception {
    // Lists bob, but its nextUpdate (2020-02-01) has passed.
    Verify.Result bob = verify("bob.eml", "root-expired.crl");
    assertEquals("ok", reason(bob), bob.detail());
    assertEquals(List.of("the CRL of CN=CRL Test Root expired 2020-02-01T00:00:00Z; revocation"
        + " of CN=bob, emailAddress=bob@example.org not checked"), bob.warnings());

    Verify.Result required = verify("bob.eml", Optional.of("root-expired.crl"), true,
        Optional.empty());
    assertEquals("revocation_unknown", reason(required), required.detail());
    assertTrue(required.detail().startsWith("the CRL of CN=CRL Test Root expired 2020-02-01"),
        required.detail());

    // At a time it was current, it counts.
    assertEquals("revoked", reason(verify("bob.eml", Optional.of("root-expired.crl"), false,
        Optional.of(JAN_2020))));
  }

  @Test
  void aCrlIssuedAfterTheValidationTimeDoesNotCount() throws Exception {
    assertEquals("ok", reason(verify("bob.eml", Optional.of("root.crl"), false,
        Optional.of(JAN_2020))));
    Verify.Result required = verify("bob.eml", Optional.of("root.crl"), true,
        Optional.of(JAN_2020));
    assertEquals("revocation_unknown", reason(required), required.detail());
  }

  @Test
  void theMostRecentCrlDecides() throws Exception {
    Path hold = Files.createDirectories(dir.resolve("hold"));
    Files.copy(dir.resolve("root-hold.crl"), hold.resolve("a.crl"));
    Verify.Result held = verify("alice.eml", "hold");
    assertEquals("revoked", reason(held), held.detail());
    assertTrue(held.detail().contains("(certificateHold)"), held.detail());

    Files.copy(dir.resolve("root-released.crl"), hold.resolve("b.crl"));
    assertEquals("ok", reason(verify("alice.eml", "hold")), "released by the newer CRL");
    assertEquals("revoked", reason(verify("bob.eml", "hold")));
  }

  @Test
  void aDirectoryOfCrls() throws Exception {
    Path crls = Files.createDirectories(dir.resolve("crls"));
    Files.copy(dir.resolve("root.crl"), crls.resolve("root.pem"));
    Files.copy(dir.resolve("inter.crl"), crls.resolve("inter.r0"));
    Files.copy(dir.resolve("root.crt"), crls.resolve("root.crt"));
    Files.writeString(crls.resolve("README"), "CRLs fetched nightly\n");

    assertEquals("revoked", reason(verify("bob.eml", "crls")));
    assertEquals("revoked", reason(verify("dave.eml", "crls")));
    for (String m : List.of("alice.eml", "carol.eml")) {
      Verify.Result r = verify(m, Optional.of("crls"), true, Optional.empty());
      assertEquals("ok", reason(r), m + ": " + r.detail());
    }

    // A change to the directory is seen on the next call.
    Files.delete(crls.resolve("inter.r0"));
    assertEquals("ok", reason(verify("dave.eml", "crls")));
    Files.copy(dir.resolve("inter.crl"), crls.resolve("inter.pem"));
    assertEquals("revoked", reason(verify("dave.eml", "crls")));
  }

  @Test
  void unreadableCrlsAreAnError() throws Exception {
    Files.writeString(dir.resolve("corrupt.crl"),
        "-----BEGIN X509 CRL-----\nAAAAAAAA\n-----END X509 CRL-----\n");
    Path bad = Files.createDirectories(dir.resolve("bad-dir"));
    Files.copy(dir.resolve("root.crl"), bad.resolve("root.crl"));
    Files.copy(dir.resolve("corrupt.crl"), bad.resolve("corrupt.crl"));
    for (String crls : List.of("nowhere.crl", "root.crt", "corrupt.crl", "bad-dir")) {
      SmimeException e = assertThrows(SmimeException.class, () -> verify("alice.eml", crls),
          crls);
      assertEquals(Reason.FILE_UNREADABLE, e.reason(), crls);
      assertTrue(e.getMessage().startsWith("cannot read CRLs " + dir.resolve(crls)),
          e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> new Verify.Request(read("alice.eml"),
        Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), true));
  }
}
