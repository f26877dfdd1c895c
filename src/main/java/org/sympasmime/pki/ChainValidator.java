package org.sympasmime.pki;

import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.sympasmime.Reason;

/**
 * Certificate path validation for an S/MIME signer: RFC 5280 by Bouncy Castle's PKIX
 * validator, on paths found by a bounded {@link PathSearch}, with the S/MIME rules and
 * OpenSSL's extra checks of the trust anchor in {@link SmimePathChecker}. docs/decisions.md
 * says why this is not a hand-written validator any more.
 *
 * <ol>
 *   <li>paths are searched from the signer through the message's certificates and the store's
 *       to a self-signed certificate of the store, the store's first ({@code untrusted_chain}
 *       when there is none, or when the search runs out of budget);
 *   <li>the trust anchor's own certificate is checked as OpenSSL checks it: dates, CA-ness,
 *       keyUsage, extendedKeyUsage, critical extensions, algorithms;
 *   <li>each path is validated to RFC 5280 section 6.1 (signatures, dates, basicConstraints,
 *       pathLenConstraint, keyCertSign, name constraints, policies, unknown critical
 *       extensions) with the S/MIME usage rule and the {@link AlgorithmPolicy} applied to every
 *       certificate ({@code untrusted_chain}, {@code expired}, {@code not_yet_valid},
 *       {@code wrong_usage}, {@code unsupported_algorithm});
 *   <li>with a revocation policy, every certificate but the anchor must not be listed in a
 *       current CRL of its issuer ({@code revoked}, {@code revocation_unknown}: see
 *       {@link Revocation}).
 * </ol>
 *
 * When several paths exist, one that passes wins; otherwise the first path's failure is
 * reported. At most {@link #MAX_PATHS} paths are validated.
 */
public final class ChainValidator {
  static final int MAX_PATHS = 8;

  /** Why a path does not validate. */
  public record Failure(Reason reason, String detail) {}

  /**
   * What a certificate is judged for, which decides its usage rule: a signer of mail (what
   * {@code smime.verify} validates), a recipient of encrypted mail (an encryption-only
   * certificate that {@code x509.check} validates: its path is the signer's, only the leaf's
   * signing usage is not asked of it), or an issuer.
   */
  public enum Role { SIGNER, RECIPIENT, ISSUER }

  private final PathSearch search;
  private final Date at;
  private final Optional<Revocation.Policy> revocation;
  private final AlgorithmPolicy policy;
  private final Role leaf;

  /**
   * A validator for the signers of one message: they share one path search, so its budget
   * and what it learned (who issued whom, dead ends) hold for the whole message, however many
   * SignerInfos it has.
   *
   * @param untrusted certificates that may serve as intermediates (those of the message)
   * @param revocation CRLs to check the path against; none when empty
   */
  public ChainValidator(List<X509Certificate> untrusted, TrustStore store, Date at,
      Optional<Revocation.Policy> revocation, AlgorithmPolicy policy) {
    this(untrusted, store, at, revocation, policy, Role.SIGNER);
  }

  /** @param leaf {@link Role#SIGNER} or {@link Role#RECIPIENT}: the rule for the leaf */
  public ChainValidator(List<X509Certificate> untrusted, TrustStore store, Date at,
      Optional<Revocation.Policy> revocation, AlgorithmPolicy policy, Role leaf) {
    if (leaf == Role.ISSUER) {
      throw new IllegalArgumentException("a leaf is a signer or a recipient");
    }
    this.search = new PathSearch(untrusted, store, PathSearch.Budget.DEFAULT);
    this.at = wholeSecond(at);
    this.revocation = revocation;
    this.policy = policy;
    this.leaf = leaf;
  }

  /** One signer, without revocation checking, with the default algorithm policy. */
  public static Optional<Failure> validate(X509Certificate leaf, List<X509Certificate> untrusted,
      TrustStore store, Date at) {
    return new ChainValidator(untrusted, store, at, Optional.empty(),
        AlgorithmPolicy.defaults()).validate(leaf, new ArrayList<>());
  }

  /**
   * @param warnings receives the warnings of the path that validates (a stale CRL, a weak
   *     algorithm)
   */
  public Optional<Failure> validate(X509Certificate leaf, List<String> warnings) {
    try {
      return validatePaths(leaf, warnings);
    } catch (RuntimeException e) {
      // Extensions are decoded lazily; a malformed one throws. OpenSSL refuses such a
      // certificate ("invalid or inconsistent certificate extension"), and so do we.
      return Optional.of(new Failure(Reason.UNTRUSTED_CHAIN,
          "a certificate on the path of " + OpenSslNames.formatName(
              leaf.getSubjectX500Principal()) + " has an extension that does not decode"));
    }
  }

