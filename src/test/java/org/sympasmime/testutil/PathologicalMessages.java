package org.sympasmime.testutil;

import java.security.KeyPair;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERUTCTime;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Certificate;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * Messages made to cost a verifier as much as possible while staying under 1 MB: certificate
 * lattices that multiply the paths a searcher may try, thousands of same-named certificates,
 * a thousand SignerInfos. Each comes with the cafile it is verified against.
 */
public final class PathologicalMessages {
  /**
   * One message to verify.
   *
   * @param name for reports
   * @param message a multipart/signed message
   * @param cafile the PEM trust anchors to verify it against
   * @param mayBeValid false when no correct verifier may call it valid
   */
  public record Case(String name, byte[] message, String cafile, boolean mayBeValid) {}

  /** How the top of a lattice relates to the trusted root. */
  public enum Top {
    /**
     * The top level names the root as issuer but was signed by another key: no path reaches
     * the root, and a searcher that backtracks tries every path before saying so.
     */
    UNREACHABLE,
    /**
     * The top level is certified by the root, but every certificate of it excludes the leaf's
     * address by name constraints: every path fails, and only once it is complete.
     */
    REACHABLE_FAILING
  }

  private static final String LEAF_ADDRESS = "victim@example.org";

  private PathologicalMessages() {}

  /**
   * A leaf under {@code depth} levels of {@code width} CA certificates each. The certificates
   * of a level share one subject name and one key, so each of them certifies every
   * certificate of the level below: width<sup>depth</sup> paths from the leaf to the top.
   */
  public static Case lattice(int width, int depth, Top top) {
    CertSpec rootSpec = CertSpec.ca("Lattice Root", TestKeys.ec("lattice-root", "P-256"));
    TestCert root = rootSpec.selfSigned();
    List<List<TestCert>> levels = new ArrayList<>();
    // From the top (level depth) down to level 1, which issues the leaf.
    List<TestCert> above = List.of(root);
    for (int level = depth; level >= 1; level--) {
      KeyPair key = TestKeys.ec("lattice-" + level, "P-256");
      CertSpec spec = CertSpec.ca("Lattice level " + level, key);
      if (level == depth && top == Top.REACHABLE_FAILING) {
        spec = spec.with(Extension.nameConstraints, true, new NameConstraints(null,
            new GeneralSubtree[] {new GeneralSubtree(
                new GeneralName(GeneralName.rfc822Name, LEAF_ADDRESS))}));
      }
      List<TestCert> certs = new ArrayList<>();
      for (int i = 0; i < width; i++) {
        // Distinct validity starts make each certificate of a level a distinct one.
        CertSpec one = spec.validity(Instant.now().minus(i + 1, ChronoUnit.HOURS),
            Instant.now().plus(3650, ChronoUnit.DAYS));
        if (level == depth && top == Top.UNREACHABLE) {
          certs.add(one.issue(root.subject(),
              TestKeys.ec("lattice-decoy", "P-256").getPrivate(), root.keys().getPublic()));
        } else {
          certs.add(one.issuedBy(above.get(0)));
        }
      }
      levels.add(certs);
      above = certs;
    }
    TestCert leaf = CertSpec.leaf("Victim", LEAF_ADDRESS, TestKeys.ec("lattice-leaf", "P-256"))
        .issuedBy(above.get(0));
    List<X509CertificateHolder> carried = new ArrayList<>();
    levels.forEach(l -> l.forEach(c -> carried.add(c.holder())));
    return new Case(String.format("lattice %dx%d, root %s", width, depth,
        top.name().toLowerCase().replace('_', ' ')),
        SignedMessages.multipartSigned(leaf, carried), root.pem(), false);
  }

  /**
   * A leaf issued under the name {@code CN=P} and {@code count} small v1 certificates, all
   * named {@code CN=P} by {@code CN=P} and holding the key that did sign the leaf, but each
   * with a signature that is not one. Every one of them verifies the leaf; none verifies any
   * other, so a searcher that tries issuers pairwise does count² signature checks.
   */
  public static Case sameNamedCertificates(int count) {
    KeyPair key = TestKeys.ed25519("same-named");
    X500Name p = CertSpec.name(null, "P", null);
    TestCert root = CertSpec.ca("Unrelated Root", TestKeys.ed25519("unrelated-root"))
        .selfSigned();
    TestCert leaf = CertSpec.leaf("Victim", LEAF_ADDRESS, TestKeys.ed25519("many-leaf"))
        .issue(p, key.getPrivate(), key.getPublic());
    List<X509CertificateHolder> carried = new ArrayList<>();
    AlgorithmIdentifier ed25519 = new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519);
    SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(key.getPublic().getEncoded());
    Date now = new Date();
    DERSequence validity = new DERSequence(new DERUTCTime[] {
        new DERUTCTime(new Date(now.getTime() - 86_400_000L)),
        new DERUTCTime(new Date(now.getTime() + 86_400_000L * 365))});
    for (int i = 0; i < count; i++) {
      // As small as a certificate gets, so that 5,000 fit in 1 MB of base64.
      ASN1EncodableVector tbs = new ASN1EncodableVector();
      tbs.add(new ASN1Integer(i + 1));
      tbs.add(ed25519);
      tbs.add(p);
      tbs.add(validity);
      tbs.add(p);
      tbs.add(spki);
      ASN1EncodableVector cert = new ASN1EncodableVector();
      cert.add(new DERSequence(tbs));
      cert.add(ed25519);
      cert.add(new DERBitString(new byte[] {0, 0}));
      carried.add(new X509CertificateHolder(Certificate.getInstance(new DERSequence(cert))));
    }
    return new Case(count + " same-named certificates",
        SignedMessages.multipartSigned(leaf, carried), root.pem(), false);
  }

  /**
   * {@code count} SignerInfos, each a valid ECDSA signature of the same signer, whose path is
   * valid: a verifier may call it valid, but must not spend a second on it.
   */
  public static Case manySignerInfos(int count) {
    TestCert root = CertSpec.ca("Signers Root", TestKeys.ec("signers-root", "P-256"))
        .selfSigned();
    TestCert leaf = CertSpec.leaf("Signer", "signer@example.org",
        TestKeys.ec("signers-leaf", "P-256")).issuedBy(root);
    return new Case(count + " SignerInfos", SignedMessages.multipartSigned(leaf, List.of(),
        "SHA256withECDSA", count), root.pem(), true);
  }
}
