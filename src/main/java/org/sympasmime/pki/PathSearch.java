package org.sympasmime.pki;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import javax.security.auth.x500.X500Principal;

/**
 * Finds certification paths from a signer to a self-signed certificate of the trust store,
 * through the certificates a message carries, within a fixed budget of work. One instance per
 * request; not thread-safe.
 *
 * <p>Anyone can send a message, and a message can carry certificates arranged so that the
 * number of paths grows exponentially (levels of certificates sharing one subject name and one
 * key, each "issued" by every certificate of the level above). Three things keep the work
 * bounded whatever the input: every signature check and every candidate issuer counts against
 * the budget whether or not a path completes; whether a certificate signed another is decided
 * once per request; and a certificate from which the search found no path, without being cut
 * short, is not searched again.
 */
final class PathSearch {
  /**
   * @param maxDepth certificates in a path, signer and anchor included
   * @param maxSignatureChecks "did this certificate sign that one" checks, in units of a check
   *     with an RSA-2048 key ({@link AlgorithmPolicy#verificationCost})
   * @param maxCandidates issuer candidates considered
   */
  record Budget(int maxDepth, int maxSignatureChecks, int maxCandidates) {
    /**
     * Far above any real S/MIME hierarchy (3 or 4 certificates, a few cross-signatures),
     * and about 50 ms of signature checks with RSA-2048.
     */
    static final Budget DEFAULT = new Budget(16, 256, 4096);
  }

  private enum Outcome {
    STOPPED, FOUND, NONE, CUT_SHORT
  }

  private record Edge(X509Certificate issuer, X509Certificate subject) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Edge e && e.issuer == issuer && e.subject == subject;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(issuer) * 31 + System.identityHashCode(subject);
    }
  }

  private final TrustStore store;
  private final Map<X500Principal, List<X509Certificate>> carried;
  private final Budget budget;
  private final Map<Edge, Boolean> issued = new HashMap<>();
  private final Set<X509Certificate> deadEnds = Collections.newSetFromMap(new IdentityHashMap<>());
  private int signatureChecks;
  private int candidates;
  private boolean exhausted;

  PathSearch(List<X509Certificate> untrusted, TrustStore store, Budget budget) {
    this.store = store;
    this.budget = budget;
    Map<X500Principal, List<X509Certificate>> index = new LinkedHashMap<>();
    Set<java.nio.ByteBuffer> seen = new java.util.HashSet<>();
    for (X509Certificate c : untrusted) {
      // A carried copy of a store certificate adds nothing but a second, untrusted, identity.
      if (!store.contains(c) && seen.add(TrustStore.key(c))) {
        index.computeIfAbsent(c.getSubjectX500Principal(), k -> new ArrayList<>()).add(c);
      }
    }
    this.carried = index;
  }

  /**
   * Offers each path found, signer first and anchor last, to {@code consumer} until it
   * returns true.
   *
   * @return true when the consumer stopped the search
   */
  boolean search(X509Certificate leaf, Predicate<List<X509Certificate>> consumer) {
    List<X509Certificate> path = new ArrayList<>();
    path.add(leaf);
    return dfs(path, consumer) == Outcome.STOPPED;
  }

  /** The search stopped for lack of budget before it had seen every path. */
  boolean exhausted() {
    return exhausted;
  }

  String effort() {
    return signatureChecks + " signature checks over " + candidates + " candidate issuers";
  }

  private Outcome dfs(List<X509Certificate> path, Predicate<List<X509Certificate>> consumer) {
    X509Certificate last = path.get(path.size() - 1);
    if (Issuance.selfIssued(last)) {
      if (store.contains(last)) {
        return consumer.test(List.copyOf(path)) ? Outcome.STOPPED : Outcome.FOUND;
      }
      return Outcome.NONE; // a self-signed certificate outside the store ends an untrusted path
    }
    if (path.size() >= budget.maxDepth()) {
      return Outcome.CUT_SHORT;
    }
    boolean found = false;
    boolean cutShort = false;
    // The store first, as OpenSSL prefers trusted issuers.
    List<X509Certificate> issuers = new ArrayList<>(store.withSubject(
        last.getIssuerX500Principal()));
    issuers.addAll(carried.getOrDefault(last.getIssuerX500Principal(), List.of()));
    for (X509Certificate issuer : issuers) {
      if (++candidates > budget.maxCandidates()) {
        exhausted = true;
        return Outcome.CUT_SHORT;
      }
      if (deadEnds.contains(issuer)) {
        continue;
      }
      if (containsIdentical(path, issuer)) {
        cutShort = true;
        continue;
      }
      Optional<Boolean> signed = issued(issuer, last);
      if (signed.isEmpty()) {
        exhausted = true;
        return Outcome.CUT_SHORT;
      }
      if (!signed.get()) {
        continue;
      }
      path.add(issuer);
      Outcome below = dfs(path, consumer);
      path.remove(path.size() - 1);
      switch (below) {
        case STOPPED:
          return below;
        case FOUND:
          found = true;
          break;
        case CUT_SHORT:
          cutShort = true;
          if (exhausted) {
            return found ? Outcome.FOUND : Outcome.CUT_SHORT;
          }
          break;
        default:
          break;
      }
    }
    if (found) {
      return Outcome.FOUND;
    }
    if (cutShort) {
      return Outcome.CUT_SHORT;
    }
    deadEnds.add(last);
    return Outcome.NONE;
  }

  private static boolean containsIdentical(List<X509Certificate> path, X509Certificate c) {
    for (X509Certificate p : path) {
      if (p == c) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code issuer} signed {@code subject}: names chain, key identifiers (when both are
   * present) agree, and the signature verifies. Empty when the budget is spent.
   */
  private Optional<Boolean> issued(X509Certificate issuer, X509Certificate subject) {
    Edge edge = new Edge(issuer, subject);
    Boolean known = issued.get(edge);
    if (known != null) {
      return Optional.of(known);
    }
    boolean result = false;
    if (Issuance.keyIdentifiersAgree(issuer, subject)) {
      signatureChecks += AlgorithmPolicy.verificationCost(issuer.getPublicKey());
      if (signatureChecks > budget.maxSignatureChecks()) {
        return Optional.empty();
      }
      result = Issuance.signatureVerifies(subject, issuer);
    }
    issued.put(edge, result);
    return Optional.of(result);
  }
}
