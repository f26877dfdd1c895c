package org.sympasmime.pki;

import java.math.BigInteger;
import java.net.IDN;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.CertPolicyId;
import org.bouncycastle.asn1.x509.CertificatePolicies;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.bouncycastle.asn1.x509.OtherName;
import org.bouncycastle.asn1.x509.PolicyConstraints;
import org.bouncycastle.asn1.x509.PolicyInformation;
import org.bouncycastle.asn1.x509.PolicyMappings;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.sympasmime.pki.ChainShape.Chain;
import org.sympasmime.testutil.CertSpec;
import org.sympasmime.testutil.TestCert;
import org.sympasmime.testutil.TestKeys;

/**
 * The catalogue of {@link ChainShape}s: root → intermediate → S/MIME leaf, varied one point at
 * a time. Rules are named {@code area.what}; a pair's shapes are {@code rule:case}.
 */
final class ChainShapes {
  static final String ALICE = "alice@example.org";
  static final ASN1ObjectIdentifier SMTP_UTF8_MAILBOX =
      new ASN1ObjectIdentifier("1.3.6.1.5.5.7.8.9");
  static final ASN1ObjectIdentifier NS_CERT_TYPE =
      new ASN1ObjectIdentifier("2.16.840.1.113730.1.1");
  static final ASN1ObjectIdentifier UNKNOWN = new ASN1ObjectIdentifier("1.3.6.1.4.1.55555.9");
  static final String POLICY_P = "1.3.6.1.4.1.55555.1.1";
  static final String POLICY_Q = "1.3.6.1.4.1.55555.1.2";
  static final String ANY_POLICY = "2.5.29.32.0";
  // Netscape cert type bits, first byte of the BIT STRING (as KeyUsage encodes its bits).
  static final int NS_CLIENT = 0x80;
  static final int NS_SERVER = 0x40;
  static final int NS_SMIME = 0x20;
  static final int NS_OBJSIGN = 0x10;
  static final int NS_SSL_CA = 0x04;
  static final int NS_SMIME_CA = 0x02;

  private final List<ChainShape> shapes = new ArrayList<>();

  private ChainShapes() {}

  static List<ChainShape> all() {
    ChainShapes s = new ChainShapes();
    s.baseline();
    s.nameConstraints();
    s.criticalExtensions();
    s.basicConstraintsAndKeyUsage();
    s.policies();
    s.malformed();
    s.validity();
    s.usage();
    s.algorithms();
    s.issuers();
    s.crossSigned();
    return List.copyOf(s.shapes);
  }

  // ---- building blocks ----

  static CertSpec root() {
    return CertSpec.ca("Matrix Root", TestKeys.rsa("root"));
  }

  static CertSpec inter() {
    return CertSpec.ca("Matrix Intermediate", TestKeys.rsa("int"));
  }

  static CertSpec inter2() {
    return CertSpec.ca("Matrix Intermediate 2", TestKeys.rsa("int2"));
  }

  static CertSpec leaf() {
    return mail(ALICE);
  }

  /** The ordinary leaf with {@code address} in its subject and as its rfc822Name. */
  static CertSpec mail(String address) {
    return CertSpec.leaf("Alice", address, TestKeys.rsa("leaf"));
  }

  /**
   * The root signs itself, each spec below is issued by the one before, the last one signs;
   * the root is the cafile and the message carries the ones between.
   */
  static Chain path(CertSpec root, CertSpec... below) {
    TestCert issuer = root.selfSigned();
    List<TestCert> anchors = List.of(issuer);
    List<X509CertificateHolder> carried = new ArrayList<>();
    for (int i = 0; i < below.length; i++) {
      TestCert c = below[i].issuedBy(issuer);
      if (i < below.length - 1) {
        carried.add(c.holder());
      }
      issuer = c;
    }
    return new Chain(anchors, issuer, carried);
  }

  /** root → intermediate → leaf. */
  static Chain chain(CertSpec root, CertSpec inter, CertSpec leaf) {
    return path(root, inter, leaf);
  }

  static Chain withLeaf(CertSpec leaf) {
    return chain(root(), inter(), leaf);
  }

  static Chain withInter(UnaryOperator<CertSpec> change) {
    return chain(root(), change.apply(inter()), leaf());
  }

  static Chain withRoot(UnaryOperator<CertSpec> change) {
    return chain(change.apply(root()), inter(), leaf());
  }

  private void pair(String rule, String bad, Supplier<Chain> badChain, String ok,
      Supplier<Chain> okChain) {
    shapes.add(new ChainShape(rule + ":" + bad, rule, false, badChain));
    shapes.add(new ChainShape(rule + ":" + ok, rule, true, okChain));
  }

  private void probe(String rule, String name, boolean intended, Supplier<Chain> chain) {
    shapes.add(new ChainShape(rule + ":" + name, rule, intended, chain));
  }

  static Instant days(long n) {
    return Instant.now().plus(Duration.ofDays(n));
  }

  static GeneralName email(String s) {
    return new GeneralName(GeneralName.rfc822Name, s);
  }

  static GeneralName dns(String s) {
    return new GeneralName(GeneralName.dNSName, s);
  }

  /** An address, or an address/prefix for constraints ("192.0.2.0/24", "2001:db8::/32"). */
  static GeneralName ip(String s) {
    return new GeneralName(GeneralName.iPAddress, s);
  }

  static GeneralName dir(X500Name n) {
    return new GeneralName(GeneralName.directoryName, n);
  }

  /** RFC 8398: an internationalized mailbox, UTF-8 in both parts. */
  static GeneralName smtpUtf8(String mailbox) {
    return new GeneralName(GeneralName.otherName,
        new OtherName(SMTP_UTF8_MAILBOX, new DERUTF8String(mailbox)));
  }

  static GeneralSubtree[] subtrees(GeneralName... names) {
    GeneralSubtree[] out = new GeneralSubtree[names.length];
    for (int i = 0; i < names.length; i++) {
      out[i] = new GeneralSubtree(names[i]);
    }
    return out;
  }

  static CertSpec permit(CertSpec ca, GeneralName... names) {
    return ca.with(Extension.nameConstraints, true, new NameConstraints(subtrees(names), null));
  }

