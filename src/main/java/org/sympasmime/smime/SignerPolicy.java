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
import org.sympasmime.pki.SmimeSigningPurpose;

/**
 * Refuses a signer certificate whose signatures every verifier would reject: outside its
 * validity dates, not conforming to RFC 5280's profile where {@code smime.verify} holds it to
 * it ({@link ChainValidator#nonconforming}), not allowed to sign mail by the one usage rule that {@code smime.verify}
 * applies too ({@link SmimeSigningPurpose}), or with a key or signature the algorithm policy
 * refuses. Crypt::SMIME signs regardless; docs/decisions.md says why we do not.
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
    Optional<ChainValidator.Failure> nonconforming = ChainValidator.nonconforming(signer);
    if (nonconforming.isPresent()) {
      throw new SmimeException(nonconforming.get().reason(), "the signer certificate " + who
          + ": " + nonconforming.get().detail());
    }
    Optional<ChainValidator.Failure> usage = SmimeSigningPurpose.ofSigner(signer);
    if (usage.isPresent()) {
      throw new SmimeException(usage.get().reason(), "the signer certificate " + who + ": "
          + usage.get().detail());
    }
    Optional<String> refused = policy.refusal(signer, warnings);
    if (refused.isPresent()) {
      throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM, refused.get() + " (" + certFile
          + ")");
    }
    Duration left = Duration.between(now, notAfter);
    if (left.compareTo(Sign.EXPIRY_WARNING) < 0) {
      warnings.add("the signer certificate " + who + " expires on " + notAfter + " (in "
          + left.toDays() + " days)");
    }
  }
}
