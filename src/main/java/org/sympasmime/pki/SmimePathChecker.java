package org.sympasmime.pki;

import java.net.IDN;
import java.security.cert.CertPathValidatorException;
import java.security.cert.Certificate;
import java.security.cert.PKIXCertPathChecker;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.NameConstraintValidatorException;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.bouncycastle.asn1.x509.OtherName;
import org.bouncycastle.asn1.x509.PKIXNameConstraintValidator;
import org.sympasmime.Reason;

/**
 * What S/MIME and OpenSSL add to Bouncy Castle's RFC 5280 validation of one path. Bouncy
 * Castle calls {@link #check} for each certificate below the trust anchor, the anchor's child
 * first and the signer last.
 *
 * <ul>
 *   <li>only the critical extensions OpenSSL 3.0 handles are accepted ({@link #KNOWN_CRITICAL});
 *       Bouncy Castle would let a critical crlDistributionPoints or extendedKeyUsage through on
 *       some certificates and refuse it on others;
 *   <li>the S/MIME usage rule ({@link SmimeSigningPurpose}) and the {@link AlgorithmPolicy};
 *   <li>name constraints of the trust anchor itself, which RFC 5280 leaves out (the anchor is a
 *       name and a key) but OpenSSL applies, as it applies the anchor's pathLenConstraint;
 *   <li>SmtpUTF8Mailbox names against rfc822Name constraints (RFC 8398 section 6), which Bouncy
 *       Castle compares with otherName constraints only: without this, a constrained CA could
 *       issue an internationalized address anywhere, and Sympa takes those addresses as the
 *       signer's;
 *   <li>the signer's common name, when it looks like a host name and no dNSName is present,
 *       against dNSName constraints, as OpenSSL does.
 * </ul>
 *
 * <p>Clones share the {@link Findings}: {@code PKIXParameters} clones its checkers, and the
 * reason for a failure must reach the caller, which Bouncy Castle's re-thrown exception does
 * not carry.
 */
final class SmimePathChecker extends PKIXCertPathChecker {
  /** OpenSSL 3.0's {@code X509_supported_extension}, less proxies and RFC 3779 resources. */
  static final Set<String> KNOWN_CRITICAL = Set.of(
      SmimeSigningPurpose.NETSCAPE_CERT_TYPE,
      Extension.keyUsage.getId(),
      Extension.subjectAlternativeName.getId(),
      Extension.basicConstraints.getId(),
      Extension.certificatePolicies.getId(),
      Extension.cRLDistributionPoints.getId(),
      Extension.extendedKeyUsage.getId(),
      Extension.policyConstraints.getId(),
      Extension.nameConstraints.getId(),
      Extension.policyMappings.getId(),
      Extension.inhibitAnyPolicy.getId());
  /** Handled here, beyond what Bouncy Castle handles on every certificate. */
  private static final Set<String> HANDLED = Set.of(SmimeSigningPurpose.NETSCAPE_CERT_TYPE,
      Extension.extendedKeyUsage.getId(), Extension.cRLDistributionPoints.getId());
  private static final String SMTP_UTF8_MAILBOX = "1.3.6.1.5.5.7.8.9";

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
  private final Optional<X509Certificate> anchor;
  private final AlgorithmPolicy policy;
  private final Findings findings;
  private PKIXNameConstraintValidator names;
  /** Each CA's permitted rfc822Name subtrees, for the case of mailbox local parts. */
  private List<List<String>> permittedMailboxes;
  private int intermediates;

  /**
   * @param anchor the trust anchor's certificate when it is not the signer itself
   */
  SmimePathChecker(X509Certificate signer, Optional<X509Certificate> anchor,
      AlgorithmPolicy policy, Findings findings) {
    this.signer = signer;
    this.anchor = anchor;
    this.policy = policy;
    this.findings = findings;
  }