  static CertSpec exclude(CertSpec ca, GeneralName... names) {
    return ca.with(Extension.nameConstraints, true, new NameConstraints(null, subtrees(names)));
  }

  static CertSpec san(CertSpec leaf, GeneralName... names) {
    return leaf.with(Extension.subjectAlternativeName, false, new GeneralNames(names));
  }

  /** A leaf whose only address is {@code address} in its subject: no subjectAltName. */
  static CertSpec subjectOnly(String address) {
    return mail(address).without(Extension.subjectAlternativeName);
  }

  /** A leaf with no address but this subjectAltName. */
  static CertSpec sanOnly(GeneralName... names) {
    return san(leaf().subject(CertSpec.name("Chain Matrix", "Alice", null)), names);
  }

  static CertSpec ns(CertSpec c, int bits) {
    // nsCertType is a BIT STRING numbered like keyUsage, so KeyUsage encodes it.
    return c.with(NS_CERT_TYPE, false, new KeyUsage(bits));
  }

  static CertSpec ku(CertSpec c, int bits) {
    return c.with(Extension.keyUsage, true, new KeyUsage(bits));
  }

  static CertSpec eku(CertSpec c, KeyPurposeId... ids) {
    return c.with(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(ids));
  }

  static CertSpec policies(CertSpec c, String... oids) {
    PolicyInformation[] p = new PolicyInformation[oids.length];
    for (int i = 0; i < oids.length; i++) {
      p[i] = new PolicyInformation(new ASN1ObjectIdentifier(oids[i]));
    }
    return c.with(Extension.certificatePolicies, false, new CertificatePolicies(p));
  }

  static CertSpec requireExplicit(CertSpec c, Integer require, Integer inhibitMapping) {
    return c.with(Extension.policyConstraints, true, new PolicyConstraints(
        require == null ? null : BigInteger.valueOf(require),
        inhibitMapping == null ? null : BigInteger.valueOf(inhibitMapping)));
  }

  static CertSpec pathLen(CertSpec ca, int n) {
    return ca.with(Extension.basicConstraints, true, new BasicConstraints(n));
  }

  // ---- the shapes ----

  private void baseline() {
    probe("baseline", "root-int-leaf", true, () -> chain(root(), inter(), leaf()));
    probe("baseline", "root-leaf", true, () -> path(root(), leaf()));
    probe("baseline", "root-int-int-leaf", true, () -> path(root(), inter(), inter2(), leaf()));
    probe("baseline", "six-intermediates", true, () -> path(root(),
        CertSpec.ca("Level 6", TestKeys.rsa("l6")), CertSpec.ca("Level 5", TestKeys.rsa("l5")),
        CertSpec.ca("Level 4", TestKeys.rsa("l4")), CertSpec.ca("Level 3", TestKeys.rsa("l3")),
        CertSpec.ca("Level 2", TestKeys.rsa("l2")), CertSpec.ca("Level 1", TestKeys.rsa("l1")),
        leaf()));
    probe("baseline", "empty-subject-critical-san", true, () -> withLeaf(
        san(leaf().subject(new X500Name(new org.bouncycastle.asn1.x500.RDN[0])), email(ALICE))
            .critical(Extension.subjectAlternativeName, true)));
  }

