package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.bouncycastle.asn1.misc.MiscObjectIdentifiers;
import org.bouncycastle.asn1.misc.NetscapeCertType;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.testutil.CertSpec;
import org.sympasmime.testutil.PkiFiles;
import org.sympasmime.testutil.TestKeys;

/**
 * Sign and verify apply one usage rule and one algorithm policy: for every signer certificate
 * shape, the list signs with it exactly when a message signed with it (by us, or by OpenSSL
 * for the shapes we refuse) verifies. Before the rule was shared, nsCertType=server signed but
 * did not verify, and anyExtendedKeyUsage verified but did not sign.
 */
class SignVerifyAgreementTest {
  private static final List<String> KEY_USAGES = List.of("", "digitalSignature",
      "nonRepudiation", "keyEncipherment", "digitalSignature,keyEncipherment");
  private static final List<String> EXTENDED_KEY_USAGES = List.of("", "emailProtection",
      "serverAuth", "clientAuth", "anyExtendedKeyUsage", "anyExtendedKeyUsage,emailProtection");
  private static final List<String> NS_CERT_TYPES = List.of("", "server", "client", "email",
      "objsign", "server,email");
  private static final Map<String, Integer> BITS = Map.of(
      "digitalSignature", KeyUsage.digitalSignature, "nonRepudiation", KeyUsage.nonRepudiation,
      "keyEncipherment", KeyUsage.keyEncipherment, "server", NetscapeCertType.sslServer,
      "client", NetscapeCertType.sslClient, "email", NetscapeCertType.smime,
      "objsign", NetscapeCertType.objectSigning);
  private static final Map<String, KeyPurposeId> PURPOSES = Map.of(
      "emailProtection", KeyPurposeId.id_kp_emailProtection,
      "serverAuth", KeyPurposeId.id_kp_serverAuth, "clientAuth", KeyPurposeId.id_kp_clientAuth,
      "anyExtendedKeyUsage", KeyPurposeId.anyExtendedKeyUsage);
  /** name, key, algorithm the root signs the certificate with. */
  private record Key(String name, Supplier<KeyPair> keys, String issuerAlgorithm) {}

  private static final List<Key> KEYS = List.of(
      new Key("rsa2048", () -> TestKeys.rsa("Agreement/rsa2048"), "SHA256withRSA"),
      new Key("rsa1024", () -> TestKeys.rsa("Agreement/rsa1024", 1024), "SHA256withRSA"),
      new Key("rsa512", () -> TestKeys.rsa("Agreement/rsa512", 512), "SHA256withRSA"),
      new Key("p256", () -> TestKeys.ec("Agreement/p256", "P-256"), "SHA256withRSA"),
      new Key("p192", () -> TestKeys.ec("Agreement/p192", "P-192"), "SHA256withRSA"),
      new Key("ed25519", () -> TestKeys.ed25519("Agreement/ed25519"), "SHA256withRSA"),
      new Key("md5cert", () -> TestKeys.rsa("Agreement/md5cert"), "MD5withRSA"),
      new Key("sha1cert", () -> TestKeys.rsa("Agreement/sha1cert"), "SHA1withRSA"));
  private static final byte[] ENTITY =
      "Content-Type: text/plain\r\n\r\nAgreement.\r\n".getBytes(StandardCharsets.US_ASCII);

  @TempDir static Path dir;
  static PkiFiles pki;
  static Verify verify;

  @BeforeAll
  static void root() throws Exception {
    pki = new PkiFiles(dir, ".pem");
    CertSpec root = CertSpec.ca(CertSpec.dn("/CN=Agreement Root"),
        TestKeys.rsa("Agreement/root"));
    pki.selfSigned("root",
        root.validity(root.notBefore(), Instant.now().plus(Duration.ofDays(30))));
    verify = new Verify(new TrustStores());
  }

  @Test
  void whateverSignAcceptsVerifyAcceptsAndNothingElse() throws Exception {
    List<String> disagreements = new ArrayList<>();
    int signed = 0;
    int shapes = 0;
    for (Key key : KEYS) {
      String name = key.name();
      KeyPair keys = key.keys().get();
      pki.writeKey(name, keys);
      // The usage matrix on the default RSA key; one usual usage on every other key.
      boolean matrix = name.equals("rsa2048");
      for (String ku : matrix ? KEY_USAGES : List.of("digitalSignature")) {
        for (String eku : matrix ? EXTENDED_KEY_USAGES : List.of("emailProtection")) {
          for (String ns : matrix ? NS_CERT_TYPES : List.of("")) {
            String shape = name + " ku=" + ku + " eku=" + eku + " ns=" + ns;
            String cert = "c" + (shapes++);
            CertSpec spec = CertSpec.bare(CertSpec.dn("/CN=" + name + "/emailAddress=" + name
                + "@example.org"), keys).signedWith(key.issuerAlgorithm())
                .with(Extension.basicConstraints, false, new BasicConstraints(false));
            spec = spec.validity(spec.notBefore(), Instant.now().plus(Duration.ofDays(10)));
            if (!ku.isEmpty()) {
              spec = spec.with(Extension.keyUsage, false, new KeyUsage(bits(ku)));
            }
            if (!eku.isEmpty()) {
              spec = spec.with(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                  Stream.of(eku.split(",")).map(PURPOSES::get).toArray(KeyPurposeId[]::new)));
            }
            if (!ns.isEmpty()) {
              spec = spec.with(MiscObjectIdentifiers.netscapeCertType, false,
                  new NetscapeCertType(bits(ns)));
            }
            pki.writeCert(cert, spec.issuedBy(pki.get("root")));
            Optional<byte[]> ours = signWithUs(cert + ".pem", name + ".key");
            byte[] message = ours.isPresent() ? ours.get() : signWithOpenssl(cert, name);
            Verify.Result r = verify.verify(new Verify.Request(message,
                Optional.of(dir.resolve("root.pem")), Optional.empty(), Optional.empty()));
            if (ours.isPresent()) {
              signed++;
            }
            if (ours.isPresent() != r.valid()) {
              disagreements.add(shape + ": sign " + (ours.isPresent() ? "accepts" : "refuses")
                  + ", verify says " + r.failure().map(f -> f.id()).orElse("ok") + " ("
                  + r.detail() + ")");
            }
          }
        }
      }
    }
    assertEquals(List.of(), disagreements);
    // The matrix holds both kinds, or it proves nothing.
    assertTrue(signed > 10 && signed < shapes - 10, signed + " of " + shapes + " signed");
  }

  /** keyUsage or nsCertType bits written as openssl's extension files write them. */
  private static int bits(String names) {
    return Stream.of(names.split(",")).mapToInt(BITS::get).reduce(0, (x, y) -> x | y);
  }

  private static Optional<byte[]> signWithUs(String cert, String key) throws Exception {
    try {
      return Optional.of(new Sign(new KeyMaterial()).sign(new Sign.Request(ENTITY,
          dir.resolve(cert), dir.resolve(key), Optional.empty(), Optional.empty(), false))
          .message());
    } catch (SmimeException e) {
      return Optional.empty();
    }
  }

  private static byte[] signWithOpenssl(String cert, String key) throws Exception {
    Files.write(dir.resolve("entity"), ENTITY);
    openssl("cms", "-sign", "-binary", "-signer", cert + ".pem", "-inkey", key + ".key",
        "-in", "entity", "-out", cert + ".eml");
    return Files.readAllBytes(dir.resolve(cert + ".eml"));
  }

  private static void openssl(String... args) {
    pki.openssl(args);
  }
}
