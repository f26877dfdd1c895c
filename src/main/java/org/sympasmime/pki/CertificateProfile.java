package org.sympasmime.pki;

import java.math.BigInteger;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.x509.Certificate;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralNames;

/**
 * What one certificate must look like, whatever path it is on: the parts of RFC 5280's
 * profile that show in the certificate alone, and the critical extensions OpenSSL 3.0 handles.
 * Applied to every certificate of a path, the trust anchor's included, and to the list's own
 * certificate before it signs.
 */
final class CertificateProfile {
  /** OpenSSL 3.0's {@code X509_supported_extension}, less proxies and RFC 3779 resources. */
  static final Set<String> KNOWN_CRITICAL = Set.of(
      SmimeSigningPurpose.NETSCAPE_CERT_TYPE,
      Extension.keyUsage.getId(),
      Extension.subjectAlternativeName.getId(),
      Extension.basicConstraints.getId(),
      Extension.certificatePolicies.getId(),
      Extension.cRLDistributionPoints.getId(),
      Extension.extendedKeyUsage.getId(),
      Extension.policyConstraints.getId(),
      Extension.nameConstraints.getId(),
      Extension.policyMappings.getId(),
      Extension.inhibitAnyPolicy.getId());
  private CertificateProfile() {}

  /**
   * The first way {@code cert} breaks the certificate profile of RFC 5280 section 4 where the
   * profile says MUST and the break is visible in the certificate alone; empty when none.
   * Section 6 does not list these, and OpenSSL 3.0 checks few of them (without
   * {@code -x509_strict}), but a certificate that breaks them was not made by a conforming CA,
   * and a path through it is not one we let decide who may post: the x509-limbo suite expects
   * every one refused. Applied to every certificate of a path, the trust anchor included
   * ({@code selfSigned} for the anchor, and for a signer that is its own anchor).
   */
  static Optional<String> violation(X509Certificate cert, boolean selfSigned) {
    // 4.1.2.2: a positive integer of at most 20 octets.
    BigInteger serial = cert.getSerialNumber();
    if (serial.signum() <= 0) {
      return Optional.of("its serial number is not a positive integer");
    }
    if (serial.toByteArray().length > 20) {
      return Optional.of("its serial number is longer than 20 octets");
    }
    // 4.1.1.2: signatureAlgorithm MUST be the same as the TBSCertificate's signature field
    // (checked for the anchor too, whose self-signature nobody verifies).
    if (!signatureAlgorithmsAgree(cert)) {
      return Optional.of("its signatureAlgorithm differs from its TBSCertificate's");
    }
    if (cert.getVersion() < 3) {
      return Optional.empty();
    }
    Set<String> critical = cert.getCriticalExtensionOIDs() != null
        ? cert.getCriticalExtensionOIDs() : Set.of();
    boolean ca = cert.getBasicConstraints() >= 0;
    boolean[] ku = cert.getKeyUsage();
    // 4.2.1.3 and 4.2.1.9: keyCertSign only with cA.
    if (ku != null && ku.length > 5 && ku[5] && !ca) {
      return Optional.of("its keyUsage has keyCertSign without basicConstraints cA");
    }
    boolean emptySubject = cert.getSubjectX500Principal().getEncoded().length <= 2;
    // Not required here, although 4.2.1.9 and 4.2.1.10 say MUST: a critical basicConstraints
    // in CAs (the NSS test CA of the Thunderbird corpus, a root in use, marks it
    // non-critical) and a critical nameConstraints (the S/MIME Baseline Requirements 7.1.2.2(f)
    // allow it non-critical). Both are honoured whatever their flag, so refusing them would refuse
    // real CAs and protect nothing (LimboReplayTest.KNOWN).
    // 4.1.2.6: a CA's subject is a non-empty name.
    if (ca && emptySubject) {
      return Optional.of("it is a CA with an empty subject");
    }
    // Not required either, although 4.2.1.1 and 4.2.1.2 say MUST: key identifiers in CA
    // certificates. They only help find issuers, which the path search does by name and
    // signature without them; OpenSSL does not ask for them, and CAs made without them are in
    // use (Bouncy Castle's certificate builder adds none by default; the NSS test CA of the
    // Thunderbird corpus has none): refusing them would refuse those sites' every signature
    // and protect nothing (LimboReplayTest.KNOWN).
    // 4.1.2.6 and 4.2.1.6: an empty subject needs a critical subjectAltName.
    if (emptySubject && !critical.contains(Extension.subjectAlternativeName.getId())) {
      return Optional.of("its subject is empty and its subjectAltName is not critical");
    }
    // 4.2.1.10: nameConstraints only in a CA certificate.
    if (cert.getExtensionValue(Extension.nameConstraints.getId()) != null && !ca) {
      return Optional.of("it has nameConstraints but is not a CA");
    }
    // 4.2.1.11: policyConstraints critical.
    if (cert.getExtensionValue(Extension.policyConstraints.getId()) != null
        && !critical.contains(Extension.policyConstraints.getId())) {
      return Optional.of("its policyConstraints is not critical");
    }
    // 4.2.1.6: a subjectAltName that does not decode (Bouncy Castle's validator decodes it
    // below the anchor; nothing else would on the anchor).
    try {
      Extensions.decodeStrict(cert.getExtensionValue(Extension.subjectAlternativeName.getId()))
          .map(GeneralNames::getInstance);
    } catch (RuntimeException e) {
      return Optional.of("its subjectAltName does not decode");
    }
    return Optional.empty();
  }

  private static boolean signatureAlgorithmsAgree(X509Certificate cert) {
    try {
      Certificate c = Certificate.getInstance(cert.getEncoded());
      return c.getSignatureAlgorithm().equals(c.getTBSCertificate().getSignature());
    } catch (CertificateEncodingException | RuntimeException e) {
      return false;
    }
  }

  /** The first critical extension OpenSSL would not handle, by OID. */
  static Optional<String> unknownCriticalExtension(X509Certificate cert) {
    Set<String> critical = cert.getCriticalExtensionOIDs();
    if (critical == null) {
      return Optional.empty();
    }
    return critical.stream().filter(oid -> !KNOWN_CRITICAL.contains(oid)).sorted().findFirst();
  }
}
