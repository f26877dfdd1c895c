package org.sympasmime.testutil;

import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.function.UnaryOperator;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * The shared JUnit PKI, made once per test JVM by {@link PkiFiles} in a temporary directory
 * removed at exit. One RSA CA ({@code ca}); RSA leaves {@code alice} and {@code bob}; EC leaves
 * {@code ec256} (P-256) and {@code ec384} (P-384); certificates on alice's key that are expired,
 * not yet valid, signing-only and without keyUsage; an EC signing-only certificate; an Ed25519
 * leaf; alice's key encrypted by openssl as PKCS#8 ({@code alice.p8enc.key}) and as traditional
 * PEM ({@code alice.trad.key}) with {@link #PASSWORD}.
 */
public final class TestPki {
  public static final String PASSWORD = PkiFiles.PASSWORD;

  private static TestPki instance;

  private final PkiFiles files;

  private TestPki(PkiFiles files) {
    this.files = files;
  }

  public static synchronized TestPki get() {
    if (instance == null) {
      TestPki pki = new TestPki(PkiFiles.temporary("sympa-smime-pki", ".crt"));
      pki.build();
      instance = pki;
    }
    return instance;
  }

  public Path dir() {
    return files.dir();
  }

  public Path path(String name) {
    return files.path(name);
  }

  /** {@code name.crt}. */
  public Path cert(String name) {
    return files.cert(name);
  }

  /** {@code name.key} (unencrypted PKCS#8). */
  public Path key(String name) {
    return files.key(name);
  }

  public String pem(String name) {
    return files.pem(name);
  }

  private void build() {
    files.selfSigned("ca", CertSpec.ca(CertSpec.dn("/CN=Test CA"), TestKeys.rsa("TestPki/ca")));
    KeyPair alice = TestKeys.rsa("TestPki/alice");
    KeyPair ec256 = TestKeys.ec("TestPki/ec256", "P-256");
    leaf("alice", alice, s -> s);
    leaf("bob", TestKeys.rsa("TestPki/bob"), s -> s);
    leaf("ec256", ec256, TestPki::encryptingEc);
    leaf("ec384", TestKeys.ec("TestPki/ec384", "P-384"), TestPki::encryptingEc);
    leaf("expired", alice, s -> s.validity(Instant.parse("2020-01-01T00:00:00Z"),
        Instant.parse("2021-01-01T00:00:00Z")));
    leaf("future", alice, s -> s.validity(Instant.parse("2040-01-01T00:00:00Z"),
        Instant.parse("2041-01-01T00:00:00Z")));
    leaf("sigonly", alice, TestPki::signingOnly);
    leaf("noku", alice, s -> signingOnly(s).without(Extension.keyUsage));
    leaf("ec-sigonly", ec256, TestPki::signingOnly);
    leaf("ed25519", TestKeys.ed25519("TestPki/ed25519"), TestPki::signingOnly);
    files.encryptedKey("alice", PkiFiles.KeyForm.PKCS8_AES256, "alice.p8enc.key");
    files.encryptedKey("alice", PkiFiles.KeyForm.TRADITIONAL_AES128, "alice.trad.key");
  }

  /** basicConstraints and a critical keyUsage digitalSignature, nothing else. */
  private static CertSpec signingOnly(CertSpec leaf) {
    return leaf.without(Extension.extendedKeyUsage).without(Extension.subjectAlternativeName)
        .with(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
  }

  /** keyUsage digitalSignature + keyAgreement, and no extendedKeyUsage. */
  private static CertSpec encryptingEc(CertSpec leaf) {
    return leaf.without(Extension.extendedKeyUsage).with(Extension.keyUsage, true,
        new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
  }

  /**
   * An S/MIME leaf {@code CN=name, emailAddress=name@example.org} ({@link CertSpec#leaf}) as
   * {@code shape} changes it, issued by the CA for ten years.
   */
  private void leaf(String name, KeyPair keys, UnaryOperator<CertSpec> shape) {
    CertSpec leaf = CertSpec.leaf(
        CertSpec.dn("/CN=" + name + "/emailAddress=" + name + "@example.org"), keys);
    leaf = leaf.validity(leaf.notBefore(), Instant.now().plus(Duration.ofDays(3650)));
    files.issue(name, shape.apply(leaf), "ca");
  }
}