  private void nameConstraints() {
    // rfc822Name in subjectAltName, the three forms of RFC 5280 4.2.1.10.
    pair("nc.rfc822.host", "other-domain",
        () -> chain(root(), permit(inter(), email("example.org")), mail("alice@example.net")),
        "same-host",
        () -> chain(root(), permit(inter(), email("example.org")), mail("alice@example.org")));
    pair("nc.rfc822.host-excludes-subdomains", "subdomain",
        () -> chain(root(), permit(inter(), email("example.org")),
            mail("alice@lists.example.org")),
        "host", () -> chain(root(), permit(inter(), email("example.org")), mail(ALICE)));
    pair("nc.rfc822.host-case-insensitive", "other-domain",
        () -> chain(root(), permit(inter(), email("EXAMPLE.Org")), mail("alice@example.net")),
        "other-case",
        () -> chain(root(), permit(inter(), email("EXAMPLE.Org")), mail("alice@Example.ORG")));
    pair("nc.rfc822.domain", "the-domain-itself",
        () -> chain(root(), permit(inter(), email(".example.org")), mail(ALICE)),
        "subdomain",
        () -> chain(root(), permit(inter(), email(".example.org")),
            mail("alice@lists.example.org")));
    pair("nc.rfc822.domain-deep", "other-tree",
        () -> chain(root(), permit(inter(), email(".example.org")),
            mail("alice@lists.example.net")),
        "two-levels-down",
        () -> chain(root(), permit(inter(), email(".example.org")),
            mail("alice@a.lists.example.org")));
    pair("nc.rfc822.mailbox", "other-mailbox",
        () -> chain(root(), permit(inter(), email("list@example.org")), mail(ALICE)),
        "same-mailbox",
        () -> chain(root(), permit(inter(), email("list@example.org")),
            mail("list@example.org")));
    pair("nc.rfc822.mailbox-case", "local-part-case",
        () -> chain(root(), permit(inter(), email("list@example.org")),
            mail("List@example.org")),
        "domain-case",
        () -> chain(root(), permit(inter(), email("list@example.org")),
            mail("list@EXAMPLE.org")));
    pair("nc.rfc822.excluded-host", "excluded",
        () -> chain(root(), exclude(inter(), email("example.net")), mail("alice@example.net")),
        "other",
        () -> chain(root(), exclude(inter(), email("example.net")), mail(ALICE)));
    pair("nc.rfc822.excluded-domain", "subdomain",
        () -> chain(root(), exclude(inter(), email(".example.net")),
            mail("alice@lists.example.net")),
        "the-domain-itself",
        () -> chain(root(), exclude(inter(), email(".example.net")),
            mail("alice@example.net")));
    pair("nc.rfc822.excluded-mailbox", "excluded",
        () -> chain(root(), exclude(inter(), email("mallory@example.org")),
            mail("mallory@example.org")),
        "neighbour",
        () -> chain(root(), exclude(inter(), email("mallory@example.org")), mail(ALICE)));
    pair("nc.rfc822.excluded-over-permitted", "excluded-inside-permitted",
        () -> chain(root(), inter().with(Extension.nameConstraints, true, new NameConstraints(
            subtrees(email(".example.org")), subtrees(email("mallory@lists.example.org")))),
            mail("mallory@lists.example.org")),
        "permitted",
        () -> chain(root(), inter().with(Extension.nameConstraints, true, new NameConstraints(
            subtrees(email(".example.org")), subtrees(email("mallory@lists.example.org")))),
            mail("alice@lists.example.org")));
    pair("nc.rfc822.noncritical", "outside",
        () -> chain(root(), permit(inter(), email("example.org"))
            .critical(Extension.nameConstraints, false), mail("alice@example.net")),
        "inside",
        () -> chain(root(), permit(inter(), email("example.org"))
            .critical(Extension.nameConstraints, false), mail(ALICE)));
    probe("nc.rfc822.no-address", "unconstrained-leaf-without-address", true,
        () -> chain(root(), permit(inter(), email("example.org")),
            leaf().subject(CertSpec.name("Chain Matrix", "Alice", null))
                .without(Extension.subjectAlternativeName)));

    // rfc822Name constraints also bind emailAddress in the subject (RFC 5280 4.2.1.10).
    pair("nc.subject-email.permitted", "outside",
        () -> chain(root(), permit(inter(), email("example.org")),
            subjectOnly("alice@example.net")),
        "inside",
        () -> chain(root(), permit(inter(), email("example.org")), subjectOnly(ALICE)));
    pair("nc.subject-email.excluded", "excluded",
        () -> chain(root(), exclude(inter(), email("example.net")),
            subjectOnly("alice@example.net")),
        "other",
        () -> chain(root(), exclude(inter(), email("example.net")), subjectOnly(ALICE)));
    pair("nc.subject-email.besides-san", "subject-outside-san-inside",
        () -> chain(root(), permit(inter(), email("example.org")),
            san(mail("alice@example.net"), email(ALICE))),
        "both-inside",
        () -> chain(root(), permit(inter(), email("example.org")), mail(ALICE)));

    // dNSName.
    pair("nc.dns.permitted", "outside",
        () -> chain(root(), permit(inter(), dns("example.org")),
            san(leaf(), email(ALICE), dns("host.example.net"))),
        "inside",
        () -> chain(root(), permit(inter(), dns("example.org")),
            san(leaf(), email(ALICE), dns("host.example.org"))));
    pair("nc.dns.excluded", "excluded",
        () -> chain(root(), exclude(inter(), dns("example.net")),
            san(leaf(), email(ALICE), dns("host.example.net"))),
        "other",
        () -> chain(root(), exclude(inter(), dns("example.net")),
            san(leaf(), email(ALICE), dns("host.example.org"))));
    pair("nc.dns.other-forms-unconstrained", "dns-outside",
        () -> chain(root(), permit(inter(), dns("example.org")),
            san(mail("alice@example.net"), email("alice@example.net"), dns("www.example.net"))),
        "email-outside-dns-constraint",
        () -> chain(root(), permit(inter(), dns("example.org")), mail("alice@example.net")));
    // A common name that looks like a host name is not a dNSName for RFC 5280 4.2.1.10, but
    // OpenSSL (since 1.1.0) checks it as one when the leaf has no dNSName; we follow, as a
    // verifier of who may post must not be laxer.
    probe("nc.dns.common-name", "cn-host-outside", false,
        () -> chain(root(), permit(inter(), dns("example.org")),
            leaf().subject(CertSpec.name("Chain Matrix", "www.example.net", ALICE))));
    probe("nc.dns.common-name", "cn-host-inside", true,
        () -> chain(root(), permit(inter(), dns("example.org")),
            leaf().subject(CertSpec.name("Chain Matrix", "www.example.org", ALICE))));

    // iPAddress, v4 and v6.
    pair("nc.ipv4.permitted", "outside",
        () -> chain(root(), permit(inter(), ip("192.0.2.0/24")),
            san(leaf(), email(ALICE), ip("198.51.100.7"))),
        "inside",
        () -> chain(root(), permit(inter(), ip("192.0.2.0/24")),
            san(leaf(), email(ALICE), ip("192.0.2.7"))));
    pair("nc.ipv4.excluded", "excluded",
        () -> chain(root(), exclude(inter(), ip("198.51.100.0/24")),
            san(leaf(), email(ALICE), ip("198.51.100.7"))),
        "other",
        () -> chain(root(), exclude(inter(), ip("198.51.100.0/24")),
            san(leaf(), email(ALICE), ip("192.0.2.7"))));
    pair("nc.ipv6.permitted", "outside",
        () -> chain(root(), permit(inter(), ip("2001:db8::/32")),
            san(leaf(), email(ALICE), ip("2001:db9::1"))),
        "inside",
        () -> chain(root(), permit(inter(), ip("2001:db8::/32")),
            san(leaf(), email(ALICE), ip("2001:db8::1"))));
    pair("nc.ipv6.excluded", "excluded",
        () -> chain(root(), exclude(inter(), ip("2001:db8::/32")),
            san(leaf(), email(ALICE), ip("2001:db8::1"))),
        "other",
        () -> chain(root(), exclude(inter(), ip("2001:db8::/32")),
            san(leaf(), email(ALICE), ip("2001:db9::1"))));
    pair("nc.ip.v4-constraint-v6-address", "v6-address",
        () -> chain(root(), permit(inter(), ip("192.0.2.0/24")),
            san(leaf(), email(ALICE), ip("2001:db8::1"))),
        "v4-address",
        () -> chain(root(), permit(inter(), ip("192.0.2.0/24")),
            san(leaf(), email(ALICE), ip("192.0.2.1"))));

    // directoryName: the leaf's subject, and the subjects of the CAs below the constraint.
    X500Name members = CertSpec.name("Chain Matrix", null, null);
    pair("nc.dirname.permitted", "outside",
        () -> chain(root(), permit(inter(), dir(members)),
            leaf().subject(CertSpec.name("Elsewhere", "Alice", ALICE))),
        "inside",
        () -> chain(root(), permit(inter(), dir(members)), leaf()));
    pair("nc.dirname.excluded", "excluded",
        () -> chain(root(), exclude(inter(), dir(CertSpec.name("Chain Matrix", "Mallory", null))),
            leaf().subject(CertSpec.name("Chain Matrix", "Mallory", ALICE))),
        "other",
        () -> chain(root(), exclude(inter(), dir(CertSpec.name("Chain Matrix", "Mallory", null))),
            leaf()));
    pair("nc.dirname.binds-lower-ca", "lower-ca-outside",
        () -> path(root(), permit(inter(), dir(members)),
            inter2().subject(CertSpec.name("Elsewhere", "Matrix Intermediate 2", null)), leaf()),
        "lower-ca-inside",
        () -> path(root(), permit(inter(), dir(members)), inter2(), leaf()));
    X500Name others = CertSpec.name("Members", null, null);
    pair("nc.dirname.not-on-the-ca-itself", "leaf-outside",
        () -> chain(root(), permit(inter(), dir(others)), leaf()),
        "leaf-inside-ca-outside",
        () -> chain(root(), permit(inter(), dir(others)),
            leaf().subject(CertSpec.name("Members", "Alice", ALICE))));

    // SmtpUTF8Mailbox against rfc822Name constraints (RFC 8398 section 6).
    pair("nc.smtputf8.permitted", "outside",
        () -> chain(root(), permit(inter(), email("example.org")),
            sanOnly(smtpUtf8("用户@example.net"))),
        "inside",
        () -> chain(root(), permit(inter(), email("example.org")),
            sanOnly(smtpUtf8("用户@example.org"))));
    pair("nc.smtputf8.excluded", "excluded",
        () -> chain(root(), exclude(inter(), email("example.net")),
            sanOnly(smtpUtf8("用户@example.net"))),
        "other",
        () -> chain(root(), exclude(inter(), email("example.net")),
            sanOnly(smtpUtf8("用户@example.org"))));
    String aLabel = IDN.toASCII("例子.example");
    pair("nc.smtputf8.idn-domain", "other-idn",
        () -> chain(root(), permit(inter(), email(aLabel)),
            sanOnly(smtpUtf8("用户@其他.example"))),
        "same-idn",
        () -> chain(root(), permit(inter(), email(aLabel)),
            sanOnly(smtpUtf8("用户@例子.example"))));
    pair("nc.smtputf8.besides-rfc822", "utf8-outside",
        () -> chain(root(), permit(inter(), email("example.org")),
            san(leaf(), email(ALICE), smtpUtf8("用户@example.net"))),
        "both-inside",
        () -> chain(root(), permit(inter(), email("example.org")),
            san(leaf(), email(ALICE), smtpUtf8("用户@example.org"))));

    // Two levels: constraints intersect; a lower CA cannot widen them.
    pair("nc.two-levels.intersection", "inside-root-outside-int",
        () -> chain(permit(root(), email(".example.org")),
            permit(inter(), email("mail.example.org")), mail("alice@lists.example.org")),
        "inside-both",
        () -> chain(permit(root(), email(".example.org")),
            permit(inter(), email("mail.example.org")), mail("alice@mail.example.org")));
    pair("nc.two-levels.no-widening", "widened-by-int",
        () -> path(root(), permit(inter(), email("example.org")),
            permit(inter2(), email("example.org"), email("example.net")),
            mail("alice@example.net")),
        "inside-both",
        () -> path(root(), permit(inter(), email("example.org")),
            permit(inter2(), email("example.org"), email("example.net")), mail(ALICE)));
    pair("nc.two-levels.excluded-above", "excluded-by-upper",
        () -> path(root(), exclude(inter(), email("mallory@example.org")),
            permit(inter2(), email("example.org")), mail("mallory@example.org")),
        "allowed-by-both",
        () -> path(root(), exclude(inter(), email("mallory@example.org")),
            permit(inter2(), email("example.org")), mail(ALICE)));

    // The constraint on the trust anchor itself.
    pair("nc.on-root.permitted", "outside",
        () -> chain(permit(root(), email("example.org")), inter(), mail("alice@example.net")),
        "inside",
        () -> chain(permit(root(), email("example.org")), inter(), mail(ALICE)));
    pair("nc.on-root.excluded", "excluded",
        () -> chain(exclude(root(), email("example.net")), inter(), mail("alice@example.net")),
        "other",
        () -> chain(exclude(root(), email("example.net")), inter(), mail(ALICE)));
    pair("nc.on-root.dirname", "outside",
        () -> chain(permit(root(), dir(members)), inter(),
            leaf().subject(CertSpec.name("Elsewhere", "Alice", ALICE))),
        "inside",
        () -> chain(permit(root(), dir(members)), inter(), leaf()));
  }

