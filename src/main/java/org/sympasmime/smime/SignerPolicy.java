package org.sympasmime.smime;

import java.nio.file.Path;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/**
 * Refuses a signer certificate whose signatures every verifier would reject: outside its
 * validity dates, or whose key usage / extended key usage forbids S/MIME signing (the checks of
 * OpenSSL's {@code smimesign} purpose). Crypt::SMIME signs regardless; docs/decisions.md says why
 * we do not.
 */
final class SignerPolicy {
  private static final String EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4";
  private static final int DIGITAL_SIGNATURE = 0;
  private static final int NON_REPUDIATION = 1;

  private SignerPolicy() {}

  static void check(X509Certificate signer, Instant now, Path certFile, List<String> warnings)
      throws SmimeException {
    String who = X500Name.getInstance(signer.getSubjectX500Principal().getEncoded()) + " ("
        + certFile + ")";
    Instant notAfter = signer.getNotAfter().toInstant();
    Instant notBefore = signer.getNotBefore().toInstant();
    if (now.isAfter(notAfter)) {
      throw new SmimeException(Reason.EXPIRED,
          "the signer certificate " + who + " expired on " + notAfter);
    }
    if (now.isBefore(notBefore)) {
      throw new SmimeException(Reason.NOT_YET_VALID,
          "the signer certificate " + who + " is not valid before " + notBefore);
    }
    boolean[] ku = signer.getKeyUsage();
    if (ku != null && !bit(ku, DIGITAL_SIGNATURE) && !bit(ku, NON_REPUDIATION)) {
      throw new SmimeException(Reason.WRONG_USAGE, "the keyUsage of the signer certificate "
          + who + " allows neither digitalSignature nor nonRepudiation");
    }
    List<String> eku;
    try {
      eku = signer.getExtendedKeyUsage();
    } catch (CertificateParsingException e) {
      throw new SmimeException(Reason.BAD_CERTIFICATE,
          "the extendedKeyUsage of the signer certificate " + who + " cannot be parsed");
    }
    if (eku != null && !eku.contains(EMAIL_PROTECTION)) {
      throw new SmimeException(Reason.WRONG_USAGE, "the extendedKeyUsage of the signer certificate "
          + who + " does not include emailProtection");
    }
    Duration left = Duration.between(now, notAfter);
    if (left.compareTo(Sign.EXPIRY_WARNING) < 0) {
      warnings.add("the signer certificate " + who + " expires on " + notAfter + " (in "
          + left.toDays() + " days)");
    }
  }

  private static boolean bit(boolean[] bits, int i) {
    return i < bits.length && bits[i];
  }
}