  /**
   * Why {@code cert} may not stand where it stands, whatever the path around it: RFC 5280's
   * profile ({@link CertificateProfile}), a critical extension OpenSSL would not handle, the
   * S/MIME usage rule ({@link SmimeSigningPurpose}) for a signer or an issuer, and the
   * algorithm policy. The one sequence of these rules, applied by the path checker to every
   * certificate below the anchor, to the trust anchor, and by {@code smime.sign} to the list's
   * own certificate, so the list signs nothing its own verifier refuses.
   *
   * @param selfSigned {@code cert} is a trust anchor's own certificate (a root, or a signer
   *     that is its own anchor)
   * @param warnings receives the algorithms the policy accepts with a warning
   */
  public static Optional<Failure> certificateFailure(X509Certificate cert, boolean signer,
      boolean selfSigned, AlgorithmPolicy policy, List<String> warnings) {
    return certificateFailure(cert, signer ? Role.SIGNER : Role.ISSUER, selfSigned, policy,
        warnings);
  }

  /** As above, for a certificate in any {@link Role}. */
  public static Optional<Failure> certificateFailure(X509Certificate cert, Role role,
      boolean selfSigned, AlgorithmPolicy policy, List<String> warnings) {
    String name = OpenSslNames.formatName(cert.getSubjectX500Principal());
    Optional<String> nonconforming = CertificateProfile.violation(cert, selfSigned);
    if (nonconforming.isPresent()) {
      return Optional.of(new Failure(Reason.UNTRUSTED_CHAIN,
          name + " does not conform to RFC 5280: " + nonconforming.get()));
    }
    Optional<String> unknown = CertificateProfile.unknownCriticalExtension(cert);
    if (unknown.isPresent()) {
      return Optional.of(new Failure(Reason.UNTRUSTED_CHAIN,
          name + " has an unhandled critical extension " + unknown.get()));
    }
    Optional<Failure> usage = switch (role) {
      case SIGNER -> SmimeSigningPurpose.ofSigner(cert);
      case RECIPIENT -> SmimeSigningPurpose.ofRecipient(cert);
      case ISSUER -> SmimeSigningPurpose.ofIssuer(cert);
    };
    if (usage.isPresent()) {
      return usage;
    }
    return policy.refusal(cert, warnings)
        .map(why -> new Failure(Reason.UNSUPPORTED_ALGORITHM, why));
  }

  /**
   * {@code at} without its fraction of a second. Certificate validity is encoded in whole
   * seconds (RFC 5280 4.1.2.5: notBefore through notAfter, inclusive), so every instant of the
   * notAfter second is still within the period; comparing the millisecond clock made a
   * certificate expire up to a second early. OpenSSL compares whole seconds (time_t) too.
   * (x509-limbo rfc5280::validity::notafter-fractional, notbefore-fractional.)
   */
  static Date wholeSecond(Date at) {
    return new Date(Math.floorDiv(at.getTime(), 1000L) * 1000L);
  }

  private Optional<Failure> validatePaths(X509Certificate leaf, List<String> warnings) {
    List<Failure> failures = new ArrayList<>();
    List<List<String>> accepted = new ArrayList<>();
    search.search(leaf, path -> {
      if (failures.size() >= MAX_PATHS) {
        return true;
      }
      List<String> pathWarnings = new ArrayList<>();
      Optional<Failure> f = validate(path, at, policy, this.leaf, pathWarnings);
      if (f.isEmpty() && revocation.isPresent()) {
        f = Revocation.check(path, at, revocation.get(), pathWarnings);
      }
      if (f.isEmpty()) {
        accepted.add(pathWarnings);
        return true;
      }
      failures.add(f.get());
      return false;
    });
    if (!accepted.isEmpty()) {
      warnings.addAll(accepted.get(0));
      return Optional.empty();
    }
    if (!failures.isEmpty()) {
      return Optional.of(failures.get(0));
    }
    if (search.exhausted()) {
      return Optional.of(new Failure(Reason.UNTRUSTED_CHAIN, "the path search for "
          + OpenSslNames.formatName(leaf.getSubjectX500Principal()) + " gave up after "
          + search.effort()));
    }
    return Optional.of(new Failure(Reason.UNTRUSTED_CHAIN,
        "no path from " + OpenSslNames.formatName(leaf.getSubjectX500Principal())
            + " to a trust anchor"));
  }

