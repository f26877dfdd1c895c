package org.sympasmime.pki;

import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;

/**
 * Who issued a certificate: the one rule shared by the verifier's path search and by the
 * signer's choice of intermediates to carry, so that the list carries the chain its own
 * verifier would build.
 */
public final class Issuance {
  private Issuance() {}

  /**
   * {@code issuer} issued {@code cert}: names chain, key identifiers (when both are present)
   * agree, and the signature verifies. Same-DN certificates (re-keyed or cross-signed
   * intermediates) are told apart by their keys.
   */
  public static boolean issued(X509Certificate issuer, X509Certificate cert) {
    return cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())
        && keyIdentifiersAgree(issuer, cert) && signatureVerifies(cert, issuer);
  }

  /** Same subject and issuer names, and no key identifier says otherwise. */
  public static boolean selfIssued(X509Certificate c) {
    return c.getSubjectX500Principal().equals(c.getIssuerX500Principal())
        && keyIdentifiersAgree(c, c);
  }

  /**
   * RFC 5280's "self-issued" (section 3.2, used in 6.1.3 (b)-(c) and 6.1.4 (l)): the subject
   * and issuer names match, whatever the keys. This is what exempts a CA certificate below the
   * anchor from name constraints and from counting against pathLenConstraint (a CA's re-key or
   * rollover certificate, issued by its old key under its own name); OpenSSL's EXFLAG_SI is the
   * same test. {@link #selfIssued} also asks the key identifiers, because the path search uses
   * it to decide where a path can end; using that one here made a rollover certificate whose
   * AKI names the old key count as an ordinary CA (x509-limbo
   * rfc5280::nc::permitted-self-issued).
   */
  public static boolean selfIssuedByName(X509Certificate c) {
    return c.getSubjectX500Principal().equals(c.getIssuerX500Principal());
  }

  /** Self-issued, and its own key verifies its signature: a root. */
  public static boolean selfSigned(X509Certificate c) {
    return selfIssued(c) && signatureVerifies(c, c);
  }

  /** The cheap half of {@link #issued}: what decides before any signature is checked. */
  static boolean keyIdentifiersAgree(X509Certificate issuer, X509Certificate cert) {
    Optional<byte[]> aki = authorityKeyId(cert);
    Optional<byte[]> ski = subjectKeyId(issuer);
    return aki.isEmpty() || ski.isEmpty() || Arrays.equals(aki.get(), ski.get());
  }

  /**
   * The costly half of {@link #issued}; never attempted with a key beyond the algorithm
   * policy's work limits.
   */
  static boolean signatureVerifies(X509Certificate cert, X509Certificate issuer) {
    try {
      PublicKey key = issuer.getPublicKey();
      if (AlgorithmPolicy.workLimitRefusal(key).isPresent()) {
        return false;
      }
      cert.verify(key, BcProvider.get());
      return true;
    } catch (Exception e) {
      // Any failure (wrong key, unknown algorithm, a key that does not decode) means "not
      // the issuer".
      return false;
    }
  }

  private static Optional<byte[]> subjectKeyId(X509Certificate c) {
    return Extensions.decode(c.getExtensionValue(Extension.subjectKeyIdentifier.getId()))
        .map(v -> ASN1OctetString.getInstance(v).getOctets());
  }

  private static Optional<byte[]> authorityKeyId(X509Certificate c) {
    return Extensions.decode(c.getExtensionValue(Extension.authorityKeyIdentifier.getId()))
        .map(v -> AuthorityKeyIdentifier.getInstance(v).getKeyIdentifier())
        .filter(id -> id != null);
  }
}
