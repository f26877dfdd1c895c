package org.sympasmime.testutil;

import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.util.function.UnaryOperator;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
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
    leaf("alice", alice, ENC_RSA);
    leaf("bob", TestKeys.rsa("TestPki/bob"), ENC_RSA);
    leaf("ec256", ec256, ENC_EC);
    leaf("ec384", TestKeys.ec("TestPki/ec384", "P-384"), ENC_EC);
    leaf("expired", alice, s -> ENC_RSA.apply(s).validity(Instant.parse("2020-01-01T00:00:00Z"),
        Instant.parse("2021-01-01T00:00:00Z")));
    leaf("future", alice, s -> ENC_RSA.apply(s).validity(Instant.parse("2040-01-01T00:00:00Z"),
        Instant.parse("2041-01-01T00:00:00Z")));
    leaf("sigonly", alice, SIGN_ONLY);
    leaf("noku", alice, s -> s.with(Extension.basicConstraints, false, new BasicConstraints(false)));
    leaf("ec-sigonly", ec256, SIGN_ONLY);
    leaf("ed25519", TestKeys.ed25519("TestPki/ed25519"), SIGN_ONLY);
    files.encryptedKey("alice", PkiFiles.KeyForm.PKCS8_AES256, "alice.p8enc.key");
    files.encryptedKey("alice", PkiFiles.KeyForm.TRADITIONAL_AES128, "alice.trad.key");
  }

  private static final UnaryOperator<CertSpec> ENC_RSA = s -> s
      .with(Extension.basicConstraints, false, new BasicConstraints(false))
      .with(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
      .with(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(KeyPurposeId.id_kp_emailProtection))
      .with(Extension.subjectAlternativeName, false, email(s));
  private static final UnaryOperator<CertSpec> SIGN_ONLY = s -> s
      .with(Extension.basicConstraints, false, new BasicConstraints(false))
      .with(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
  private static final UnaryOperator<CertSpec> ENC_EC = s -> s
      .with(Extension.basicConstraints, false, new BasicConstraints(false))
      .with(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
      .with(Extension.subjectAlternativeName, false, email(s));

  private static GeneralNames email(CertSpec s) {
    return new GeneralNames(new GeneralName(GeneralName.rfc822Name,
        s.subject().getRDNs(BCStyle.EmailAddress)[0].getFirst().getValue().toString()));
  }

  /** {@code CN=name, emailAddress=name@example.org}, issued by the CA. */
  private void leaf(String name, KeyPair keys, UnaryOperator<CertSpec> shape) {
    files.issue(name, shape.apply(CertSpec.bare(
        CertSpec.dn("/CN=" + name + "/emailAddress=" + name + "@example.org"), keys)), "ca");
  }
}