  /** One path, signer (or recipient) first and trust anchor last. */
  static Optional<Failure> validate(List<X509Certificate> path, Date at, AlgorithmPolicy policy,
      Role leaf, List<String> warnings) {
    X509Certificate signer = path.get(0);
    X509Certificate anchorCert = path.get(path.size() - 1);
    boolean signerIsAnchor = path.size() == 1;
    if (!signerIsAnchor) {
      Optional<Failure> anchor = anchorFailure(anchorCert, at, policy, warnings);
      if (anchor.isPresent()) {
        return anchor;
      }
    }
    List<X509Certificate> below = signerIsAnchor ? path : path.subList(0, path.size() - 1);
    SmimePathChecker.Findings findings = new SmimePathChecker.Findings();
    try {
      CertPath certPath = CertificateFactory.getInstance("X.509", BcProvider.get())
          .generateCertPath(below);
      PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(anchorCert, null)));
      params.setDate(at);
      params.setRevocationEnabled(false); // Revocation does it, with the CRLs Sympa gives
      params.setPolicyQualifiersRejected(false); // OpenSSL ignores qualifiers too
      params.addCertPathChecker(new SmimePathChecker(signer, leaf,
          signerIsAnchor ? Optional.empty() : Optional.of(anchorCert), policy, findings));
      CertPathValidator.getInstance("PKIX", BcProvider.get()).validate(certPath, params);
    } catch (CertPathValidatorException e) {
      return Optional.of(findings.failure().orElseGet(() -> describe(e, below)));
    } catch (GeneralSecurityException e) {
      return Optional.of(new Failure(Reason.UNTRUSTED_CHAIN,
          "the path of " + OpenSslNames.formatName(signer.getSubjectX500Principal())
              + " cannot be validated: " + e.getMessage()));
    }
    warnings.addAll(findings.warnings());
    return Optional.empty();
  }

  /**
   * The trust anchor's certificate as OpenSSL checks it. RFC 5280 takes only the anchor's
   * name and key; OpenSSL also refuses an expired root, a root that is not a CA, and one with
   * an unknown critical extension, and so do we.
   */
  private static Optional<Failure> anchorFailure(X509Certificate anchor, Date at,
      AlgorithmPolicy policy, List<String> warnings) {
    String name = OpenSslNames.formatName(anchor.getSubjectX500Principal());
    if (at.before(anchor.getNotBefore())) {
      return Optional.of(new Failure(Reason.NOT_YET_VALID,
          name + " is not valid before " + anchor.getNotBefore().toInstant()));
    }
    if (at.after(anchor.getNotAfter())) {
      return Optional.of(new Failure(Reason.EXPIRED,
          name + " expired " + anchor.getNotAfter().toInstant()));
    }
    Optional<Failure> own = certificateFailure(anchor, false, true, policy, warnings);
    if (own.isPresent()) {
      return own;
    }
    boolean[] ku = anchor.getKeyUsage();
    if (ku != null && !(ku.length > 5 && ku[5])) {
      return Optional.of(new Failure(Reason.UNTRUSTED_CHAIN,
          "the keyUsage of CA " + name + " does not allow certificate signing"));
    }
    boolean hasBasic = anchor.getExtensionValue("2.5.29.19") != null;
    // OpenSSL accepts a v1 root, one whose keyUsage allows certSign, or one whose Netscape
    // cert type says S/MIME CA, without basicConstraints. The second is refused above
    // (keyCertSign without cA, CertificateProfile.violation).
    boolean isCa = hasBasic ? anchor.getBasicConstraints() >= 0
        : anchor.getVersion() == 1 || ku != null || SmimeSigningPurpose.netscapeSmimeCa(anchor);
    if (!isCa) {
      return Optional.of(new Failure(Reason.UNTRUSTED_CHAIN, name + " is not a CA"));
    }
    return PathNameConstraints.unusable(anchor)
        .map(why -> new Failure(Reason.UNTRUSTED_CHAIN, why));
  }

  private static Failure describe(CertPathValidatorException e, List<X509Certificate> path) {
    int index = e.getIndex();
    String name = index >= 0 && index < path.size()
        ? OpenSslNames.formatName(path.get(index).getSubjectX500Principal()) : "the path";
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof CertificateExpiredException) {
        return new Failure(Reason.EXPIRED, name + " expired "
            + path.get(index).getNotAfter().toInstant());
      }
      if (t instanceof CertificateNotYetValidException) {
        return new Failure(Reason.NOT_YET_VALID, name + " is not valid before "
            + path.get(index).getNotBefore().toInstant());
      }
    }
    String cause = e.getCause() != null && e.getCause().getMessage() != null
        ? ": " + e.getCause().getMessage() : "";
    return new Failure(Reason.UNTRUSTED_CHAIN, name + ": " + e.getMessage() + cause);
  }
}
