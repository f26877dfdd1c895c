package org.sympasmime.pki;

import java.math.BigInteger;
import java.security.cert.CRLReason;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.util.Comparator;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.IssuingDistributionPoint;
import org.sympasmime.Reason;

/**
 * CRL checking of a certificate path, as in OpenSSL's {@code -crl_check_all}: every certificate
 * but the trust anchor is looked up in a CRL of its issuer.
 *
 * <p>A CRL counts for a certificate when its issuer name is the certificate's issuer, its
 * signature verifies with the key of the issuer <em>on the path</em>, that issuer's keyUsage (when
 * present) allows cRLSign, it is a complete CRL (not a delta, not indirect, no reason subset, no
 * unknown critical extension), its issuingDistributionPoint (when present) covers the
 * certificate, and it is current at the validation time: thisUpdate at or before it, nextUpdate
 * absent or at or after it. Among those the most recent (latest thisUpdate) decides. Any CRL
 * that fails one of these is ignored, as if absent.
 *
 * <p>A certificate listed there is revoked, whatever the revocation date (OpenSSL's rule). A
 * certificate without such a CRL is accepted unless the policy requires one
 * ({@code revocation_unknown}); a CRL that would have counted but has expired is reported as a
 * warning, since it means the CRL refresh has stopped.
 */
public final class Revocation {
  private static final Set<String> UNDERSTOOD_CRITICAL =
      Set.of(Extension.issuingDistributionPoint.getId());

  /**
   * @param crls the CRLs to look in
   * @param required a certificate without a current CRL of its issuer fails
   *     ({@code revocation_unknown}) instead of being accepted
   */
  public record Policy(CrlSet crls, boolean required) {
    public Policy {
      Objects.requireNonNull(crls);
    }
  }

  private Revocation() {}

  /**
   * @param path leaf first, trust anchor last
   * @param warnings receives one line per certificate accepted despite an expired CRL
   */
  static Optional<ChainValidator.Failure> check(List<X509Certificate> path, Date at,
      Policy policy, List<String> warnings) {
    for (int i = 0; i + 1 < path.size(); i++) {
      X509Certificate cert = path.get(i);
      X509Certificate issuer = path.get(i + 1);
      String name = OpenSslNames.formatName(cert.getSubjectX500Principal());
      String issuerName = OpenSslNames.formatName(issuer.getSubjectX500Principal());
      List<X509CRL> usable = policy.crls().issuedBy(cert.getIssuerX500Principal()).stream()
          .filter(crl -> complete(crl) && signedBy(crl, issuer) && covers(crl, cert))
          .toList();
      Optional<X509CRL> current = usable.stream()
          .filter(crl -> !at.before(crl.getThisUpdate())
              && (crl.getNextUpdate() == null || !at.after(crl.getNextUpdate())))
          .max(Comparator.comparing(X509CRL::getThisUpdate));
      if (current.isEmpty()) {
        Optional<Date> expired = usable.stream()
            .map(X509CRL::getNextUpdate)
            .filter(next -> next != null && at.after(next))
            .max(Comparator.naturalOrder());
        String why = expired.map(next -> "the CRL of " + issuerName + " expired "
            + next.toInstant()).orElse("no current CRL of " + issuerName);
        if (policy.required()) {
          return Optional.of(new ChainValidator.Failure(Reason.REVOCATION_UNKNOWN,
              why + ": cannot tell whether " + name + " is revoked"));
        }
        expired.ifPresent(next -> warnings.add(why + "; revocation of " + name
            + " not checked"));
        continue;
      }
      Optional<X509CRLEntry> entry = listed(current.get(), cert.getSerialNumber());
      if (entry.isPresent()) {
        return Optional.of(new ChainValidator.Failure(Reason.REVOKED, name + " (serial "
            + cert.getSerialNumber().toString(16).toUpperCase(java.util.Locale.ROOT)
            + ") was revoked " + entry.get().getRevocationDate().toInstant()
            + Optional.ofNullable(entry.get().getRevocationReason())
                .map(r -> " (" + reason(r) + ")").orElse("")
            + " by the CRL of " + issuerName + " of "
            + current.get().getThisUpdate().toInstant()));
      }
    }
    return Optional.empty();
  }

