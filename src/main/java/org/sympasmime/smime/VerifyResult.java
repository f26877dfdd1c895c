package org.sympasmime.smime;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import org.sympasmime.Reason;

/**
 * The answer to a signature check. A bad signature is a result, not an exception.
 *
 * @param signed the message carries an S/MIME signature
 * @param valid every signature, chain, date and usage checks out
 * @param failure why it is not valid; empty exactly when {@code valid}
 * @param detail one human-readable line
 * @param format {@code multipart/signed} or {@code signed-data}; empty when not signed
 * @param signers signer certificates, in SignerInfo order (those found)
 * @param certificates every certificate the message carries, in its order
 * @param content the signed entity; empty when not signed
 */
public record VerifyResult(boolean signed, boolean valid, Optional<Reason> failure,
    String detail, Optional<String> format, List<X509Certificate> signers,
    List<X509Certificate> certificates, Optional<byte[]> content) {

  public VerifyResult {
    signers = List.copyOf(signers);
    certificates = List.copyOf(certificates);
    if (valid == failure.isPresent()) {
      throw new IllegalArgumentException("valid iff no failure");
    }
  }

  static VerifyResult notSmime(String why) {
    return new VerifyResult(false, false, Optional.of(Reason.NOT_SMIME), why, Optional.empty(),
        List.of(), List.of(), Optional.empty());
  }
}
