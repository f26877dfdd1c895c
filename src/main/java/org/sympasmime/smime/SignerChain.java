package org.sympasmime.smime;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.sympasmime.pki.Issuance;

/**
 * The intermediates that chain a signer certificate towards its root, taken from a pool of
 * certificates (the rest of the list's cert.pem, then the cafile). An issuer is what
 * {@link Issuance#issued} says, the rule the verifier's path search uses too. The
 * self-signed root is never included: verifiers must have it already, and
 * carrying it would only invite them to trust it.
 */
final class SignerChain {
  /** Deeper than any real S/MIME hierarchy; bounds the work on a hostile bundle. */
  private static final int MAX_DEPTH = 8;

  private SignerChain() {}

  static List<X509Certificate> intermediates(X509Certificate signer, List<X509Certificate> pool,
      Instant now) {
    List<X509Certificate> chain = new ArrayList<>();
    List<X509Certificate> used = new ArrayList<>(List.of(signer));
    X509Certificate current = signer;
    while (chain.size() < MAX_DEPTH && !Issuance.selfSigned(current)) {
      Optional<X509Certificate> issuer = issuerOf(current, pool, used, now);
      if (issuer.isEmpty() || Issuance.selfSigned(issuer.get())) {
        break;
      }
      chain.add(issuer.get());
      used.add(issuer.get());
      current = issuer.get();
    }
    return chain;
  }

  /** Among the candidates that signed {@code cert}, one valid now if any, else the first. */
  private static Optional<X509Certificate> issuerOf(X509Certificate cert,
      List<X509Certificate> pool, List<X509Certificate> used, Instant now) {
    return pool.stream()
        .filter(c -> !used.contains(c)) // Certificate.equals compares the encoding
        .filter(c -> Issuance.issued(c, cert))
        .min(Comparator.comparing((X509Certificate c) -> validAt(c, now) ? 0 : 1));
  }

  private static boolean validAt(X509Certificate cert, Instant now) {
    try {
      cert.checkValidity(Date.from(now));
      return true;
    } catch (Exception e) {
      return false;
    }
  }
}