  private static Optional<X509CRLEntry> listed(X509CRL crl, BigInteger serial) {
    X509CRLEntry entry = crl.getRevokedCertificate(serial);
    // removeFromCRL belongs to delta CRLs; in a full CRL it cannot mean "revoked".
    if (entry == null || entry.getRevocationReason() == CRLReason.REMOVE_FROM_CRL) {
      return Optional.empty();
    }
    return Optional.of(entry);
  }

  /** A full, direct CRL for all reasons whose critical extensions we understand. */
  private static boolean complete(X509CRL crl) {
    Set<String> critical = crl.getCriticalExtensionOIDs();
    if (critical != null && !UNDERSTOOD_CRITICAL.containsAll(critical)) {
      return false;
    }
    if (crl.getExtensionValue(Extension.deltaCRLIndicator.getId()) != null) {
      return false;
    }
    Optional<IssuingDistributionPoint> idp = idp(crl);
    if (idp.isEmpty()) {
      return crl.getExtensionValue(Extension.issuingDistributionPoint.getId()) == null;
    }
    return !idp.get().isIndirectCRL() && idp.get().getOnlySomeReasons() == null
        && !idp.get().onlyContainsAttributeCerts();
  }

  private static boolean signedBy(X509CRL crl, X509Certificate issuer) {
    boolean[] ku = issuer.getKeyUsage();
    if (ku != null && !(ku.length > 6 && ku[6])) {
      return false; // keyUsage without cRLSign
    }
    try {
      crl.verify(issuer.getPublicKey(), BcProvider.get());
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  /** The scope of a partitioned CRL (RFC 5280 5.2.5): kind of certificate, distribution point. */
  private static boolean covers(X509CRL crl, X509Certificate cert) {
    Optional<IssuingDistributionPoint> found = idp(crl);
    if (found.isEmpty()) {
      return true;
    }
    IssuingDistributionPoint idp = found.get();
    boolean ca = cert.getBasicConstraints() >= 0;
    if ((idp.onlyContainsUserCerts() && ca) || (idp.onlyContainsCACerts() && !ca)) {
      return false;
    }
    DistributionPointName dp = idp.getDistributionPoint();
    if (dp == null) {
      return true;
    }
    if (dp.getType() != DistributionPointName.FULL_NAME) {
      return false;
    }
    Set<GeneralName> names = new HashSet<>(List.of(
        GeneralNames.getInstance(dp.getName()).getNames()));
    for (DistributionPoint p : distributionPoints(cert)) {
      DistributionPointName n = p.getDistributionPoint();
      if (n != null && n.getType() == DistributionPointName.FULL_NAME) {
        for (GeneralName g : GeneralNames.getInstance(n.getName()).getNames()) {
          if (names.contains(g)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /** Empty when absent or when it does not decode; {@link #complete} tells the two apart. */
  private static Optional<IssuingDistributionPoint> idp(X509CRL crl) {
    try {
      return Extensions.decode(crl.getExtensionValue(Extension.issuingDistributionPoint.getId()))
          .map(IssuingDistributionPoint::getInstance);
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** A certificate whose distribution points do not decode matches no partition. */
  private static List<DistributionPoint> distributionPoints(X509Certificate cert) {
    try {
      return Extensions.decode(cert.getExtensionValue(Extension.cRLDistributionPoints.getId()))
          .map(v -> List.of(CRLDistPoint.getInstance(v).getDistributionPoints()))
          .orElse(List.of());
    } catch (RuntimeException e) {
      return List.of();
    }
  }

  /** RFC 5280 reason names, as OpenSSL prints them in {@code openssl crl -text}. */
  private static String reason(CRLReason r) {
    return switch (r) {
      case KEY_COMPROMISE -> "keyCompromise";
      case CA_COMPROMISE -> "cACompromise";
      case AFFILIATION_CHANGED -> "affiliationChanged";
      case SUPERSEDED -> "superseded";
      case CESSATION_OF_OPERATION -> "cessationOfOperation";
      case CERTIFICATE_HOLD -> "certificateHold";
      case PRIVILEGE_WITHDRAWN -> "privilegeWithdrawn";
      case AA_COMPROMISE -> "aACompromise";
      default -> "unspecified";
    };
  }
}