  @Override
  public void init(boolean forward) throws CertPathValidatorException {
    if (forward) {
      throw new CertPathValidatorException("forward checking is not supported");
    }
    names = new PKIXNameConstraintValidator();
    permittedMailboxes = new ArrayList<>();
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
    String name = OpenSslNames.formatName(cert.getSubjectX500Principal());
    Optional<String> nonconforming = profileViolation(cert, isSigner && anchor.isEmpty());
    if (nonconforming.isPresent()) {
      fail(Reason.UNTRUSTED_CHAIN, name + " does not conform to RFC 5280: "
          + nonconforming.get());
    }
    Optional<String> unknown = unknownCriticalExtension(cert);
    if (unknown.isPresent()) {
      fail(Reason.UNTRUSTED_CHAIN, name + " has an unhandled critical extension "
          + unknown.get());
    }
    unresolvedCritExts.removeAll(HANDLED);
    Optional<ChainValidator.Failure> usage = isSigner
        ? SmimeSigningPurpose.ofSigner(cert) : SmimeSigningPurpose.ofIssuer(cert);
    if (usage.isPresent()) {
      fail(usage.get().reason(), usage.get().detail());
    }
    Optional<String> refused = policy.refusal(cert, findings.warnings);
    if (refused.isPresent()) {
      fail(Reason.UNSUPPORTED_ALGORITHM, refused.get());
    }
    if (isSigner || !Issuance.selfIssuedByName(cert)) {
      checkNames(cert, isSigner, name);
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

  /**
   * The first way {@code cert} breaks the certificate profile of RFC 5280 section 4 where the
   * profile says MUST and the break is visible in the certificate alone; empty when none.
   * Section 6 does not list these, and OpenSSL 3.0 checks few of them (without
   * {@code -x509_strict}), but a certificate that breaks them was not made by a conforming CA,
   * and a path through it is not one we let decide who may post: the x509-limbo suite expects
   * every one refused. Applied to every certificate of a path, the trust anchor included
   * ({@code selfSigned} for the anchor, and for a signer that is its own anchor).
   */
  static Optional<String> profileViolation(X509Certificate cert, boolean selfSigned) {
    // 4.1.2.2: a positive integer of at most 20 octets.
    java.math.BigInteger serial = cert.getSerialNumber();
    if (serial.signum() <= 0) {
      return Optional.of("its serial number is not a positive integer");
    }
    if (serial.toByteArray().length > 20) {
      return Optional.of("its serial number is longer than 20 octets");
    }
    // 4.1.1.2: signatureAlgorithm MUST be the same as the TBSCertificate's signature field
    // (checked for the anchor too, whose self-signature nobody verifies).
    if (!signatureAlgorithmsAgree(cert)) {
      return Optional.of("its signatureAlgorithm differs from its TBSCertificate's");
    }
    if (cert.getVersion() < 3) {
      return Optional.empty();
    }
    Set<String> critical = cert.getCriticalExtensionOIDs() != null
        ? cert.getCriticalExtensionOIDs() : Set.of();
    boolean ca = cert.getBasicConstraints() >= 0;
    boolean[] ku = cert.getKeyUsage();
    // 4.2.1.3 and 4.2.1.9: keyCertSign only with cA.
    if (ku != null && ku.length > 5 && ku[5] && !ca) {
      return Optional.of("its keyUsage has keyCertSign without basicConstraints cA");
    }
    boolean emptySubject = cert.getSubjectX500Principal().getEncoded().length <= 2;
    // Not required here, although 4.2.1.9 and 4.2.1.10 say MUST: a critical basicConstraints
    // in CAs (the NSS test CA of the Thunderbird corpus, a root in use, marks it
    // non-critical) and a critical nameConstraints (the S/MIME Baseline Requirements 7.1.2.2(f)
    // allow it non-critical). Both are honoured whatever their flag, so refusing them would refuse
    // real CAs and protect nothing (LimboReplayTest.KNOWN).
    // 4.1.2.6: a CA's subject is a non-empty name.
    if (ca && emptySubject) {
      return Optional.of("it is a CA with an empty subject");
    }
    // Not required either, although 4.2.1.1 and 4.2.1.2 say MUST: key identifiers in CA
    // certificates. They only help find issuers, which the path search does by name and
    // signature without them; OpenSSL does not ask for them, and CAs made without them are in
    // use (Bouncy Castle's certificate builder adds none by default; the NSS test CA of the
    // Thunderbird corpus has none): refusing them would refuse those sites' every signature
    // and protect nothing (LimboReplayTest.KNOWN).
    // 4.1.2.6 and 4.2.1.6: an empty subject needs a critical subjectAltName.
    if (emptySubject && !critical.contains(Extension.subjectAlternativeName.getId())) {
      return Optional.of("its subject is empty and its subjectAltName is not critical");
    }
    // 4.2.1.10: nameConstraints only in a CA certificate.
    if (cert.getExtensionValue(Extension.nameConstraints.getId()) != null && !ca) {
      return Optional.of("it has nameConstraints but is not a CA");
    }
    // 4.2.1.11: policyConstraints critical.
    if (cert.getExtensionValue(Extension.policyConstraints.getId()) != null
        && !critical.contains(Extension.policyConstraints.getId())) {
      return Optional.of("its policyConstraints is not critical");
    }
    // 4.2.1.6: a subjectAltName that does not decode (Bouncy Castle's validator decodes it
    // below the anchor; nothing else would on the anchor).
    try {
      Extensions.decodeStrict(cert.getExtensionValue(Extension.subjectAlternativeName.getId()))
          .map(GeneralNames::getInstance);
    } catch (RuntimeException e) {
      return Optional.of("its subjectAltName does not decode");
    }
    return Optional.empty();
  }

  private static boolean signatureAlgorithmsAgree(X509Certificate cert) {
    try {
      org.bouncycastle.asn1.x509.Certificate c =
          org.bouncycastle.asn1.x509.Certificate.getInstance(cert.getEncoded());
      return c.getSignatureAlgorithm().equals(c.getTBSCertificate().getSignature());
    } catch (java.security.cert.CertificateEncodingException | RuntimeException e) {
      return false;
    }
  }

  /** The first critical extension OpenSSL would not handle, by OID. */
  static Optional<String> unknownCriticalExtension(X509Certificate cert) {
    Set<String> critical = cert.getCriticalExtensionOIDs();
    if (critical == null) {
      return Optional.empty();
    }
    return critical.stream().filter(oid -> !KNOWN_CRITICAL.contains(oid)).sorted().findFirst();
  }

  /** Name constraints of {@code ca} as a failure when they do not decode. */
  static Optional<ChainValidator.Failure> undecodableConstraints(X509Certificate ca) {
    try {
      constraints(ca);
      return Optional.empty();
    } catch (RuntimeException e) {
      return Optional.of(new ChainValidator.Failure(Reason.UNTRUSTED_CHAIN,
          "the name constraints of " + OpenSslNames.formatName(ca.getSubjectX500Principal())
              + " do not decode"));
    }
  }

  private static Optional<NameConstraints> constraints(X509Certificate ca) {
    return Extensions.decodeStrict(ca.getExtensionValue(Extension.nameConstraints.getId()))
        .map(NameConstraints::getInstance);
  }

  private void addConstraints(X509Certificate ca) throws CertPathValidatorException {
    Optional<NameConstraints> nc;
    try {
      nc = constraints(ca);
    } catch (RuntimeException e) {
      fail(Reason.UNTRUSTED_CHAIN, "the name constraints of "
          + OpenSslNames.formatName(ca.getSubjectX500Principal()) + " do not decode");
      return;
    }
    if (nc.isEmpty()) {
      return;
    }
    Optional<String> malformed = malformedSubtree(nc.get());
    if (malformed.isPresent()) {
      fail(Reason.UNTRUSTED_CHAIN, "the name constraints of "
          + OpenSslNames.formatName(ca.getSubjectX500Principal()) + " hold "
          + malformed.get());
    }
    if (nc.get().getPermittedSubtrees() != null) {
      names.intersectPermittedSubtree(nc.get().getPermittedSubtrees());
      List<String> rfc822 = new ArrayList<>();
      for (GeneralSubtree permitted : nc.get().getPermittedSubtrees()) {
        if (permitted.getBase().getTagNo() == GeneralName.rfc822Name) {
          rfc822.add(((ASN1String) permitted.getBase().getName()).getString());
        }
      }
      if (!rfc822.isEmpty()) {
        permittedMailboxes.add(rfc822);
      }
    }
    if (nc.get().getExcludedSubtrees() != null) {
      for (GeneralSubtree excluded : nc.get().getExcludedSubtrees()) {
        names.addExcludedSubtree(excluded);
      }
    }
  }

  private static final String LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
  private static final java.util.regex.Pattern DNS_CONSTRAINT =
      java.util.regex.Pattern.compile(LABEL + "(\\." + LABEL + ")*");

  /**
   * A permitted or excluded subtree whose base is not a name of its form as RFC 5280 4.2.1.10
   * writes them: a dNSName that is not a host or domain name ({@code .example.com},
   * {@code *.example.com}: the leading period belongs to URI and rfc822Name constraints
   * only), an iPAddress that is not an address and a mask (8 or 32 octets), an rfc822Name
   * with more than one {@code @}. Bouncy Castle and OpenSSL read such a constraint somehow
   * (a leading period as "subdomains only"); what the CA meant is unknown, so the path is
   * refused (x509-limbo rfc5280::nc::invalid-*).
   */
  static Optional<String> malformedSubtree(NameConstraints nc) {
    List<GeneralSubtree> all = new ArrayList<>();
    if (nc.getPermittedSubtrees() != null) {
      all.addAll(List.of(nc.getPermittedSubtrees()));
    }
    if (nc.getExcludedSubtrees() != null) {
      all.addAll(List.of(nc.getExcludedSubtrees()));
    }
    for (GeneralSubtree subtree : all) {
      GeneralName base = subtree.getBase();
      switch (base.getTagNo()) {
        case GeneralName.dNSName -> {
          String dns = ((ASN1String) base.getName()).getString();
          if (!dns.isEmpty() && !DNS_CONSTRAINT.matcher(dns).matches()) {
            return Optional.of("a malformed dNSName constraint \"" + dns + "\"");
          }
        }
        case GeneralName.iPAddress -> {
          int length = org.bouncycastle.asn1.ASN1OctetString.getInstance(base.getName())
              .getOctets().length;
          if (length != 8 && length != 32) {
            return Optional.of("an iPAddress constraint of " + length
                + " octets (an address and a mask are 8 or 32)");
          }
        }
        case GeneralName.rfc822Name -> {
          String mail = ((ASN1String) base.getName()).getString();
          if (mail.indexOf('@') != mail.lastIndexOf('@') || mail.startsWith("@")) {
            return Optional.of("a malformed rfc822Name constraint \"" + mail + "\"");
          }
        }
        default -> {
          // other forms are compared as they are
        }
      }
    }
    return Optional.empty();
  }

  private void checkNames(X509Certificate cert, boolean isSigner, String name)
      throws CertPathValidatorException {
    X500Name subject = X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
    GeneralName[] alternatives;
    try {
      alternatives = Extensions.decodeStrict(
          cert.getExtensionValue(Extension.subjectAlternativeName.getId()))
          .map(v -> GeneralNames.getInstance(v).getNames()).orElse(new GeneralName[0]);
    } catch (RuntimeException e) {
      fail(Reason.UNTRUSTED_CHAIN, "the subjectAltName of " + name + " does not decode");
      return;
    }
    try {
      names.checkPermittedDN(subject);
      names.checkExcludedDN(subject);
      for (RDN rdn : subject.getRDNs(BCStyle.EmailAddress)) {
        String email = ((ASN1String) rdn.getFirst().getValue()).getString();
        check(new GeneralName(GeneralName.rfc822Name, email));
      }
      boolean hasDns = false;
      for (GeneralName alternative : alternatives) {
        hasDns |= alternative.getTagNo() == GeneralName.dNSName;
        check(alternative);
        Optional<GeneralName> mailbox = smtpUtf8AsRfc822(alternative, name);
        if (mailbox.isPresent()) {
          check(mailbox.get());
        }
      }
      if (isSigner && !hasDns) {
        for (RDN rdn : subject.getRDNs(BCStyle.CN)) {
          String cn = ((ASN1String) rdn.getFirst().getValue()).getString();
          if (looksLikeHostName(cn)) {
            check(new GeneralName(GeneralName.dNSName, cn));
          }
        }
      }
    } catch (NameConstraintValidatorException e) {
      fail(Reason.UNTRUSTED_CHAIN, "a name of " + name + " violates the name constraints of"
          + " its issuers: " + e.getMessage());
    } catch (ClassCastException | IllegalArgumentException e) {
      fail(Reason.UNTRUSTED_CHAIN, "a name of " + name + " does not decode");
    }
  }

  private void check(GeneralName n) throws NameConstraintValidatorException {
    names.checkPermitted(n);
    names.checkExcluded(n);
    if (n.getTagNo() == GeneralName.rfc822Name) {
      String address = ((ASN1String) n.getName()).getString();
      for (List<String> permitted : permittedMailboxes) {
        if (permitted.stream().noneMatch(base -> rfc822Within(address, base))) {
          throw new NameConstraintValidatorException("the address " + address
              + " is not within the permitted rfc822Name subtrees " + permitted);
        }
      }
    }
  }

  /**
   * RFC 5280 4.2.1.10's rfc822Name matching with the local part compared exactly, as OpenSSL
   * does: Bouncy Castle ignores case in the whole address, so a CA permitted only
   * {@code list@example.org} could certify {@code List@example.org}, a different mailbox on
   * servers that honour case. The rest of the comparison is Bouncy Castle's, already passed.
   */
  private static boolean rfc822Within(String address, String base) {
    int at = address.lastIndexOf('@');
    String domain = address.substring(at + 1);
    int baseAt = base.lastIndexOf('@');
    if (baseAt >= 0) {
      return at >= 0 && address.substring(0, at).equals(base.substring(0, baseAt))
          && domain.equalsIgnoreCase(base.substring(baseAt + 1));
    }
    if (base.startsWith(".")) {
      return domain.regionMatches(true, domain.length() - base.length(), base, 0,
          base.length());
    }
    return domain.equalsIgnoreCase(base);
  }

  /**
   * RFC 8398 section 6: an SmtpUTF8Mailbox is held to rfc822Name constraints with its domain
   * in A-labels. Its local part may not be ASCII, so it can only match a host or domain
   * constraint, never a mailbox one, which the comparison of the whole address gives.
   */
  private Optional<GeneralName> smtpUtf8AsRfc822(GeneralName n, String name)
      throws CertPathValidatorException {
    if (n.getTagNo() != GeneralName.otherName) {
      return Optional.empty();
    }
    OtherName other = OtherName.getInstance(n.getName());
    if (!other.getTypeID().getId().equals(SMTP_UTF8_MAILBOX)) {
      return Optional.empty();
    }
    ASN1Encodable value = other.getValue();
    if (value instanceof ASN1TaggedObject tagged) {
      value = tagged.getBaseObject();
    }
    if (!(value instanceof ASN1String s)) {
      fail(Reason.UNTRUSTED_CHAIN, "an SmtpUTF8Mailbox of " + name + " is not a string");
      return Optional.empty();
    }
    String mailbox = s.getString();
    int at = mailbox.lastIndexOf('@');
    if (at <= 0 || at == mailbox.length() - 1) {
      fail(Reason.UNTRUSTED_CHAIN, "an SmtpUTF8Mailbox of " + name + " is not an address");
    }
    String domain;
    try {
      domain = IDN.toASCII(mailbox.substring(at + 1), IDN.USE_STD3_ASCII_RULES);
    } catch (IllegalArgumentException e) {
      fail(Reason.UNTRUSTED_CHAIN, "an SmtpUTF8Mailbox of " + name + " has a bad domain");
      return Optional.empty();
    }
    return Optional.of(new GeneralName(GeneralName.rfc822Name,
        new DERIA5String(mailbox.substring(0, at) + "@" + domain)));
  }

  /** OpenSSL's {@code cn2dnsid}: letters, digits, hyphens and at least one inner dot. */
  private static boolean looksLikeHostName(String cn) {
    if (!cn.contains(".") || cn.startsWith(".") || cn.endsWith(".") || cn.contains("..")) {
      return false;
    }
    for (char c : cn.toCharArray()) {
      if (!(Character.isLetterOrDigit(c) && c < 128) && c != '-' && c != '.') {
        return false;
      }
    }
    return true;
  }

  private void fail(Reason reason, String detail) throws CertPathValidatorException {
    if (findings.failure.isEmpty()) {
      findings.failure = Optional.of(new ChainValidator.Failure(reason, detail));
    }
    throw new CertPathValidatorException(detail);
  }
}
