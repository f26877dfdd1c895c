package org.sympasmime.smime;

import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.sympasmime.testutil.CertSpec;
import org.sympasmime.testutil.PkiFiles;
import org.sympasmime.testutil.TestKeys;

/**
 * The signing tests' PKI, made by {@link PkiFiles} into the directory given (certificates as
 * {@code name.pem}, keys as {@code name.key}), so that what we sign is checked against openssl:
 *
 * <pre>
 * root (RSA, self-signed)
 *  +- int      "CN=Test Intermediate"   (RSA key A)
 *  |   +- rsa  list certificate, RSA, chained through int
 *  |   +- ec   list certificate, P-256
 *  +- intB     "CN=Test Intermediate"   (same DN, RSA key B: a re-keyed intermediate)
 *  |   +- viaB leaf issued by intB
 *  +- direct   leaf issued by the root
 *  +- encOnly  leaf whose keyUsage is keyEncipherment only
 *  +- server   leaf whose extendedKeyUsage is serverAuth
 * ed25519      leaf (Ed25519) issued by int
 * </pre>
 *
 * <p>Bundles: {@code rsa-chain.pem} (the list's cert.pem as admins make it: leaf, then the chain,
 * root included), {@code cafile.pem} (with noise: the re-keyed intermediate before the right
 * one, so that a DN-only match picks wrongly), {@code cafileB.pem}. rsa's key encrypted by
 * openssl with {@link #PASSWORD}: {@code rsa-pkcs8-enc.key}, {@code rsa-trad-enc.key}.
 */
public final class SignTestPki {
  public static final String PASSWORD = PkiFiles.PASSWORD;

  public final Path dir;
  private final PkiFiles files;

  public SignTestPki(Path dir) {
    this.dir = dir;
    this.files = new PkiFiles(dir, ".pem");
    files.selfSigned("root", CertSpec.ca(CertSpec.dn("/O=Sign Test/CN=Test Root"),
        keys("root")));
    for (String ca : new String[] {"int", "intB"}) {
      files.issue(ca, days(CertSpec.ca(CertSpec.dn("/O=Sign Test/CN=Test Intermediate"),
          keys(ca)), 1800), "root");
    }
    leaf("rsa", "List RSA", "list@example.org", keys("rsa"), "int",
        KeyUsage.digitalSignature | KeyUsage.keyEncipherment, KeyPurposeId.id_kp_emailProtection);
    leaf("ec", "List EC", "ec@example.org", TestKeys.ec("SignTestPki/ec", "P-256"), "int",
        KeyUsage.digitalSignature | KeyUsage.keyAgreement, KeyPurposeId.id_kp_emailProtection);
    leaf("ed25519", "List Ed25519", "ed@example.org", TestKeys.ed25519("SignTestPki/ed25519"),
        "int", KeyUsage.digitalSignature, KeyPurposeId.id_kp_emailProtection);
    leaf("viaB", "Via B", "b@example.org", keys("viaB"), "intB",
        KeyUsage.digitalSignature | KeyUsage.keyEncipherment, KeyPurposeId.id_kp_emailProtection);
    leaf("direct", "Direct", "direct@example.org", keys("direct"), "root",
        KeyUsage.digitalSignature | KeyUsage.keyEncipherment, KeyPurposeId.id_kp_emailProtection);
    // Without subjectAltName, as their openssl extension files had.
    files.issue("encOnly", days(leafSpec("Enc Only", "enc@example.org", keys("encOnly"),
        KeyUsage.keyEncipherment, KeyPurposeId.id_kp_emailProtection)
        .without(Extension.subjectAlternativeName), 365), "root");
    files.issue("server", days(leafSpec("Server", "srv@example.org", keys("server"),
        KeyUsage.digitalSignature, KeyPurposeId.id_kp_serverAuth)
        .without(Extension.subjectAlternativeName), 365), "root");

    files.bundle("rsa-chain.pem", "rsa", "int", "root");
    files.bundle("cafile.pem", "direct", "intB", "int", "root");
    files.bundle("cafileB.pem", "int", "intB", "root");
    files.encryptedKey("rsa", PkiFiles.KeyForm.PKCS8_AES256, "rsa-pkcs8-enc.key");
    files.encryptedKey("rsa", PkiFiles.KeyForm.TRADITIONAL_AES128, "rsa-trad-enc.key");
  }

  public Path path(String name) {
    return dir.resolve(name);
  }

  /** Runs openssl in {@link #dir}; fails the test with openssl's stderr when it fails. */
  public byte[] openssl(String... args) {
    return files.openssl(args);
  }

  private static KeyPair keys(String name) {
    return TestKeys.rsa("SignTestPki/" + name);
  }

  private static CertSpec days(CertSpec spec, int days) {
    return spec.validity(spec.notBefore(), Instant.now().plus(Duration.ofDays(days)));
  }

  /** An S/MIME leaf of O=Sign Test with these usages and the address as rfc822Name. */
  private static CertSpec leafSpec(String cn, String email, KeyPair keys, int keyUsage,
      KeyPurposeId purpose) {
    return CertSpec.leaf(CertSpec.dn("/O=Sign Test/CN=" + cn + "/emailAddress=" + email), keys)
        .with(Extension.keyUsage, true, new KeyUsage(keyUsage))
        .with(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
  }

  private void leaf(String name, String cn, String email, KeyPair keys, String issuer,
      int keyUsage, KeyPurposeId purpose) {
    files.issue(name, days(leafSpec(cn, email, keys, keyUsage, purpose), 365), issuer);
  }
}
