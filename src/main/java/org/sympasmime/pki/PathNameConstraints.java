package org.sympasmime.pki;

import java.net.IDN;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1OctetString;
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

/**
 * The name constraints in force at one point of a path, from the trust anchor down, and the
 * check of a certificate's names against them. Bouncy Castle's validator does the same for
 * the constraints below the anchor; this one adds what it leaves out and OpenSSL does not:
 *
 * <ul>
 *   <li>the trust anchor's own constraints (RFC 5280 takes only the anchor's name and key);
 *   <li>SmtpUTF8Mailbox names against rfc822Name constraints (RFC 8398 section 6), which
 *       Bouncy Castle compares with otherName constraints only: without this, a constrained CA
 *       could issue an internationalized address anywhere, and Sympa takes those addresses as
 *       the signer's;
 *   <li>the signer's common name, when it looks like a host name and no dNSName is present,
 *       against dNSName constraints, as OpenSSL does;
 *   <li>mailbox local parts compared exactly, as OpenSSL does;
 *   <li>constraint bases that are not names of their form refused.
 * </ul>
 *
 * Using Bouncy Castle's {@link PKIXNameConstraintValidator} for the comparisons themselves
 * keeps one implementation of RFC 5280's matching rules. Mutable; one per validation.
 */
final class PathNameConstraints {
  private static final String SMTP_UTF8_MAILBOX = "1.3.6.1.5.5.7.8.9";
  private static final String LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
  private static final Pattern DNS_CONSTRAINT = Pattern.compile(LABEL + "(\\." + LABEL + ")*");

  private final PKIXNameConstraintValidator validator = new PKIXNameConstraintValidator();
  /** Each CA's permitted rfc822Name subtrees, for the case of mailbox local parts. */
  private final List<List<String>> permittedMailboxes = new ArrayList<>();

  /** Why the name constraints of {@code ca} cannot be used; empty when they can, or are none. */
  static Optional<String> unusable(X509Certificate ca) {
    try {
      return constraints(ca).flatMap(PathNameConstraints::malformedSubtree);
    } catch (RuntimeException e) {
      return Optional.of("the name constraints of " + name(ca) + " do not decode");
    }
  }

  /**
   * Adds the constraints of {@code ca} to those in force.
   *
   * @return why they cannot be used
   */
  Optional<String> add(X509Certificate ca) {
    Optional<String> unusable = unusable(ca);
    if (unusable.isPresent()) {
      return unusable;
    }
    Optional<NameConstraints> nc = constraints(ca);
    if (nc.isEmpty()) {
      return Optional.empty();
    }
    GeneralSubtree[] permitted = nc.get().getPermittedSubtrees();
    if (permitted != null) {
      validator.intersectPermittedSubtree(permitted);
      List<String> rfc822 = new ArrayList<>();
      for (GeneralSubtree subtree : permitted) {
        if (subtree.getBase().getTagNo() == GeneralName.rfc822Name) {
          rfc822.add(((ASN1String) subtree.getBase().getName()).getString());
        }
      }
      if (!rfc822.isEmpty()) {
        permittedMailboxes.add(rfc822);
      }
    }
    if (nc.get().getExcludedSubtrees() != null) {
      for (GeneralSubtree excluded : nc.get().getExcludedSubtrees()) {
        validator.addExcludedSubtree(excluded);
      }
    }
    return Optional.empty();
  }

  /**
   * Checks every name of {@code cert}: its subject, the emailAddress attributes in it, its
   * subjectAltName entries and, for the signer, a host-like common name.
   *
   * @return why a name is outside the constraints, or does not decode
   */
  Optional<String> violation(X509Certificate cert, boolean isSigner) {
    X500Name subject = X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
    GeneralName[] alternatives;
    try {
      alternatives = Extensions.decodeStrict(
          cert.getExtensionValue(Extension.subjectAlternativeName.getId()))
          .map(v -> GeneralNames.getInstance(v).getNames()).orElse(new GeneralName[0]);
    } catch (RuntimeException e) {
      return Optional.of("the subjectAltName of " + name(cert) + " does not decode");
    }
    try {
      validator.checkPermittedDN(subject);
      validator.checkExcludedDN(subject);
      for (RDN rdn : subject.getRDNs(BCStyle.EmailAddress)) {
        String email = ((ASN1String) rdn.getFirst().getValue()).getString();
        check(new GeneralName(GeneralName.rfc822Name, email));
      }
      boolean hasDns = false;
      for (GeneralName alternative : alternatives) {
        hasDns |= alternative.getTagNo() == GeneralName.dNSName;
        check(alternative);
        Optional<GeneralName> mailbox = smtpUtf8AsRfc822(alternative);
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
      return Optional.empty();
    } catch (NameConstraintValidatorException e) {
      return Optional.of("a name of " + name(cert) + " violates the name constraints of its"
          + " issuers: " + e.getMessage());
    } catch (ClassCastException | IllegalArgumentException e) {
      return Optional.of("a name of " + name(cert) + " does not decode: " + e.getMessage());
    }
  }

  private void check(GeneralName n) throws NameConstraintValidatorException {
    validator.checkPermitted(n);
    validator.checkExcluded(n);
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

  private static Optional<NameConstraints> constraints(X509Certificate ca) {
    return Extensions.decodeStrict(ca.getExtensionValue(Extension.nameConstraints.getId()))
        .map(NameConstraints::getInstance);
  }

  /**
   * A permitted or excluded subtree whose base is not a name of its form as RFC 5280 4.2.1.10
   * writes them: a dNSName that is not a host or domain name ({@code .example.com},
   * {@code *.example.com}: the leading period belongs to URI and rfc822Name constraints
   * only), an iPAddress that is not an address and a mask (8 or 32 octets), an rfc822Name
   * with more than one {@code @}. Bouncy Castle and OpenSSL read such a constraint somehow
   * (a leading period as "subdomains only"); what the CA meant is unknown, so the path is
   * refused (x509-limbo rfc5280::nc::invalid-*).
   */
  private static Optional<String> malformedSubtree(NameConstraints nc) {
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
          int length = ASN1OctetString.getInstance(base.getName()).getOctets().length;
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
   *
   * @throws IllegalArgumentException when it is not a string holding an address
   */
  private static Optional<GeneralName> smtpUtf8AsRfc822(GeneralName n) {
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
      throw new IllegalArgumentException("an SmtpUTF8Mailbox that is not a string");
    }
    String mailbox = s.getString();
    int at = mailbox.lastIndexOf('@');
    if (at <= 0 || at == mailbox.length() - 1) {
      throw new IllegalArgumentException("an SmtpUTF8Mailbox that is not an address");
    }
    // IDN.toASCII throws IllegalArgumentException for a domain that has no A-label form.
    String domain = IDN.toASCII(mailbox.substring(at + 1), IDN.USE_STD3_ASCII_RULES);
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

  private static String name(X509Certificate c) {
    return OpenSslNames.formatName(c.getSubjectX500Principal());
  }
}
