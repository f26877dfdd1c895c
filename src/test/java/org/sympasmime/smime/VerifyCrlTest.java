package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.Crls;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.testutil.Openssl;

/**
 * Revocation checking in smime.verify, with a PKI and CRLs made by {@code openssl ca}: a root
 * issuing an intermediate and the signers alice and bob, the intermediate issuing carol and dave.
 * Every certificate is valid from 2020 to 2035, so {@code at_time} can move around the CRLs.
 */
class VerifyCrlTest {
  private static final Verify VERIFIER = new Verify(new TrustStores(), new Crls());
  private static final Instant JAN_2020 = Instant.parse("2020-01-15T00:00:00Z");
  private static final DateTimeFormatter ASN1_TIME =
      DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);

  @TempDir
  static Path dir;

  @BeforeAll
  static void pki() throws IOException {
    Assumptions.assumeTrue(Openssl.available(), "no openssl");
    Files.writeString(dir.resolve("ext.cnf"), """
        [ca]
        basicConstraints = critical, CA:TRUE
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash
        [leaf]
        basicConstraints = CA:FALSE
        keyUsage = critical, digitalSignature, keyEncipherment
        extendedKeyUsage = emailProtection
        subjectAltName = email:copy
        """);
    for (String ca : List.of("root", "inter", "fake")) {
      Files.writeString(dir.resolve(ca + ".cnf"), """
          [ca]
          default_ca = this
          [this]
          database = %1$s.index
          new_certs_dir = new
          serial = %1$s.serial
          certificate = %1$s.crt
          private_key = %1$s.key
          default_md = sha256
          default_crl_days = 30
          policy = any
          unique_subject = no
          email_in_dn = yes
          [any]
          commonName = supplied
          emailAddress = optional
          """.formatted(ca));
      Files.writeString(dir.resolve(ca + ".index"), "");
      Files.writeString(dir.resolve(ca + ".serial"), ca.equals("inter") ? "2000\n" : "1000\n");
    }
    Files.createDirectories(dir.resolve("new"));
    Files.writeString(dir.resolve("entity.txt"), "Content-Type: text/plain\r\n\r\nHello.\r\n");

    key("root");
    ossl("req", "-new", "-key", "root.key", "-subj", "/CN=CRL Test Root", "-out", "root.csr");
    ossl("ca", "-batch", "-config", "root.cnf", "-selfsign", "-keyfile", "root.key", "-notext",
        "-in", "root.csr", "-out", "root.crt", "-extfile", "ext.cnf", "-extensions", "ca",
        "-startdate", "20191201000000Z", "-enddate", "20360101000000Z");
    // Same name as the root, another key: its CRLs must count for nothing.
    key("fake");
    ossl("req", "-x509", "-key", "fake.key", "-subj", "/CN=CRL Test Root", "-days", "3650",
        "-out", "fake.crt");
    issue("inter", "root", "/CN=CRL Test Intermediate", "ca");
    for (String leaf : List.of("alice", "bob")) {
      issue(leaf, "root", "/CN=" + leaf + "/emailAddress=" + leaf + "@example.org", "leaf");
    }
    for (String leaf : List.of("carol", "dave")) {
      issue(leaf, "inter", "/CN=" + leaf + "/emailAddress=" + leaf + "@example.org", "leaf");
      ossl("cms", "-sign", "-in", "entity.txt", "-signer", leaf + ".crt", "-inkey", leaf + ".key",
          "-certfile", "inter.crt", "-out", leaf + ".eml");
    }
    for (String leaf : List.of("alice", "bob")) {
      ossl("cms", "-sign", "-in", "entity.txt", "-signer", leaf + ".crt", "-inkey", leaf + ".key",
          "-out", leaf + ".eml");
    }

    ossl("ca", "-config", "root.cnf", "-revoke", "bob.crt", "-crl_reason", "keyCompromise");
    ossl("ca", "-config", "root.cnf", "-gencrl", "-out", "root.crl");
    ossl("crl", "-in", "root.crl", "-outform", "DER", "-out", "root.der");
    ossl("ca", "-config", "root.cnf", "-gencrl", "-crl_lastupdate", "20200101000000Z",
        "-crl_nextupdate", "20200201000000Z", "-out", "root-expired.crl");
    ossl("ca", "-config", "root.cnf", "-revoke", "inter.crt", "-crl_reason", "CACompromise");
    ossl("ca", "-config", "root.cnf", "-gencrl", "-out", "root-inter.crl");
    // alice put on hold in yesterday's CRL, released in today's.
    ossl("ca", "-config", "root.cnf", "-revoke", "alice.crt", "-crl_reason", "certificateHold");
    ossl("ca", "-config", "root.cnf", "-gencrl", "-out", "root-hold.crl", "-crl_lastupdate",
        ASN1_TIME.format(Instant.now().minus(1, ChronoUnit.DAYS)));
    Path index = dir.resolve("root.index");
    String released = Files.readString(index).lines()
        .map(l -> l.contains("/CN=alice") ? l.replaceFirst("^R\t([^\t]*)\t[^\t]*\t", "V\t$1\t\t")
            : l)
        .reduce("", (a, b) -> a + b + "\n");
    Files.writeString(index, released);
    ossl("ca", "-config", "root.cnf", "-gencrl", "-out", "root-released.crl");

    ossl("ca", "-config", "inter.cnf", "-revoke", "dave.crt");
    ossl("ca", "-config", "inter.cnf", "-gencrl", "-out", "inter.crl");
    ossl("ca", "-config", "fake.cnf", "-revoke", "alice.crt");
    ossl("ca", "-config", "fake.cnf", "-gencrl", "-out", "fake.crl");
  }

  private static void key(String name) {
    ossl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
        name + ".key");
  }

  private static void issue(String name, String ca, String subject, String ext) {
    key(name);
    ossl("req", "-new", "-key", name + ".key", "-subj", subject, "-out", name + ".csr");
    ossl("ca", "-batch", "-config", ca + ".cnf", "-notext", "-in", name + ".csr", "-out",
        name + ".crt", "-extfile", "ext.cnf", "-extensions", ext,
        "-startdate", "20200101000000Z", "-enddate", "20350101000000Z");
  }

  private static void ossl(String... args) {
    Openssl.run(dir, args).check();
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
