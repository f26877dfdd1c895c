package org.sympasmime.smime;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.AlgorithmPolicy;
import org.sympasmime.pki.ChainValidator;
import org.sympasmime.pki.Issuance;

/**
 * Refuses a signer certificate whose signatures every verifier would reject: outside its
 * validity dates, or refused by the rules {@code smime.verify} applies to every signer
 * ({@link ChainValidator#certificateFailure}: RFC 5280's profile, critical extensions, the
 * S/MIME usage rule, the algorithm policy). Crypt::SMIME signs regardless; docs/decisions.md
 * says why we do not.
 */
final class SignerPolicy {
  private SignerPolicy() {}

  static void check(X509Certificate signer, Instant now, Path certFile, AlgorithmPolicy policy,
      List<String> warnings) throws SmimeException {
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
    Optional<ChainValidator.Failure> refused = ChainValidator.certificateFailure(signer, true,
        Issuance.selfSigned(signer), policy, warnings);
    if (refused.isPresent()) {
      throw new SmimeException(refused.get().reason(), "the signer certificate " + who + ": "
          + refused.get().detail());
    }
    Duration left = Duration.between(now, notAfter);
    if (left.compareTo(Sign.EXPIRY_WARNING) < 0) {
      warnings.add("the signer certificate " + who + " expires on " + notAfter + " (in "
          + left.toDays() + " days)");
    }
  }
}
