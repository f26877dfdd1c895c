package org.sympasmime.pki;

import java.security.cert.CertPathValidatorException;
import java.security.cert.Certificate;
import java.security.cert.PKIXCertPathChecker;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.x509.Extension;
import org.sympasmime.Reason;

/**
 * What S/MIME and OpenSSL add to Bouncy Castle's RFC 5280 validation of one path. Bouncy
 * Castle calls {@link #check} for each certificate below the trust anchor, the anchor's child
 * first and the signer last.
 *
 * <ul>
 *   <li>the {@link CertificateProfile}: RFC 5280's profile where a break shows, and only the
 *       critical extensions OpenSSL 3.0 handles (Bouncy Castle would let a critical
 *       crlDistributionPoints or extendedKeyUsage through on some certificates and refuse it
 *       on others);
 *   <li>the S/MIME usage rule ({@link SmimeSigningPurpose}) and the {@link AlgorithmPolicy};
 *   <li>the {@link PathNameConstraints}: the trust anchor's own, which RFC 5280 leaves out (the
 *       anchor is a name and a key) but OpenSSL applies, SmtpUTF8Mailbox names, host-like
 *       common names;
 *   <li>the trust anchor's pathLenConstraint, which OpenSSL applies too.
 * </ul>
 *
 * <p>Clones share the {@link Findings}: {@code PKIXParameters} clones its checkers, and the
 * reason for a failure must reach the caller, which Bouncy Castle's re-thrown exception does
 * not carry.
 */
final class SmimePathChecker extends PKIXCertPathChecker {
  /** Handled here, beyond what Bouncy Castle handles on every certificate. */
  private static final Set<String> HANDLED = Set.of(SmimeSigningPurpose.NETSCAPE_CERT_TYPE,
      Extension.extendedKeyUsage.getId(), Extension.cRLDistributionPoints.getId());

  /** The verdict and warnings of one validation, shared by the clones of one checker. */
  static final class Findings {
    private Optional<ChainValidator.Failure> failure = Optional.empty();
    private final List<String> warnings = new ArrayList<>();

    Optional<ChainValidator.Failure> failure() {
      return failure;
    }

    List<String> warnings() {
      return warnings;
    }
  }

  private final X509Certificate signer;
  private final ChainValidator.Role role;
  private final Optional<X509Certificate> anchor;
  private final AlgorithmPolicy policy;
  private final Findings findings;
  private PathNameConstraints names;
  private int intermediates;

  /**
   * @param anchor the trust anchor's certificate when it is not the signer itself
   */
  SmimePathChecker(X509Certificate signer, ChainValidator.Role role,
      Optional<X509Certificate> anchor, AlgorithmPolicy policy, Findings findings) {
    this.signer = signer;
    this.role = role;
    this.anchor = anchor;
    this.policy = policy;
    this.findings = findings;
  }

  @Override
  public void init(boolean forward) throws CertPathValidatorException {
    if (forward) {
      throw new CertPathValidatorException("forward checking is not supported");
    }
    names = new PathNameConstraints();
    intermediates = 0;
    if (anchor.isPresent()) {
      addConstraints(anchor.get());
    }
  }

  @Override
  public boolean isForwardCheckingSupported() {
    return false;
  }

  @Override
  public Set<String> getSupportedExtensions() {
    return HANDLED;
  }

  @Override
  public void check(Certificate certificate, Collection<String> unresolvedCritExts)
      throws CertPathValidatorException {
    X509Certificate cert = (X509Certificate) certificate;
    boolean isSigner = cert.equals(signer);
    Optional<ChainValidator.Failure> own = ChainValidator.certificateFailure(cert,
        isSigner ? role : ChainValidator.Role.ISSUER, isSigner && anchor.isEmpty(), policy,
        findings.warnings);
    if (own.isPresent()) {
      fail(own.get().reason(), own.get().detail());
    }
    unresolvedCritExts.removeAll(HANDLED);
    if (isSigner || !Issuance.selfIssuedByName(cert)) {
      Optional<String> outside = names.violation(cert, isSigner);
      if (outside.isPresent()) {
        fail(Reason.UNTRUSTED_CHAIN, outside.get());
      }
    }
    if (!isSigner) {
      if (!Issuance.selfIssuedByName(cert)) {
        intermediates++;
        int anchorPathLen = anchor.map(X509Certificate::getBasicConstraints).orElse(-1);
        if (anchorPathLen >= 0 && anchorPathLen != Integer.MAX_VALUE
            && intermediates > anchorPathLen) {
          fail(Reason.UNTRUSTED_CHAIN, "path length constraint of the trust anchor "
              + OpenSslNames.formatName(anchor.get().getSubjectX500Principal()) + " exceeded");
        }
      }
      addConstraints(cert);
    }
  }

  private void addConstraints(X509Certificate ca) throws CertPathValidatorException {
    Optional<String> unusable = names.add(ca);
    if (unusable.isPresent()) {
      fail(Reason.UNTRUSTED_CHAIN, unusable.get());
    }
  }

  private void fail(Reason reason, String detail) throws CertPathValidatorException {
    if (findings.failure.isEmpty()) {
      findings.failure = Optional.of(new ChainValidator.Failure(reason, detail));
    }
    throw new CertPathValidatorException(detail);
  }
}