  private void criticalExtensions() {
    DERUTF8String opaque = new DERUTF8String("policy nobody implements");
    pair("critical.unknown.leaf", "critical",
        () -> withLeaf(leaf().with(UNKNOWN, true, opaque)),
        "noncritical", () -> withLeaf(leaf().with(UNKNOWN, false, opaque)));
    pair("critical.unknown.intermediate", "critical",
        () -> withInter(i -> i.with(UNKNOWN, true, opaque)),
        "noncritical", () -> withInter(i -> i.with(UNKNOWN, false, opaque)));
    pair("critical.unknown.root", "critical",
        () -> withRoot(r -> r.with(UNKNOWN, true, opaque)),
        "noncritical", () -> withRoot(r -> r.with(UNKNOWN, false, opaque)));
    // Critical extensions every validator must understand are fine.
    probe("critical.known", "leaf-san", true, () -> withLeaf(
        leaf().critical(Extension.subjectAlternativeName, true)));
    probe("critical.known", "leaf-eku", true, () -> withLeaf(
        leaf().critical(Extension.extendedKeyUsage, true)));
    probe("critical.known", "leaf-basic-constraints", true, () -> withLeaf(
        leaf().critical(Extension.basicConstraints, true)));
    probe("critical.known", "leaf-any-policy", true, () -> withLeaf(
        policies(leaf(), ANY_POLICY).critical(Extension.certificatePolicies, true)));
    probe("critical.known", "leaf-ns-cert-type", true, () -> withLeaf(
        ns(leaf(), NS_SMIME).critical(NS_CERT_TYPE, true)));
    probe("critical.known", "leaf-crl-distribution-points", true, () -> withLeaf(
        leaf().with(Extension.cRLDistributionPoints, true, new CRLDistPoint(
            new DistributionPoint[] {new DistributionPoint(new DistributionPointName(
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier,
                    "http://crl.example.org/int.crl"))), null, null)}))));
    probe("critical.known", "int-policy-constraints", true, () -> withInter(
        i -> requireExplicit(i, null, 5)));
    probe("critical.known", "int-inhibit-any-policy", true, () -> withInter(
        i -> i.with(Extension.inhibitAnyPolicy, true, new ASN1Integer(5))));
    probe("critical.known", "int-name-constraints", true, () -> withInter(
        i -> permit(i, email("example.org"))));
    // RFC 5280 4.2.1.1, 4.2.1.2: CAs must not mark these critical. OpenSSL does not
    // "handle" them, so a critical one is an unhandled critical extension.
    probe("critical.key-ids", "leaf-ski-noncritical", true, () -> withLeaf(
        leaf().with(Extension.subjectKeyIdentifier, false, new DEROctetString(new byte[] {1, 2}))));
    probe("critical.key-ids", "leaf-ski", false, () -> withLeaf(
        leaf().with(Extension.subjectKeyIdentifier, true, new DEROctetString(new byte[] {1, 2}))));
    probe("critical.key-ids", "leaf-aki", false, () -> {
      TestCert r = root().selfSigned();
      TestCert i = inter().issuedBy(r);
      byte[] id = SubjectKeyIdentifier.fromExtensions(i.holder().getExtensions())
          .getKeyIdentifier();
      TestCert l = leaf().with(Extension.authorityKeyIdentifier, true,
          new AuthorityKeyIdentifier(id)).issuedBy(i);
      return new Chain(List.of(r), l, List.of(i.holder()));
    });
  }

  private void basicConstraintsAndKeyUsage() {
    pair("bc.intermediate.missing", "no-basic-constraints",
        () -> withInter(i -> i.without(Extension.basicConstraints)),
        "ca-true", () -> withInter(i -> i));
    pair("bc.intermediate.ca-false", "ca-false",
        () -> withInter(i -> i.with(Extension.basicConstraints, true, new BasicConstraints(false))),
        "ca-true-noncritical",
        () -> withInter(i -> i.with(Extension.basicConstraints, false, new BasicConstraints(true))));
    pair("bc.intermediate.v1", "v1-intermediate",
        () -> chain(root(), inter().v1(), leaf()),
        "v1-root", () -> chain(root().v1(), inter(), leaf()));
    // RFC 5280 6.1 puts no condition on the leaf's cA flag (4.2.1.9 on keyCertSign binds
    // issuing CAs, not verifiers), and OpenSSL signs off on CA leaves.
    probe("bc.leaf.ca-true", "ca-true-without-keycertsign", true,
        () -> withLeaf(leaf().with(Extension.basicConstraints, true, new BasicConstraints(true))));
    probe("bc.leaf.ca-true", "ca-false", true, () -> withLeaf(leaf()));
    probe("bc.leaf.ca-true", "ca-true-with-keycertsign", true, () -> withLeaf(
        ku(leaf().with(Extension.basicConstraints, true, new BasicConstraints(true)),
            KeyUsage.digitalSignature | KeyUsage.keyCertSign)));
    pair("bc.pathlen.intermediate-0", "exceeded",
        () -> path(root(), pathLen(inter(), 0), inter2(), leaf()),
        "satisfied", () -> path(root(), pathLen(inter(), 0), leaf()));
    pair("bc.pathlen.intermediate-1", "exceeded",
        () -> path(root(), pathLen(inter(), 1), inter2(),
            CertSpec.ca("Matrix Intermediate 3", TestKeys.rsa("int3")), leaf()),
        "satisfied", () -> path(root(), pathLen(inter(), 1), inter2(), leaf()));
    pair("bc.pathlen.root-0", "exceeded",
        () -> chain(pathLen(root(), 0), inter(), leaf()),
        "satisfied", () -> path(pathLen(root(), 0), leaf()));
    pair("bc.pathlen.root-1", "exceeded",
        () -> path(pathLen(root(), 1), inter(), inter2(), leaf()),
        "satisfied", () -> path(pathLen(root(), 1), inter(), leaf()));
    // RFC 5280 6.1.4 (l): self-issued certificates (a CA's re-key) do not count.
    pair("bc.pathlen.self-issued", "other-ca-below-0",
        () -> path(root(), pathLen(inter(), 0), inter2(), leaf()),
        "self-issued-below-0",
        () -> path(root(), pathLen(inter(), 0),
            inter().keys(TestKeys.rsa("int-rekeyed")), leaf()));
    pair("ku.intermediate", "no-keycertsign",
        () -> withInter(i -> ku(i, KeyUsage.digitalSignature | KeyUsage.cRLSign)),
        "keycertsign-only", () -> withInter(i -> ku(i, KeyUsage.keyCertSign)));
    probe("ku.intermediate", "absent", true,
        () -> withInter(i -> i.without(Extension.keyUsage)));
    pair("ku.root", "no-keycertsign",
        () -> withRoot(r -> ku(r, KeyUsage.digitalSignature | KeyUsage.cRLSign)),
        "absent", () -> withRoot(r -> r.without(Extension.keyUsage)));
    pair("bc.root.missing", "no-basic-constraints-no-keyusage",
        () -> withRoot(r -> r.without(Extension.basicConstraints).without(Extension.keyUsage)),
        "no-basic-constraints-keycertsign",
        () -> withRoot(r -> r.without(Extension.basicConstraints)));
  }

  private void policies() {
    UnaryOperator<CertSpec> explicit = i -> policies(requireExplicit(i, 0, null), POLICY_P);
    pair("policy.require-explicit.leaf-without-policy", "no-policy",
        () -> chain(root(), explicit.apply(inter()), leaf()),
        "matching-policy",
        () -> chain(root(), explicit.apply(inter()), policies(leaf(), POLICY_P)));
    pair("policy.require-explicit.other-policy", "other-policy",
        () -> chain(root(), explicit.apply(inter()), policies(leaf(), POLICY_Q)),
        "any-policy",
        () -> chain(root(), explicit.apply(inter()), policies(leaf(), ANY_POLICY)));
    probe("policy.no-requirement", "leaf-without-policy", true,
        () -> chain(root(), policies(inter(), POLICY_P), leaf()));
    probe("policy.no-requirement", "leaf-other-policy", true,
        () -> chain(root(), policies(inter(), POLICY_P), policies(leaf(), POLICY_Q)));
    // inter (require explicit, policies any) → inter2 (P, maps P to Q) → leaf (Q).
    CertSpec mapper = policies(inter2(), POLICY_P).with(Extension.policyMappings, true,
        new PolicyMappings(CertPolicyId.getInstance(new ASN1ObjectIdentifier(POLICY_P)),
            CertPolicyId.getInstance(new ASN1ObjectIdentifier(POLICY_Q))));
    pair("policy.inhibit-mapping", "mapping-inhibited",
        () -> path(root(), policies(requireExplicit(inter(), 0, 0), ANY_POLICY), mapper,
            policies(leaf(), POLICY_Q)),
        "mapping-allowed",
        () -> path(root(), policies(requireExplicit(inter(), 0, null), ANY_POLICY), mapper,
            policies(leaf(), POLICY_Q)));
    pair("policy.inhibit-any", "any-inhibited",
        () -> path(root(), policies(requireExplicit(inter(), 0, null), ANY_POLICY)
                .with(Extension.inhibitAnyPolicy, true, new ASN1Integer(0)),
            policies(inter2(), ANY_POLICY), policies(leaf(), POLICY_P)),
        "any-allowed",
        () -> path(root(), policies(requireExplicit(inter(), 0, null), ANY_POLICY),
            policies(inter2(), ANY_POLICY), policies(leaf(), POLICY_P)));
    pair("policy.require-explicit.on-root", "leaf-without-policy",
        () -> chain(policies(requireExplicit(root(), 0, null), POLICY_P),
            policies(inter(), POLICY_P), leaf()),
        "all-with-policy",
        () -> chain(policies(requireExplicit(root(), 0, null), POLICY_P),
            policies(inter(), POLICY_P), policies(leaf(), POLICY_P)));
  }

  private void malformed() {
    // A SEQUENCE announcing 9 bytes of rfc822Name where 5 follow.
    byte[] badSan = {0x30, 0x07, (byte) 0x81, 0x09, 'a', '@', 'b', '.', 'c'};
    pair("malformed.san.leaf", "bad-encoding",
        () -> withLeaf(leaf().withRaw(Extension.subjectAlternativeName, false, badSan)),
        "good-encoding", () -> withLeaf(leaf()));
    // An rfc822Name that is a UTF8String's bytes in an IA5String is still parsable; a
    // GeneralName with an undefined tag is not.
    byte[] badTag = {0x30, 0x04, (byte) 0x89, 0x02, 'x', 'y'};
    pair("malformed.san.unknown-choice", "undefined-generalname-tag",
        () -> withLeaf(leaf().withRaw(Extension.subjectAlternativeName, false, badTag)),
        "good", () -> withLeaf(leaf()));
    byte[] badNc = {0x30, 0x06, (byte) 0xa0, 0x04, 0x30, 0x05, (byte) 0x81, 0x00};
    pair("malformed.name-constraints", "does-not-parse",
        () -> withInter(i -> i.withRaw(Extension.nameConstraints, true, badNc)),
        "parses", () -> withInter(i -> permit(i, email("example.org"))));
    byte[] notAnEku = {0x04, 0x02, 0x01, 0x02};
    pair("malformed.eku.leaf", "octet-string",
        () -> withLeaf(leaf().withRaw(Extension.extendedKeyUsage, false, notAnEku)),
        "good", () -> withLeaf(leaf()));
    byte[] badBc = {0x30, 0x03, 0x01, 0x01};
    pair("malformed.basic-constraints.intermediate", "truncated",
        () -> withInter(i -> i.withRaw(Extension.basicConstraints, true, badBc)),
        "good", () -> withInter(i -> i));
    byte[] badKu = {0x03, 0x05, 0x07};
    pair("malformed.key-usage.leaf", "truncated",
        () -> withLeaf(leaf().withRaw(Extension.keyUsage, true, badKu)),
        "good", () -> withLeaf(leaf()));
    pair("malformed.certificate-policies.leaf", "not-a-sequence",
        () -> withLeaf(leaf().withRaw(Extension.certificatePolicies, false,
            new byte[] {0x02, 0x01, 0x05})),
        "good", () -> withLeaf(policies(leaf(), ANY_POLICY)));
  }

  private void validity() {
    for (String who : List.of("leaf", "intermediate", "root")) {
      UnaryOperator<CertSpec> expired = c -> c.validity(days(-30), days(-1));
      UnaryOperator<CertSpec> lastDay = c -> c.validity(days(-30), days(1));
      UnaryOperator<CertSpec> future = c -> c.validity(days(1), days(30));
      UnaryOperator<CertSpec> firstDay = c -> c.validity(days(-1), days(30));
      pair("validity." + who + ".expired", "expired-yesterday", () -> at(who, expired),
          "expires-tomorrow", () -> at(who, lastDay));
      pair("validity." + who + ".not-yet-valid", "valid-from-tomorrow", () -> at(who, future),
          "valid-since-yesterday", () -> at(who, firstDay));
    }
    probe("validity.nesting", "leaf-outlives-intermediate", true, () -> chain(root(),
        inter().validity(days(-1), days(30)), leaf().validity(days(-1), days(300))));
  }

  private static Chain at(String who, UnaryOperator<CertSpec> change) {
    return switch (who) {
      case "leaf" -> withLeaf(change.apply(leaf()));
      case "intermediate" -> withInter(change);
      default -> withRoot(change);
    };
  }

  private void usage() {
    KeyPurposeId email = KeyPurposeId.id_kp_emailProtection;
    KeyPurposeId server = KeyPurposeId.id_kp_serverAuth;
    KeyPurposeId client = KeyPurposeId.id_kp_clientAuth;
    KeyPurposeId any = KeyPurposeId.anyExtendedKeyUsage;
    pair("eku.leaf.server-only", "server-auth",
        () -> withLeaf(eku(leaf(), server)), "email-protection",
        () -> withLeaf(eku(leaf(), email)));
    pair("eku.leaf.client-only", "client-auth",
        () -> withLeaf(eku(leaf(), client)), "client-and-email",
        () -> withLeaf(eku(leaf(), client, email)));
    pair("eku.leaf.code-signing", "code-signing",
        () -> withLeaf(eku(leaf(), KeyPurposeId.id_kp_codeSigning)), "absent",
        () -> withLeaf(leaf().without(Extension.extendedKeyUsage)));
    // RFC 5280 4.2.1.12 lets applications that need a purpose refuse anyExtendedKeyUsage
    // alone; OpenSSL's S/MIME purpose does, for leaves and CAs.
    probe("eku.leaf.any", "any-only", false, () -> withLeaf(eku(leaf(), any)));
    probe("eku.leaf.any", "any-and-email", true, () -> withLeaf(eku(leaf(), any, email)));
    probe("eku.leaf.server", "server-and-email", true,
        () -> withLeaf(eku(leaf(), server, email)));

    pair("ku.leaf.key-encipherment-only", "key-encipherment",
        () -> withLeaf(ku(leaf(), KeyUsage.keyEncipherment)), "digital-signature",
        () -> withLeaf(ku(leaf(), KeyUsage.digitalSignature)));
    pair("ku.leaf.key-agreement-only", "key-agreement",
        () -> withLeaf(ku(leaf(), KeyUsage.keyAgreement)), "non-repudiation",
        () -> withLeaf(ku(leaf(), KeyUsage.nonRepudiation)));
    pair("ku.leaf.cert-sign-only", "key-cert-sign",
        () -> withLeaf(ku(leaf(), KeyUsage.keyCertSign)), "absent",
        () -> withLeaf(leaf().without(Extension.keyUsage)));
    pair("ku.leaf.data-encipherment-only", "data-encipherment",
        () -> withLeaf(ku(leaf(), KeyUsage.dataEncipherment)), "all-but-cert-sign",
        () -> withLeaf(ku(leaf(), KeyUsage.digitalSignature | KeyUsage.nonRepudiation
            | KeyUsage.keyEncipherment | KeyUsage.dataEncipherment)));

    pair("ns.leaf.server-only", "ssl-server", () -> withLeaf(ns(leaf(), NS_SERVER)),
        "smime", () -> withLeaf(ns(leaf(), NS_SMIME)));
    pair("ns.leaf.object-signing", "object-signing", () -> withLeaf(ns(leaf(), NS_OBJSIGN)),
        "smime-and-client", () -> withLeaf(ns(leaf(), NS_SMIME | NS_CLIENT)));
    pair("ns.leaf.ca-bits", "smime-ca-only", () -> withLeaf(ns(leaf(), NS_SMIME_CA)),
        "ssl-client", () -> withLeaf(ns(leaf(), NS_CLIENT)));

    pair("eku.intermediate", "server-auth-only", () -> withInter(i -> eku(i, server)),
        "email-protection", () -> withInter(i -> eku(i, email)));
    probe("eku.intermediate", "any", false, () -> withInter(i -> eku(i, any)));
    pair("eku.root", "server-auth-only", () -> withRoot(r -> eku(r, server)),
        "email-protection", () -> withRoot(r -> eku(r, email)));
    // OpenSSL's S/MIME CA check looks at the Netscape type of a CA only when it has neither
    // basicConstraints nor keyUsage, which it tolerates on the trust anchor alone. We want
    // basicConstraints (RFC 5280 4.2.1.9), so only the twin that has it is valid for us.
    probe("ns.intermediate", "ssl-ca-only", true, () -> withInter(i -> ns(i, NS_SSL_CA)));
    probe("ns.intermediate", "smime-ca", true, () -> withInter(i -> ns(i, NS_SMIME_CA)));
    pair("ns.root.without-basic-constraints", "ssl-ca-only",
        () -> withRoot(r -> ns(r.without(Extension.basicConstraints)
            .without(Extension.keyUsage), NS_SSL_CA)),
        "smime-ca-with-basic-constraints",
        () -> withRoot(r -> ns(r.without(Extension.keyUsage), NS_SMIME_CA)));
    probe("ns.root.without-basic-constraints", "smime-ca", false,
        () -> withRoot(r -> ns(r.without(Extension.basicConstraints)
            .without(Extension.keyUsage), NS_SMIME_CA)));
  }

  private void algorithms() {
    // Certificate signatures.
    for (String who : List.of("leaf", "intermediate", "root")) {
      pair("alg.md5." + who, "md5-with-rsa", () -> at(who, c -> c.signedWith("MD5withRSA")),
          "sha256-with-rsa", () -> at(who, c -> c.signedWith("SHA256withRSA")));
      probe("alg.sha1." + who, "sha1-with-rsa", true,
          () -> at(who, c -> c.signedWith("SHA1withRSA")));
      probe("alg.rsa-pss." + who, "sha256-pss", true,
          () -> at(who, c -> c.signedWith("SHA256withRSAandMGF1")));
    }
    // Key sizes and types, at each level.
    for (String who : List.of("leaf", "intermediate", "root")) {
      pair("alg.rsa-size." + who, "rsa-512",
          () -> keyAt(who, TestKeys.rsa(who, 512)),
          "rsa-1024", () -> keyAt(who, TestKeys.rsa(who, 1024)));
      pair("alg.ec-curve." + who, "p-192",
          () -> keyAt(who, TestKeys.ec(who, "P-192")),
          "p-224", () -> keyAt(who, TestKeys.ec(who, "P-224")));
      probe("alg.ec-curve." + who, "p-256", true, () -> keyAt(who, TestKeys.ec(who, "P-256")));
      probe("alg.ed25519." + who, "ed25519", true, () -> keyAt(who, TestKeys.ed25519(who)));
      probe("alg.dsa." + who, "dsa-2048", true, () -> keyAt(who, TestKeys.dsa(who)));
    }
    probe("alg.rsa-size.leaf", "rsa-4096", true, () -> keyAt("leaf", TestKeys.rsa("leaf", 4096)));
    probe("alg.ec-curve.root", "p-384", true, () -> keyAt("root", TestKeys.ec("root", "P-384")));
    probe("alg.cms-rsa-pss", "pss-signerinfo", true,
        () -> withLeaf(leaf()).signedWith("SHA256withRSAandMGF1"));
  }

  private static Chain keyAt(String who, KeyPair keys) {
    return at(who, c -> c.keys(keys));
  }

  private void issuers() {
    pair("selfsigned.leaf", "not-in-cafile", () -> {
      TestCert self = leaf().selfSigned();
      return new Chain(List.of(root().selfSigned()), self, List.of());
    }, "in-cafile", () -> {
      TestCert self = leaf().selfSigned();
      return new Chain(List.of(self), self, List.of());
    });
    pair("issuer.wrong-key", "signed-by-other-key", () -> {
      TestCert r = root().selfSigned();
      TestCert i = inter().issuedBy(r);
      TestCert l = leaf().issue(i.subject(), TestKeys.rsa("other").getPrivate(),
          i.keys().getPublic());
      return new Chain(List.of(r), l, List.of(i.holder()));
    }, "signed-by-issuer", () -> withLeaf(leaf()));
    pair("issuer.wrong-name", "issuer-name-differs", () -> {
      TestCert r = root().selfSigned();
      TestCert i = inter().issuedBy(r);
      TestCert l = leaf().issue(CertSpec.name("Chain Matrix", "Someone Else", null),
          i.keys().getPrivate(), i.keys().getPublic());
      return new Chain(List.of(r), l, List.of(i.holder()));
    }, "issuer-name-matches", () -> withLeaf(leaf()));
    pair("issuer.aki-mismatch", "aki-names-other-key", () -> withLeaf(
        leaf().with(Extension.authorityKeyIdentifier, false,
            new AuthorityKeyIdentifier(new byte[] {9, 9, 9, 9, 9, 9, 9, 9}))),
        "aki-absent", () -> withLeaf(leaf().withoutKeyIds()));
    pair("issuer.aki-mismatch.intermediate", "aki-names-other-key", () -> withInter(
        i -> i.with(Extension.authorityKeyIdentifier, false,
            new AuthorityKeyIdentifier(new byte[] {7, 7, 7, 7}))),
        "issuer-without-ski", () -> chain(root(), inter().withoutKeyIds(), leaf()));
    pair("issuer.missing-intermediate", "not-carried", () -> {
      Chain c = withLeaf(leaf());
      return new Chain(c.anchors(), c.signer(), List.of());
    }, "carried", () -> withLeaf(leaf()));
    pair("issuer.loop", "two-cas-certify-each-other", () -> {
      CertSpec x = CertSpec.ca("Loop X", TestKeys.rsa("loop-x"));
      CertSpec y = CertSpec.ca("Loop Y", TestKeys.rsa("loop-y"));
      TestCert ySelf = y.selfSigned();
      TestCert xByY = x.issuedBy(ySelf);
      TestCert yByX = y.issuedBy(xByY);
      TestCert l = leaf().issuedBy(xByY);
      return new Chain(List.of(root().selfSigned()), l, List.of(xByY.holder(), yByX.holder()));
    }, "loop-with-exit-to-root", () -> {
      CertSpec x = CertSpec.ca("Loop X", TestKeys.rsa("loop-x"));
      CertSpec y = CertSpec.ca("Loop Y", TestKeys.rsa("loop-y"));
      TestCert r = root().selfSigned();
      TestCert ySelf = y.selfSigned();
      TestCert xByY = x.issuedBy(ySelf);
      TestCert yByX = y.issuedBy(xByY);
      TestCert yByRoot = y.issuedBy(r);
      TestCert l = leaf().issuedBy(xByY);
      return new Chain(List.of(r), l, List.of(xByY.holder(), yByX.holder(), yByRoot.holder()));
    });
  }

  private void crossSigned() {
    // X is certified by an untrusted root B and by the trusted root; the message carries
    // B's path first.
    pair("cross.alternate-path", "only-untrusted-path", () -> cross(false),
        "both-paths", () -> cross(true));
    // B is a root of its own and cross-certified by the trusted root (a bridge).
    pair("cross.bridge", "b-self-signed-only", () -> bridge(false),
        "b-cross-certified", () -> bridge(true));
    // The intermediate re-issued: the old one expired, the new one current, same key.
    pair("cross.reissued-intermediate", "expired-only", () -> reissued(false),
        "expired-and-current", () -> reissued(true));
  }

  private static Chain cross(boolean withTrustedPath) {
    TestCert a = root().selfSigned();
    TestCert b = CertSpec.ca("Other Root", TestKeys.rsa("root-b")).selfSigned();
    TestCert xByB = inter().issuedBy(b);
    TestCert xByA = inter().issuedBy(a);
    TestCert l = leaf().issuedBy(xByB);
    List<X509CertificateHolder> carried = new ArrayList<>(List.of(xByB.holder(), b.holder()));
    if (withTrustedPath) {
      carried.add(xByA.holder());
    }
    return new Chain(List.of(a), l, carried);
  }

  private static Chain bridge(boolean crossCertified) {
    TestCert a = root().selfSigned();
    CertSpec bSpec = CertSpec.ca("Other Root", TestKeys.rsa("root-b"));
    TestCert bSelf = bSpec.selfSigned();
    TestCert bByA = bSpec.issuedBy(a);
    TestCert x = inter().issuedBy(bSelf);
    TestCert l = leaf().issuedBy(x);
    return new Chain(List.of(a), l, List.of(x.holder(), crossCertified ? bByA.holder()
        : bSelf.holder()));
  }

  private static Chain reissued(boolean withCurrent) {
    TestCert a = root().selfSigned();
    TestCert old = inter().validity(days(-400), days(-2)).issuedBy(a);
    TestCert current = inter().issuedBy(a);
    TestCert l = leaf().issuedBy(current);
    List<X509CertificateHolder> carried = new ArrayList<>(List.of(old.holder()));
    if (withCurrent) {
      carried.add(current.holder());
    }
    return new Chain(List.of(a), l, carried);
  }
}
