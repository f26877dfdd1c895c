package org.sympasmime.pki;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sympasmime.pki.ChainMatrixTest.accept;
import static org.sympasmime.pki.ChainMatrixTest.refuse;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
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
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.sympasmime.pki.ChainMatrixTest.Known;
import org.sympasmime.pki.ChainMatrixTest.Verdict;
import org.sympasmime.testutil.CertSpec;
import org.sympasmime.testutil.Openssl;
import org.sympasmime.testutil.RawCerts;
import org.sympasmime.testutil.SignedMailPki;
import org.sympasmime.testutil.SignedMessages;
import org.sympasmime.testutil.TempDirs;
import org.sympasmime.testutil.TestCert;
import org.sympasmime.testutil.TestKeys;

/**
 * The RFC 5280 path validation cases of C2SP/x509-limbo ({@code limbo/testcases/rfc5280.py},
 * {@code rfc5280/*.py}, {@code pathlen.py}, {@code pathological.py}, {@code invalid.py},
 * {@code smime/*.py}), replayed as S/MIME signatures: each case's chain is rebuilt with Bouncy
 * Castle as limbo builds it (limbo's default root, intermediate and leaf, EC P-256 keys, the
 * same extensions in the same order), the leaf signs a small multipart/signed message carrying
 * limbo's "untrusted intermediates", and {@code Verify} checks it against limbo's trusted
 * certificates as cafile, at limbo's validation time when it sets one. Where limbo's leaf is a
 * TLS server certificate, ours is an S/MIME one: extendedKeyUsage emailProtection instead of
 * serverAuth, and an rfc822Name next to the names the case is about (the dNSNames of a DNS name
 * constraint case stay). {@code openssl cms -verify -purpose smimesign} runs on the same message,
 * for information.
 *
 * <p>Fails on any disagreement with limbo's expected result that {@link #KNOWN} does not list
 * with its reason; prints the table and counts and writes them to
 * {@code target/limbo-replay.txt}. Cases left out are in {@link #SKIPPED}, with why.
 */
class LimboReplayTest {
  static final Map<String, Known> KNOWN = known();

  private static Map<String, Known> known() {
    Map<String, Known> k = new LinkedHashMap<>();
    // RFC 5280 profile MUSTs we do not enforce, on evidence (CertificateProfile.violation
    // enforces the others). Each is a flag or a path building aid the validator does not need:
    // the chain is as constrained with it as without.
    k.put("rfc5280::root-non-critical-basic-constraints", accept("RFC 5280 4.2.1.9 says CAs"
        + " MUST mark basicConstraints critical, but a verifier honours it either way; the NSS"
        + " test CA of the Thunderbird corpus (VerifyCorpusTest) marks it non-critical, and"
        + " OpenSSL and NSS accept it"));
    k.put("rfc5280::ski::root-missing-ski", accept("RFC 5280 4.2.1.2: a self-signed root's"
        + " subjectKeyIdentifier only helps find what it issued (limbo's docstring says as"
        + " much); the NSS test CA of the Thunderbird corpus has none; OpenSSL accepts"));
    String keyIds = "RFC 5280 4.2.1.1 and 4.2.1.2 ask CAs to put key identifiers in what they"
        + " issue, but issuers are found by name and signature without them; OpenSSL accepts;"
        + " CAs without them are in use (the Thunderbird corpus' NSS test certificates, and"
        + " Bouncy Castle's certificate builder adds none by default), and refusing them would"
        + " refuse those sites' every signature and protect nothing";
    k.put("rfc5280::aki::leaf-missing-aki", accept(keyIds));
    k.put("rfc5280::aki::intermediate-missing-aki", accept(keyIds));
    k.put("rfc5280::ski::intermediate-missing-ski", accept(keyIds));
    k.put("rfc5280::nc::permitted-dns-match-noncritical", accept("RFC 5280 4.2.1.10 says"
        + " MUST be critical, but we apply a non-critical nameConstraints exactly like a"
        + " critical one (the leaf here is within it), and the S/MIME Baseline Requirements"
        + " allow it non-critical (7.1.2.2(f), an exception to 4.2.1.10 they state); limbo"
        + " marks the case rfc5280-incompatible-with-webpki;"
        + " OpenSSL accepts"));
    // The certificate signs the message: its keyUsage must allow signatures.
    String signing = "the leaf signs the message, and its keyUsage forbids signatures (RFC"
        + " 5280 4.2.1.3, RFC 8550 4.4.2: digitalSignature or nonRepudiation); limbo only asks"
        + " whether the chain holds for emailProtection. OpenSSL (smimesign) refuses too";
    k.put("smime::ku::key-management-only-rsa", refuse(signing));
    k.put("smime::ku::key-management-only-ec", refuse(signing));
    // S/MIME Baseline Requirements profile (CA/Browser Forum), not RFC 5280 path validation:
    // rules for publicly trusted CAs issuing S/MIME certificates, which OpenSSL does not apply
    // and which private and older CAs Sympa lists trust do not follow.
    String br = "S/MIME Baseline Requirements issuance profile (limbo feature"
        + " pedantic-smime-eku where marked), not RFC 5280 path validation; RFC 5280 and"
        + " OpenSSL accept, and so does ChainMatrixTest on purpose; ";
    k.put("smime::eku::ee-without-eku", accept(br + "BR 7.1.2.3(f); RFC 5280 4.2.1.12 makes"
        + " extendedKeyUsage optional"));
    for (String other : List.of("server-auth", "code-signing", "time-stamping", "any-eku")) {
      k.put("smime::eku::ee-has-" + other, accept(br + "BR 7.1.2.3(f): other purposes next"
          + " to emailProtection (ChainMatrixTest eku.leaf.server, eku.leaf.any accept them)"));
      k.put("smime::eku::intermediate-has-" + other, accept(br + "BR 7.1.2.2(g): a CA's"
          + " extendedKeyUsage must include emailProtection, which it does; multi-purpose"
          + " intermediates are common"));
    }
    k.put("smime::eku::root-has-eku", accept(br + "BR 7.1.2.1(d); the root's extendedKeyUsage"
        + " includes emailProtection"));
    k.put("smime::ku::ee-missing-key-usage", accept(br + "BR 7.1.2.3(e); RFC 5280 4.2.1.3"
        + " makes keyUsage optional for end entities (ChainMatrixTest accepts a leaf without)"));
    k.put("smime::ku::ee-key-usage-not-critical", accept(br + "BR 7.1.2.3(e) says SHOULD be"
        + " critical; RFC 5280 4.2.1.3 says SHOULD too"));
    k.put("smime::ku::intermediate-missing-crl-sign", accept(br + "BR 7.1.2.2(e); cRLSign"
        + " concerns CRLs, and the CA still has keyCertSign"));
    k.put("smime::san::no-san", accept(br + "BR 7.1.2.3(h); the address is in the subject, as"
        + " in older certificates Sympa reads (emailAddress or CN)"));
    k.put("smime::san::san-without-rfc822name", accept(br + "BR 7.1.4.2.1; a certificate"
        + " without an address signs nothing Sympa can attribute: its sender check fails, not"
        + " the path (ChainMatrixTest nc.rfc822.no-address)"));
    k.put("smime::san::san-critical-with-nonempty-subject", accept(br + "BR 7.1.2.3(h) says"
        + " SHOULD NOT; RFC 5280 4.2.1.6 allows a critical subjectAltName"));
    return k;
  }

  /** Limbo cases not replayed, and why. */
  static final Map<String, String> SKIPPED = skipped();

  private static Map<String, String> skipped() {
    Map<String, String> s = new LinkedHashMap<>();
    String peer = "peer-name matching, not path validation: limbo checks the leaf against an"
        + " expected address; smime.verify has no expected name (Sympa compares the sender with"
        + " the certificate's addresses itself)";
    s.put("smime::san::mismatch-rfc822-san", peer);
    s.put("smime::san::mismatch-domain-rfc822-san", peer);
    String dup = "the same chain as the rfc5280::nc:: case of the same name (older limbo kept"
        + " both); replayed once";
    s.put("rfc5280::ca-nameconstraints-*", dup);
    s.put("pathlen::ee-with-intermediate-pathlen-{0,1,2} (ee_pathlen.py)", "the same chains as"
        + " pathlen::ee-with-intermediate-pathlen-{0,1,2}; replayed once");
    return s;
  }

  // ---- limbo's builder, with Bouncy Castle ----

  static final Instant EPOCH = Instant.parse("1970-01-01T00:00:00Z");
  static final Instant TORMENT = Instant.parse("2950-01-01T00:00:00Z");
  static final String EMAIL = "user@example.com";
  static final ASN1ObjectIdentifier UNKNOWN_EXT = new ASN1ObjectIdentifier(
      "1.3.6.1.4.1.55738.666.1");
  static final ASN1ObjectIdentifier PRIVATE_OTHERNAME = new ASN1ObjectIdentifier(
      "1.3.6.1.4.1.55738.666.3");
  private static final AtomicInteger KEYS = new AtomicInteger();
  /** Marks "limbo's default" for an extension; null means "left out" (limbo's None). */
  static final CertSpec.Ext DEFAULT = new CertSpec.Ext(new ASN1ObjectIdentifier("0.0"), false,
      new byte[0]);

  static KeyPair freshKey() {
    return TestKeys.ec("limbo-" + KEYS.incrementAndGet(), "P-256");
  }

  static X500Name name(String rfc4514) {
    return new X500Name(rfc4514);
  }

  static X500Name emptyName() {
    return new X500Name(new RDN[0]);
  }

  static CertSpec.Ext ext(ASN1ObjectIdentifier oid, boolean critical, ASN1Encodable value) {
    try {
      return new CertSpec.Ext(oid, critical, value.toASN1Primitive().getEncoded(
          ASN1Encoding.DER));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static CertSpec.Ext raw(ASN1ObjectIdentifier oid, boolean critical, byte[] value) {
    return new CertSpec.Ext(oid, critical, value);
  }

  static GeneralName dns(String s) {
    return ChainShapes.dns(s);
  }

  static GeneralName ip(String s) {
    return ChainShapes.ip(s);
  }

  static GeneralName email(String s) {
    return ChainShapes.email(s);
  }

  static GeneralName dir(String s) {
    return ChainShapes.dir(name(s));
  }

  static GeneralName privateOtherName() {
    return new GeneralName(GeneralName.otherName,
        new OtherName(PRIVATE_OTHERNAME, DERNull.INSTANCE));
  }

  /** A subjectAltName with exactly these names. */
  static CertSpec.Ext sanExact(boolean critical, GeneralName... names) {
    return ext(Extension.subjectAlternativeName, critical, new GeneralNames(names));
  }

  /**
   * The leaf's subjectAltName for an S/MIME replay: the case's names, after {@link #EMAIL}
   * unless the case has rfc822Names of its own.
   */
  static CertSpec.Ext san(GeneralName... names) {
    List<GeneralName> all = new ArrayList<>();
    boolean hasEmail = false;
    for (GeneralName n : names) {
      hasEmail |= n.getTagNo() == GeneralName.rfc822Name;
    }
    if (!hasEmail) {
      all.add(email(EMAIL));
    }
    all.addAll(List.of(names));
    return sanExact(false, all.toArray(GeneralName[]::new));
  }

  static CertSpec.Ext nc(boolean critical, GeneralName[] permitted, GeneralName[] excluded) {
    return ext(Extension.nameConstraints, critical,
        new NameConstraints(subtrees(permitted), subtrees(excluded)));
  }

  static CertSpec.Ext permit(GeneralName... names) {
    return nc(true, names, null);
  }

  static CertSpec.Ext exclude(GeneralName... names) {
    return nc(true, null, names);
  }

  static GeneralName[] names(GeneralName... n) {
    return n;
  }

  private static GeneralSubtree[] subtrees(GeneralName[] names) {
    return names == null ? null : ChainShapes.subtrees(names);
  }

  static CertSpec.Ext ku(boolean critical, int bits) {
    return ext(Extension.keyUsage, critical, new KeyUsage(bits));
  }

  static CertSpec.Ext eku(KeyPurposeId... ids) {
    return ext(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(ids));
  }

  static CertSpec.Ext basic(boolean critical, boolean ca) {
    return ext(Extension.basicConstraints, critical, new BasicConstraints(ca));
  }

  static CertSpec.Ext unknownCritical() {
    return raw(UNKNOWN_EXT, true, new byte[0]);
  }

  static CertSpec.Ext skiOf(PublicKey key, boolean critical) {
    try {
      return ext(Extension.subjectKeyIdentifier, critical,
          new JcaX509ExtensionUtils().createSubjectKeyIdentifier(key));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static CertSpec.Ext akiOf(PublicKey key, boolean critical) {
    try {
      return ext(Extension.authorityKeyIdentifier, critical,
          new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(key));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** limbo's {@code root_ca} and {@code intermediate_ca}. */
  static final class Ca {
    private final TestCert parent;
    X500Name issuer;
    X500Name subject;
    Instant notBefore = EPOCH;
    Instant notAfter = TORMENT;
    KeyPair key;
    Integer pathlen;
    CertSpec.Ext basicConstraints = DEFAULT;
    CertSpec.Ext keyUsage = ku(false, KeyUsage.keyCertSign);
    CertSpec.Ext san = DEFAULT;
    CertSpec.Ext aki;
    CertSpec.Ext ski = DEFAULT;
    CertSpec.Ext nameConstraints;
    CertSpec.Ext extra;

    private Ca(TestCert parent) {
      this.parent = parent;
      if (parent != null) {
        aki = DEFAULT;
      }
    }

    Ca issuer(X500Name n) {
      issuer = n;
      return this;
    }

    Ca subject(X500Name n) {
      subject = n;
      return this;
    }

    Ca validity(Instant from, Instant to) {
      notBefore = from;
      notAfter = to;
      return this;
    }

    Ca key(KeyPair k) {
      key = k;
      return this;
    }

    Ca pathlen(int n) {
      pathlen = n;
      return this;
    }

    Ca basicConstraints(CertSpec.Ext e) {
      basicConstraints = e;
      return this;
    }

    Ca keyUsage(CertSpec.Ext e) {
      keyUsage = e;
      return this;
    }

    Ca san(CertSpec.Ext e) {
      san = e;
      return this;
    }

    Ca aki(CertSpec.Ext e) {
      aki = e;
      return this;
    }

    Ca ski(CertSpec.Ext e) {
      ski = e;
      return this;
    }

    Ca nc(CertSpec.Ext e) {
      nameConstraints = e;
      return this;
    }

    Ca extra(CertSpec.Ext e) {
      extra = e;
      return this;
    }

    TestCert build() {
      KeyPair k = key != null ? key : freshKey();
      X500Name iss = issuer != null ? issuer
          : parent != null ? parent.subject() : name("CN=x509-limbo-root");
      X500Name subj = subject != null ? subject : parent == null ? iss
          : name("CN=x509-limbo-intermediate-pathlen-" + (pathlen == null ? "None" : pathlen)
              + ",OU=" + parent.holder().getSerialNumber());
      List<CertSpec.Ext> exts = new ArrayList<>();
      add(exts, basicConstraints, () -> ext(Extension.basicConstraints, true,
          pathlen == null ? new BasicConstraints(true) : new BasicConstraints(pathlen)));
      add(exts, keyUsage, null);
      add(exts, san, () -> sanExact(false, dns("example.com")));
      add(exts, aki, () -> parentSki().orElseGet(() -> akiOf(k.getPublic(), false)));
      add(exts, ski, () -> skiOf(k.getPublic(), false));
      add(exts, nameConstraints, null);
      add(exts, extra, null);
      CertSpec spec = new CertSpec(subj, k, notBefore, notAfter, exts, Optional.empty(),
          false, false);
      if (parent == null) {
        return spec.issue(iss, k.getPrivate(), k.getPublic());
      }
      return spec.issue(iss, parent.keys().getPrivate(), parent.keys().getPublic());
    }

    /** limbo's default AKI of an intermediate: the parent's subjectKeyIdentifier. */
    private Optional<CertSpec.Ext> parentSki() {
      Extension e = parent.holder().getExtension(Extension.subjectKeyIdentifier);
      if (e == null) {
        return Optional.empty();
      }
      byte[] id = ASN1OctetString.getInstance(e.getParsedValue()).getOctets();
      return Optional.of(ext(Extension.authorityKeyIdentifier, false,
          new AuthorityKeyIdentifier(id)));
    }
  }

  static void add(List<CertSpec.Ext> exts, CertSpec.Ext e, Supplier<CertSpec.Ext> dflt) {
    if (e == null) {
      return;
    }
    exts.add(e == DEFAULT ? dflt.get() : e);
  }

  static Ca root() {
    return new Ca(null);
  }

  static Ca inter(TestCert parent) {
    return new Ca(parent);
  }

  /** limbo's {@code leaf_cert}, as an S/MIME signer. */
  static final class Leaf {
    private final TestCert parent;
    X500Name issuer;
    X500Name subject = name("CN=example.com");
    Instant notBefore = EPOCH;
    Instant notAfter = TORMENT;
    KeyPair key;
    CertSpec.Ext basicConstraints;
    CertSpec.Ext aki = DEFAULT;
    CertSpec.Ext keyUsage = ku(false, KeyUsage.digitalSignature);
    CertSpec.Ext eku = LimboReplayTest.eku(KeyPurposeId.id_kp_emailProtection);
    CertSpec.Ext san = DEFAULT;
    CertSpec.Ext extra;

    private Leaf(TestCert parent) {
      this.parent = parent;
    }

    Leaf issuer(X500Name n) {
      issuer = n;
      return this;
    }

    Leaf subject(X500Name n) {
      subject = n;
      return this;
    }

    Leaf validity(Instant from, Instant to) {
      notBefore = from;
      notAfter = to;
      return this;
    }

    Leaf key(KeyPair k) {
      key = k;
      return this;
    }

    Leaf basicConstraints(CertSpec.Ext e) {
      basicConstraints = e;
      return this;
    }

    Leaf aki(CertSpec.Ext e) {
      aki = e;
      return this;
    }

    Leaf keyUsage(CertSpec.Ext e) {
      keyUsage = e;
      return this;
    }

    Leaf eku(CertSpec.Ext e) {
      eku = e;
      return this;
    }

    Leaf san(CertSpec.Ext e) {
      san = e;
      return this;
    }

    Leaf extra(CertSpec.Ext e) {
      extra = e;
      return this;
    }

    TestCert build() {
      KeyPair k = key != null ? key : freshKey();
      List<CertSpec.Ext> exts = new ArrayList<>();
      exts.add(skiOf(k.getPublic(), false));
      add(exts, basicConstraints, null);
      add(exts, aki, () -> akiOf(parent.keys().getPublic(), false));
      add(exts, keyUsage, null);
      add(exts, eku, null);
      add(exts, san, () -> LimboReplayTest.san(dns("example.com")));
      add(exts, extra, null);
      CertSpec spec = new CertSpec(subject, k, notBefore, notAfter, exts, Optional.empty(),
          false, false);
      return spec.issue(issuer != null ? issuer : parent.subject(),
          parent.keys().getPrivate(), parent.keys().getPublic());
    }
  }

  static Leaf leaf(TestCert parent) {
    return new Leaf(parent);
  }

  // ---- cases ----

  /**
   * One replayed chain.
   *
   * @param rawLeaf when present, the leaf's certificate as the message carries it instead of
   *     {@code leaf}'s (one Bouncy Castle cannot hold: an extension twice)
   */
  record Replay(List<TestCert> trusted, TestCert leaf, List<TestCert> untrusted,
      Optional<Instant> at, Optional<byte[]> rawLeaf, List<byte[]> rawTrusted) {
    Replay(List<TestCert> trusted, TestCert leaf, List<TestCert> untrusted,
        Optional<Instant> at, Optional<byte[]> rawLeaf) {
      this(trusted, leaf, untrusted, at, rawLeaf, List.of());
    }

    Replay at(Instant t) {
      return new Replay(trusted, leaf, untrusted, Optional.of(t), rawLeaf, rawTrusted);
    }

    /** Trusting only {@code der}, a root Bouncy Castle cannot hold, instead. */
    Replay trustingRaw(byte[] der) {
      return new Replay(List.of(), leaf, untrusted, at, rawLeaf, List.of(der));
    }
  }

  static Replay chain(List<TestCert> trusted, List<TestCert> untrusted, TestCert leaf) {
    return new Replay(trusted, leaf, untrusted, Optional.empty(), Optional.empty());
  }

  static Replay direct(TestCert root, TestCert leaf) {
    return chain(List.of(root), List.of(), leaf);
  }

  static Replay via(TestCert root, TestCert ica, TestCert leaf) {
    return chain(List.of(root), List.of(ica), leaf);
  }

  record Case(String id, boolean succeeds, Supplier<Replay> build) {}

  private final List<Case> cases = new ArrayList<>();

  private void ok(String id, Supplier<Replay> r) {
    cases.add(new Case(id, true, r));
  }

  private void bad(String id, Supplier<Replay> r) {
    cases.add(new Case(id, false, r));
  }

  static List<Case> all() {
    LimboReplayTest t = new LimboReplayTest();
    t.rfc5280Cases();
    t.akiCases();
    t.skiCases();
    t.sanCases();
    t.serialCases();
    t.validityCases();
    t.ekuCases();
    t.pcCases();
    t.nameConstraintsCases();
    t.pathlenCases();
    t.pathologicalCases();
    t.invalidCases();
    t.smimeCases();
    return List.copyOf(t.cases);
  }

  private void rfc5280Cases() {
    bad("rfc5280::empty-issuer", () -> {
      // Bouncy Castle will neither issue nor hold a certificate with an empty issuer: the root
      // is issued under a placeholder, then its issuer field emptied and signed again, and
      // goes into the cafile as raw DER.
      TestCert made = root().issuer(name("CN=placeholder")).subject(name("CN=empty-issuer"))
          .build();
      byte[] root = RawCerts.resignedDer(made, made.keys().getPrivate(), "SHA256withECDSA",
          RawCerts.field(RawCerts.ISSUER, emptyName()));
      return direct(made, leaf(made).build()).trustingRaw(root);
    });
    bad("rfc5280::ca-empty-subject", () -> {
      // As above, with the root's subject emptied too, and so the leaf's issuer, which the
      // message carries as raw DER (its SignerInfo still names the placeholder issuer).
      TestCert made = root().subject(name("CN=placeholder")).build();
      java.util.function.UnaryOperator<List<ASN1Encodable>> empty = f -> {
        f.set(RawCerts.ISSUER, emptyName());
        f.set(RawCerts.SUBJECT, emptyName());
        return f;
      };
      byte[] root = RawCerts.resignedDer(made, made.keys().getPrivate(), "SHA256withECDSA",
          empty);
      TestCert leaf = leaf(made).build();
      byte[] rawLeaf = RawCerts.resignedDer(leaf, made.keys().getPrivate(), "SHA256withECDSA",
          RawCerts.field(RawCerts.ISSUER, emptyName()));
      return new Replay(List.of(), leaf, List.of(), Optional.empty(), Optional.of(rawLeaf),
          List.of(root));
    });
    bad("rfc5280::unknown-critical-extension-ee", () -> {
      TestCert root = root().build();
      return direct(root, leaf(root).extra(unknownCritical()).build());
    });
    bad("rfc5280::unknown-critical-extension-root", () -> {
      TestCert root = root().extra(unknownCritical()).build();
      return direct(root, leaf(root).build());
    });
    bad("rfc5280::unknown-critical-extension-intermediate", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).pathlen(0).extra(unknownCritical()).build();
      return via(root, ica, leaf(ica).build());
    });
    bad("rfc5280::chain-untrusted-root", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).pathlen(0).build();
      TestCert leaf = leaf(ica).build();
      TestCert unrelated = root().issuer(name("CN=x509-limbo-unrelated-root")).build();
      return chain(List.of(unrelated), List.of(root, ica), leaf);
    });
    bad("rfc5280::intermediate-ca-without-ca-bit", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).basicConstraints(basic(true, false)).build();
      return via(root, ica, leaf(ica).build());
    });
    bad("rfc5280::intermediate-ca-missing-basic-constraints", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).basicConstraints(null).build();
      // limbo does not even hand the ICA over; it is carried here, which is harder.
      return via(root, ica, leaf(ica).build());
    });
    bad("rfc5280::root-missing-basic-constraints", () -> {
      TestCert root = root().basicConstraints(null).build();
      return direct(root, leaf(root).build());
    });
    bad("rfc5280::root-non-critical-basic-constraints", () -> {
      TestCert root = root().basicConstraints(basic(false, true)).build();
      return direct(root, leaf(root).build());
    });
    bad("rfc5280::root-inconsistent-ca-extensions", () -> {
      TestCert root = root().keyUsage(ku(false, 0)).build();
      return direct(root, leaf(root).build());
    });
    bad("rfc5280::ica-ku-keycertsign", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).pathlen(0).keyUsage(ku(false, 0)).build();
      return via(root, ica, leaf(ica).build());
    });
    bad("rfc5280::leaf-ku-keycertsign", () -> {
      TestCert root = root().build();
      return direct(root, leaf(root).basicConstraints(basic(true, false))
          .keyUsage(ku(false, KeyUsage.digitalSignature | KeyUsage.keyCertSign)).build());
    });
    ok("rfc5280::ee-aia", () -> {
      TestCert root = root().build();
      return direct(root, leaf(root).extra(aia(false)).build());
    });
    bad("rfc5280::ee-critical-aia-invalid", () -> {
      TestCert root = root().build();
      return direct(root, leaf(root).extra(aia(true)).build());
    });
    bad("rfc5280::duplicate-extensions", () -> {
      TestCert root = root().build();
      TestCert leaf = leaf(root).build();
      // The subjectAltName (the last extension) twice.
      int san = leaf.holder().getExtensions().getExtensionOIDs().length - 1;
      byte[] twice = raw(leaf, root, RawCerts.duplicateExtension(san));
      return new Replay(List.of(root), leaf, List.of(), Optional.empty(), Optional.of(twice));
    });
    ok("rfc5280::no-keyusage", () -> {
      TestCert root = root().build();
      return direct(root, leaf(root).keyUsage(null).build());
    });
    ok("rfc5280::no-basicconstraints", () -> {
      TestCert root = root().build();
      return direct(root, leaf(root).basicConstraints(null).build());
    });
    bad("rfc5280::mismatching-signature-algorithm", () -> {
      // limbo uses a saved chain whose root's outer signatureAlgorithm differs from its
      // TBSCertificate's; the same defect on a root of our own.
      TestCert root = root().build();
      TestCert leaf = leaf(root).build();
      TestCert bent = RawCerts.withAlgorithm(root, new org.bouncycastle.asn1.x509
          .AlgorithmIdentifier(org.bouncycastle.asn1.x9.X9ObjectIdentifiers.ecdsa_with_SHA384));
      return direct(bent, leaf);
    });
    bad("rfc5280::malformed-subject-alternative-name-root", () -> {
      TestCert root = root().san(raw(Extension.subjectAlternativeName, false,
          "example.com".getBytes(java.nio.charset.StandardCharsets.US_ASCII))).build();
      return direct(root, leaf(root).build());
    });
  }

  static CertSpec.Ext aia(boolean critical) {
    return ext(Extension.authorityInfoAccess, critical, new AuthorityInformationAccess(
        new AccessDescription(AccessDescription.id_ad_caIssuers, dns("example.com"))));
  }

  /** {@code leaf} changed by {@code change} and signed again by {@code issuer}: raw DER. */
  static byte[] raw(TestCert leaf, TestCert issuer,
      java.util.function.UnaryOperator<List<ASN1Encodable>> change) {
    return RawCerts.resignedDer(leaf, issuer.keys().getPrivate(), "SHA256withECDSA", change);
  }

  private void akiCases() {
    bad("rfc5280::aki::critical-aki", () -> {
      KeyPair k = freshKey();
      TestCert root = root().key(k).aki(akiOf(k.getPublic(), true)).build();
      return direct(root, leaf(root).build());
    });
    bad("rfc5280::aki::leaf-missing-aki", () -> {
      TestCert root = root().build();
      return direct(root, leaf(root).aki(null).build());
    });
    bad("rfc5280::aki::intermediate-missing-aki", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).pathlen(0).aki(null).build();
      return via(root, ica, leaf(ica).build());
    });
    ok("rfc5280::aki::self-signed-root-missing-aki", () -> {
      TestCert root = root().aki(null).build();
      return direct(root, leaf(root).build());
    });
    bad("rfc5280::aki::cross-signed-root-missing-aki", () -> {
      TestCert xsigner = root().build();
      TestCert root = inter(xsigner).pathlen(0).aki(null).build();
      return direct(root, leaf(root).build());
    });
  }

  private void skiCases() {
    bad("rfc5280::ski::critical-ski", () -> {
      KeyPair k = freshKey();
      TestCert root = root().key(k).ski(skiOf(k.getPublic(), true)).build();
      return direct(root, leaf(root).build());
    });
    bad("rfc5280::ski::root-missing-ski", () -> {
      TestCert root = root().ski(null).build();
      return direct(root, leaf(root).build());
    });
    bad("rfc5280::ski::intermediate-missing-ski", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).ski(null).build();
      return via(root, ica, leaf(ica).build());
    });
  }

  private void sanCases() {
    bad("rfc5280::san::malformed", () -> {
      TestCert root = root().build();
      return direct(root, leaf(root).san(raw(Extension.subjectAlternativeName, false,
          "example.com".getBytes(java.nio.charset.StandardCharsets.US_ASCII))).build());
    });
    bad("rfc5280::san::noncritical-with-empty-subject", () -> {
      TestCert root = root().build();
      return direct(root, leaf(root).subject(emptyName()).san(san(dns("example.com")))
          .build());
    });
  }

  private void serialCases() {
    bad("rfc5280::serial::serial-number-too-long", () -> {
      TestCert root = root().build();
      byte[] b = new byte[22];
      new java.util.Random(22).nextBytes(b);
      b[0] |= 0x40;
      return rawLeafCase(root, RawCerts.serial(new BigInteger(1, b)));
    });
    bad("rfc5280::serial::serial-number-zero",
        () -> rawLeafCase(root().build(), RawCerts.serial(BigInteger.ZERO)));
    bad("rfc5280::serial::serial-number-negative", () -> rawLeafCase(root().build(),
        RawCerts.serial(BigInteger.valueOf(-0x2f1c3a5b7dL))));
  }

  /** root → a leaf changed by {@code change} (its serial number) and signed again. */
  private static Replay rawLeafCase(TestCert root,
      java.util.function.UnaryOperator<List<ASN1Encodable>> change) {
    return direct(root, RawCerts.resign(leaf(root).build(), root.keys().getPrivate(),
        "SHA256withECDSA", change));
  }

  private void validityCases() {
    Instant y2016 = Instant.parse("2016-01-01T00:00:00Z");
    Instant y2018 = Instant.parse("2018-01-01T00:00:00Z");
    Instant y2020 = Instant.parse("2020-01-01T00:00:00Z");
    Instant y2021 = Instant.parse("2021-01-01T00:00:00Z");
    Instant y2022 = Instant.parse("2022-01-01T00:00:00Z");
    Instant y2023 = Instant.parse("2023-01-01T00:00:00Z");
    Instant y2026 = Instant.parse("2026-01-01T00:00:00Z");
    bad("rfc5280::validity::expired-root", () -> {
      TestCert root = root().validity(y2016, y2020).build();
      TestCert ica = inter(root).validity(y2016, y2026).build();
      return via(root, ica, leaf(ica).validity(y2018, y2023).build()).at(y2022);
    });
    bad("rfc5280::validity::expired-intermediate", () -> {
      TestCert root = root().validity(y2016, y2026).build();
      TestCert ica = inter(root).validity(y2016, y2020).build();
      return via(root, ica, leaf(ica).validity(y2018, y2023).build()).at(y2022);
    });
    bad("rfc5280::validity::expired-leaf", () -> {
      TestCert root = root().validity(y2016, y2026).build();
      TestCert ica = inter(root).validity(y2016, y2026).build();
      return via(root, ica, leaf(ica).validity(y2018, y2021).build()).at(y2022);
    });
    Instant nb = Instant.parse("2024-03-01T00:00:00Z");
    Instant na = Instant.parse("2024-04-01T00:00:00Z");
    ok("rfc5280::validity::notbefore-exact", () -> window(nb, na).at(nb));
    bad("rfc5280::validity::notbefore-fractional", () -> window(nb.plusSeconds(1), na)
        .at(nb.plusSeconds(1).minusMillis(1)));
    ok("rfc5280::validity::notafter-exact", () -> window(nb, na).at(na));
    ok("rfc5280::validity::notafter-fractional", () -> window(nb, na).at(na.plusMillis(5)));
  }

  private static Replay window(Instant nb, Instant na) {
    TestCert root = root().validity(nb, na).build();
    TestCert ica = inter(root).validity(nb, na).build();
    return via(root, ica, leaf(ica).validity(nb, na).build());
  }

  private void ekuCases() {
    bad("rfc5280::eku::ee-wrong-eku", () -> {
      // limbo: clientAuth where serverAuth is expected; here: where emailProtection is.
      TestCert root = root().build();
      return direct(root, leaf(root).eku(eku(KeyPurposeId.id_kp_clientAuth)).build());
    });
    ok("rfc5280::eku::ee-without-eku", () -> {
      TestCert root = root().build();
      return direct(root, leaf(root).eku(null).build());
    });
  }

  private void pcCases() {
    bad("rfc5280::pc::ica-noncritical-pc", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).extra(ext(Extension.policyConstraints, false,
          new PolicyConstraints(BigInteger.valueOf(3), null))).build();
      return via(root, ica, leaf(ica).build());
    });
  }

  private void nameConstraintsCases() {
    bad("rfc5280::nc::permitted-dns-mismatch", () -> {
      TestCert root = root().nc(permit(dns("example.com"))).build();
      return direct(root, leaf(root).san(san(dns("not-example.com"))).build());
    });
    bad("rfc5280::nc::excluded-dns-match", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).nc(exclude(dns("example.com"))).build();
      return via(root, ica, leaf(ica).san(san(dns("example.com"))).build());
    });
    ok("rfc5280::nc::permitted-dns-match", () -> {
      TestCert root = root().nc(permit(dns("example.com"))).build();
      return direct(root, leaf(root).san(san(dns("example.com"))).build());
    });
    bad("rfc5280::nc::permitted-dns-match-noncritical", () -> {
      TestCert root = root().nc(nc(false, names(dns("example.com")), null)).build();
      return direct(root, leaf(root).san(san(dns("example.com"))).build());
    });
    ok("rfc5280::nc::permitted-dns-match-more", () -> {
      TestCert root = root().nc(permit(dns("example.com"))).build();
      return direct(root, leaf(root).san(san(dns("foo.bar.example.com"))).build());
    });
    bad("rfc5280::nc::excluded-dns-match-second", () -> {
      TestCert root = root().nc(exclude(dns("not-allowed.example.com"))).build();
      return direct(root, leaf(root).san(san(dns("example.com"),
          dns("not-allowed.example.com"))).build());
    });
    bad("rfc5280::nc::permitted-ip-mismatch", () -> {
      TestCert root = root().nc(permit(ip("192.0.2.0/24"))).build();
      return direct(root, leaf(root).san(san(ip("192.0.3.1"))).build());
    });
    bad("rfc5280::nc::excluded-ipv4-match", () -> {
      TestCert root = root().nc(exclude(ip("192.0.2.0/24"))).build();
      return direct(root, leaf(root).san(san(ip("192.0.2.1"))).build());
    });
    bad("rfc5280::nc::excluded-ipv6-match", () -> {
      TestCert root = root().nc(exclude(ip("::1/128"))).build();
      return direct(root, leaf(root).san(san(ip("::1"))).build());
    });
    ok("rfc5280::nc::permitted-ipv4-match", () -> {
      TestCert root = root().nc(permit(ip("192.0.2.0/24"))).build();
      return direct(root, leaf(root).san(san(ip("192.0.2.1"))).build());
    });
    ok("rfc5280::nc::permitted-ipv6-match", () -> {
      TestCert root = root().nc(permit(ip("::1/128"))).build();
      return direct(root, leaf(root).san(san(ip("::1"))).build());
    });
    bad("rfc5280::nc::permitted-dn-mismatch", () -> {
      TestCert root = root().nc(permit(dir("CN=foo"))).build();
      return direct(root, leaf(root).subject(name("CN=not-foo"))
          .san(san(dir("CN=not-foo"))).build());
    });
    bad("rfc5280::nc::excluded-dn-match", () -> {
      TestCert root = root().nc(exclude(dir("CN=foo"))).build();
      return direct(root, leaf(root).subject(name("CN=foo")).san(san(dir("CN=foo"))).build());
    });
    ok("rfc5280::nc::permitted-dn-match", () -> {
      TestCert root = root().nc(permit(dir("CN=foo"))).build();
      return direct(root, leaf(root).subject(name("CN=foo")).san(san(dir("CN=foo"))).build());
    });
    bad("rfc5280::nc::permitted-dn-match-subject-san-mismatch", () -> {
      TestCert root = root().nc(permit(dir("CN=foo"))).build();
      return direct(root, leaf(root).subject(name("CN=not-foo")).san(san(dir("CN=foo")))
          .build());
    });
    bad("rfc5280::nc::excluded-dn-match-sub-mismatch", () -> {
      TestCert root = root().nc(exclude(dir("CN=foo"))).build();
      return direct(root, leaf(root).subject(name("CN=foo")).san(san(dir("CN=not-foo")))
          .build());
    });
    ok("rfc5280::nc::permitted-self-issued", () -> {
      X500Name n = name("CN=not-example.com");
      TestCert root = root().issuer(n).subject(n).san(sanExact(false, dns("not-example.com")))
          .nc(permit(dns("example.com"))).build();
      TestCert ica = inter(root).issuer(n).subject(n)
          .san(sanExact(false, dns("not-example.com"))).build();
      return via(root, ica, leaf(ica).build());
    });
    bad("rfc5280::nc::excluded-self-issued-leaf", () -> {
      X500Name n = name("CN=not-example.com");
      TestCert root = root().nc(permit(dns("example.com"))).build();
      TestCert ica = inter(root).subject(n).san(sanExact(false, dns("not-example.com")))
          .build();
      return via(root, ica, leaf(ica).issuer(n).subject(n).san(san(dns("not-example.com")))
          .build());
    });
    bad("rfc5280::nc::excluded-match-permitted-and-excluded", () -> {
      TestCert root = root().nc(nc(true, names(dns("example.com")), names(dns("example.com"))))
          .build();
      return direct(root, leaf(root).san(san(dns("example.com"))).build());
    });
    ok("rfc5280::nc::permitted-different-constraint-type", () -> {
      TestCert root = root().nc(permit(ip("192.0.2.0/24"))).build();
      return direct(root, leaf(root).san(san(dns("example.com"))).build());
    });
    ok("rfc5280::nc::excluded-different-constraint-type", () -> {
      TestCert root = root().nc(exclude(ip("192.0.2.0/24"))).build();
      return direct(root, leaf(root).san(san(dns("example.com"))).build());
    });
    bad("rfc5280::nc::invalid-dnsname-wildcard", () -> {
      TestCert root = root().nc(permit(dns("*.example.com"))).build();
      return direct(root, leaf(root).san(san(dns("foo.example.com"))).build());
    });
    bad("rfc5280::nc::invalid-dnsname-leading-period", () -> {
      TestCert root = root().nc(permit(dns(".example.com"))).build();
      return direct(root, leaf(root).san(san(dns("foo.example.com"))).build());
    });
    bad("rfc5280::nc::invalid-ipv4-address", () -> {
      TestCert root = root().nc(permit(ip("127.0.0.1"))).build();
      return direct(root, leaf(root).san(san(ip("127.0.0.1"))).build());
    });
    bad("rfc5280::nc::invalid-ipv6-address", () -> {
      TestCert root = root().nc(permit(ip("::1"))).build();
      return direct(root, leaf(root).san(san(ip("::1"))).build());
    });
    bad("rfc5280::nc::invalid-email-address", () -> {
      TestCert root = root().nc(permit(email("invalid@invalid@example.com"))).build();
      return direct(root, leaf(root).san(san(email("example@example.com")))
          .eku(eku(KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_emailProtection)).build());
    });
    bad("rfc5280::nc::not-allowed-in-ee-noncritical", () -> {
      TestCert root = root().build();
      return direct(root, leaf(root).extra(nc(false, names(dns("example.com")), null)).build());
    });
    bad("rfc5280::nc::not-allowed-in-ee-critical", () -> {
      TestCert root = root().build();
      return direct(root, leaf(root).extra(permit(dns("example.com"))).build());
    });
    bad("rfc5280::nc::intermediate-with-san-rejected-by-intermediate-nc", () -> {
      TestCert root = root().build();
      TestCert ica1 = inter(root).nc(nc(true, names(dns("permitted.example.com")),
          names(dns("forbidden.example.com")))).build();
      TestCert ica2 = inter(ica1).san(sanExact(false, dns("forbidden.example.com"))).build();
      TestCert leaf = leaf(ica2).san(san(dns("permitted.example.com"))).build();
      return chain(List.of(root), List.of(ica1, ica2), leaf);
    });
    bad("rfc5280::nc::intermediate-with-san-rejected-by-root-nc", () -> {
      TestCert root = root().nc(nc(true, names(dns("permitted.example.com")),
          names(dns("forbidden.example.com")))).build();
      TestCert ica1 = inter(root).build();
      TestCert ica2 = inter(ica1).san(sanExact(false, dns("forbidden.example.com"))).build();
      TestCert leaf = leaf(ica2).san(san(dns("permitted.example.com"))).build();
      return chain(List.of(root), List.of(ica1, ica2), leaf);
    });
    bad("rfc5280::nc::restrictive-permits-in-intermediates-narrows", () -> {
      TestCert root = root().build();
      TestCert ica1 = inter(root).nc(permit(dns("foo.example.com"), dns("bar.example.com")))
          .build();
      TestCert ica2 = inter(ica1).nc(permit(dns("bar.example.com"))).build();
      TestCert leaf = leaf(ica2).san(san(dns("foo.example.com"))).build();
      return chain(List.of(root), List.of(ica1, ica2), leaf);
    });
    bad("rfc5280::nc::restrictive-permits-in-intermediates-widens", () -> {
      TestCert root = root().build();
      TestCert ica1 = inter(root).nc(permit(dns("bar.example.com"))).build();
      TestCert ica2 = inter(ica1).nc(permit(dns("foo.example.com"), dns("bar.example.com")))
          .build();
      TestCert leaf = leaf(ica2).san(san(dns("foo.example.com"))).build();
      return chain(List.of(root), List.of(ica1, ica2), leaf);
    });
    bad("rfc5280::nc::nc-permits-invalid-dns-san", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).nc(permit(dns("example.com"))).build();
      return via(root, ica, leaf(ica).san(san(dns(".example.com"), dns("foo.example.com")))
          .build());
    });
    bad("rfc5280::nc::nc-permits-invalid-ip-san", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).nc(permit(ip("192.0.2.0/24"))).build();
      return via(root, ica, leaf(ica).san(san(ip("192.0.2.0/24"), ip("192.0.2.1"))).build());
    });
    bad("rfc5280::nc::nc-permits-invalid-email-san", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).nc(permit(email("example.com"))).build();
      return via(root, ica, leaf(ica).san(san(email("good@example.com"),
          email("alsogood@example.com"), email("invalid@address@example.com")))
          .eku(eku(KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_emailProtection))
          .build());
    });
    ok("rfc5280::nc::nc-forbids-alternate-chain-ica", () -> {
      TestCert discarded = root().san(null).build();
      TestCert trusted = root().san(null).build();
      TestCert icaA = inter(trusted).san(null).nc(nc(true, names(dns("permitted.example.com")),
          names(dns("forbidden.example.com")))).build();
      KeyPair k = freshKey();
      X500Name n = name("CN=an-intermediate");
      TestCert icaB1 = inter(discarded).key(k).subject(n)
          .san(sanExact(false, dns("forbidden.example.com"))).build();
      TestCert icaB2 = inter(icaA).key(k).subject(n).san(null).build();
      TestCert leaf = leaf(icaB1).subject(name("CN=permitted.example.com"))
          .san(san(dns("permitted.example.com"))).build();
      return chain(List.of(trusted), List.of(icaA, icaB1, icaB2), leaf);
    });
    ok("rfc5280::nc::nc-forbids-same-chain-ica", () -> {
      TestCert rootA = root().san(null).build();
      TestCert rootB = root().san(null).build();
      TestCert icaA = inter(rootA).san(null).nc(exclude(dns("forbidden.example.com"))).build();
      KeyPair k = freshKey();
      X500Name n = name("CN=an-intermediate");
      TestCert icaB1 = inter(icaA).key(k).subject(n)
          .san(sanExact(false, dns("forbidden.example.com"))).build();
      TestCert icaB2 = inter(rootB).key(k).subject(n)
          .san(sanExact(false, dns("unconstrained-ica.example.com"))).build();
      TestCert leaf = leaf(icaB1).subject(name("CN=unconstrained.example.com"))
          .san(san(dns("unconstrained.example.com"))).build();
      return chain(List.of(rootA, rootB), List.of(icaA, icaB1, icaB2), leaf);
    });
    ok("rfc5280::nc::nc-permits-email-exact", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).san(null).nc(permit(email("foo@example.com"))).build();
      return via(root, ica, leaf(ica).san(san(email("foo@example.com"))).build());
    });
    ok("rfc5280::nc::nc-permits-email-domain", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).san(null).nc(permit(email("example.com"))).build();
      return via(root, ica, leaf(ica).san(san(email("foo@example.com"))).build());
    });
    bad("rfc5280::nc::nc-forbids-othername", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).san(null).nc(nc(true, names(dns("example.com")),
          names(privateOtherName()))).build();
      return via(root, ica, leaf(ica).san(san(dns("example.com"), privateOtherName()))
          .build());
    });
    ok("rfc5280::nc::nc-forbids-othername-noop", () -> {
      TestCert root = root().build();
      TestCert ica = inter(root).san(null).nc(nc(true, names(dns("example.com")),
          names(privateOtherName()))).build();
      return via(root, ica, leaf(ica).san(san(dns("example.com"))).build());
    });
  }

  private void pathlenCases() {
    for (int n = 0; n <= 2; n++) {
      int pathlen = n;
      ok("pathlen::ee-with-intermediate-pathlen-" + n, () -> {
        TestCert root = root().build();
        TestCert ica = inter(root).pathlen(pathlen).build();
        return via(root, ica, leaf(ica).build());
      });
    }
    ok("pathlen::validation-ignores-pathlen-in-leaf", () -> {
      // limbo's leaf is the second intermediate itself; an S/MIME leaf that is a CA (cA TRUE,
      // pathlen 0, keyCertSign) but also has digitalSignature, emailProtection and an address.
      TestCert root = root().build();
      TestCert ica1 = inter(root).pathlen(0).build();
      TestCert ica2 = inter(ica1).pathlen(0).san(san())
          .keyUsage(ku(false, KeyUsage.keyCertSign | KeyUsage.digitalSignature))
          .extra(eku(KeyPurposeId.id_kp_emailProtection)).build();
      return via(root, ica1, ica2);
    });
    bad("pathlen::intermediate-violates-pathlen-0", () -> {
      TestCert root = root().build();
      TestCert ica1 = inter(root).pathlen(0).build();
      TestCert ica2 = inter(ica1).pathlen(0).build();
      return chain(List.of(root), List.of(ica1, ica2), leaf(ica2).build());
    });
    ok("pathlen::intermediate-pathlen-may-increase", () -> {
      TestCert root = root().build();
      TestCert ica1 = inter(root).pathlen(1).build();
      TestCert ica2 = inter(ica1).pathlen(2).build();
      return chain(List.of(root), List.of(ica1, ica2), leaf(ica2).build());
    });
    bad("pathlen::intermediate-pathlen-too-long", () -> {
      TestCert root = root().build();
      TestCert ica1 = inter(root).pathlen(1).build();
      TestCert ica2 = inter(ica1).pathlen(0).build();
      TestCert ica3 = inter(ica2).pathlen(0).build();
      return chain(List.of(root), List.of(ica1, ica2, ica3), leaf(ica3).build());
    });
    ok("pathlen::self-issued-certs-pathlen", () -> {
      TestCert root = root().build();
      TestCert ica1 = inter(root).pathlen(1).build();
      TestCert ica2 = inter(ica1).pathlen(1).subject(ica1.subject()).build();
      TestCert ica3 = inter(ica2).pathlen(0).build();
      return chain(List.of(root), List.of(ica1, ica2, ica3), leaf(ica3).build());
    });
  }

  private void pathologicalCases() {
    ok("pathological::multiple-chains-expired-intermediate", () -> {
      KeyPair rootKey = freshKey();
      TestCert root = root().key(rootKey).build();
      TestCert root2 = root().issuer(name("CN=x509-limbo-root-2")).build();
      TestCert expired = inter(root2).pathlen(1).subject(root.subject()).key(rootKey)
          .validity(EPOCH, Instant.parse("1988-11-25T00:00:00Z"))
          .ski(skiOf(rootKey.getPublic(), false)).build();
      return chain(List.of(root, root2), List.of(expired), leaf(root).build());
    });
    for (String variant : List.of("", "-max-depth")) {
      bad("pathological::intermediate-cycle-distinct-cas" + variant,
          () -> cycle(name("CN=intermediate-cycle-distinct-ca1"),
              name("CN=intermediate-cycle-distinct-ca2"), true));
    }
    bad("pathological::intermediate-cycle-same-logical-ca", () -> {
      X500Name n = name("CN=intermediate-cycle-same-logical-ca");
      return cycle(n, n, false);
    });
  }

  /** Two CAs that certify each other; neither reaches the root. */
  private static Replay cycle(X500Name n1, X500Name n2, boolean keyUsage) {
    TestCert root = root().build();
    KeyPair k1 = freshKey();
    KeyPair k2 = freshKey();
    List<CertSpec.Ext> base = new ArrayList<>();
    base.add(ext(Extension.basicConstraints, true, new BasicConstraints(true)));
    if (keyUsage) {
      base.add(ku(false, KeyUsage.keyCertSign));
    }
    List<CertSpec.Ext> e1 = new ArrayList<>(base);
    e1.add(akiOf(k2.getPublic(), false));
    e1.add(skiOf(k1.getPublic(), false));
    List<CertSpec.Ext> e2 = new ArrayList<>(base);
    e2.add(akiOf(k1.getPublic(), false));
    e2.add(skiOf(k2.getPublic(), false));
    TestCert ica1 = new CertSpec(n1, k1, EPOCH, TORMENT, e1, Optional.empty(), false, false)
        .issue(n2, k2.getPrivate(), k2.getPublic());
    TestCert ica2 = new CertSpec(n2, k2, EPOCH, TORMENT, e2, Optional.empty(), false, false)
        .issue(n1, k1.getPrivate(), k1.getPublic());
    return chain(List.of(root), List.of(ica1, ica2), leaf(ica1).build());
  }

  private void invalidCases() {
    bad("invalid::invalid-issuer-key", () -> {
      TestCert root1 = root().build();
      TestCert root2 = root().build();
      TestCert good = inter(root2).build();
      // rsaEncryption with an empty key; the leaf's signature is an empty SEQUENCE.
      byte[] spki = {0x30, 0x12, 0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
          (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x03, 0x01, 0x00};
      TestCert ica = RawCerts.resign(good, root2.keys().getPrivate(), "SHA256withECDSA",
          f -> {
            f.set(RawCerts.SUBJECT_PUBLIC_KEY_INFO, SubjectPublicKeyInfo.getInstance(spki));
            return f;
          });
      TestCert leaf = RawCerts.withSignature(leaf(good).build(), new byte[] {0x30, 0x00});
      return chain(List.of(root1), List.of(ica), leaf);
    });
  }

  private void smimeCases() {
    String u = EMAIL;
    ok("smime::eku::ee-email-protection", () -> smimeLeaf(l -> l));
    bad("smime::eku::ee-missing-email-protection",
        () -> smimeLeaf(l -> l.eku(eku(KeyPurposeId.id_kp_clientAuth))));
    bad("smime::eku::ee-without-eku", () -> smimeLeaf(l -> l.eku(null)));
    bad("smime::eku::ee-has-server-auth", () -> smimeLeaf(l -> l.eku(eku(
        KeyPurposeId.id_kp_emailProtection, KeyPurposeId.id_kp_serverAuth))));
    bad("smime::eku::ee-has-code-signing", () -> smimeLeaf(l -> l.eku(eku(
        KeyPurposeId.id_kp_emailProtection, KeyPurposeId.id_kp_codeSigning))));
    bad("smime::eku::ee-has-time-stamping", () -> smimeLeaf(l -> l.eku(eku(
        KeyPurposeId.id_kp_emailProtection, KeyPurposeId.id_kp_timeStamping))));
    bad("smime::eku::ee-has-any-eku", () -> smimeLeaf(l -> l.eku(eku(
        KeyPurposeId.id_kp_emailProtection, KeyPurposeId.anyExtendedKeyUsage))));
    bad("smime::eku::root-has-eku", () -> {
      TestCert root = root().extra(eku(KeyPurposeId.id_kp_emailProtection)).build();
      return direct(root, leaf(root).san(san(email(u))).build());
    });
    bad("smime::eku::intermediate-missing-email-protection",
        () -> smimeIca(eku(KeyPurposeId.id_kp_serverAuth), null));
    bad("smime::eku::intermediate-has-server-auth", () -> smimeIca(eku(
        KeyPurposeId.id_kp_emailProtection, KeyPurposeId.id_kp_serverAuth), null));
    bad("smime::eku::intermediate-has-any-eku", () -> smimeIca(eku(
        KeyPurposeId.id_kp_emailProtection, KeyPurposeId.anyExtendedKeyUsage), null));
    bad("smime::eku::intermediate-has-code-signing", () -> smimeIca(eku(
        KeyPurposeId.id_kp_emailProtection, KeyPurposeId.id_kp_codeSigning), null));
    bad("smime::eku::intermediate-has-time-stamping", () -> smimeIca(eku(
        KeyPurposeId.id_kp_emailProtection, KeyPurposeId.id_kp_timeStamping), null));

    ok("smime::ku::signing-only-rsa-digital-signature", () -> smimeLeaf(l -> l
        .key(TestKeys.rsa("limbo-rsa-" + KEYS.incrementAndGet()))
        .keyUsage(ku(true, KeyUsage.digitalSignature))));
    ok("smime::ku::signing-only-rsa-with-nonrepudiation", () -> smimeLeaf(l -> l
        .key(TestKeys.rsa("limbo-rsa-" + KEYS.incrementAndGet()))
        .keyUsage(ku(true, KeyUsage.digitalSignature | KeyUsage.nonRepudiation))));
    ok("smime::ku::key-management-only-rsa", () -> smimeLeaf(l -> l
        .key(TestKeys.rsa("limbo-rsa-" + KEYS.incrementAndGet()))
        .keyUsage(ku(true, KeyUsage.keyEncipherment))));
    ok("smime::ku::dual-use-rsa", () -> smimeLeaf(l -> l
        .key(TestKeys.rsa("limbo-rsa-" + KEYS.incrementAndGet()))
        .keyUsage(ku(true, KeyUsage.digitalSignature | KeyUsage.keyEncipherment))));
    ok("smime::ku::signing-only-ec",
        () -> smimeLeaf(l -> l.keyUsage(ku(true, KeyUsage.digitalSignature))));
    ok("smime::ku::key-management-only-ec",
        () -> smimeLeaf(l -> l.keyUsage(ku(true, KeyUsage.keyAgreement))));
    bad("smime::ku::ee-key-cert-sign", () -> smimeLeaf(l -> l.keyUsage(
        ku(true, KeyUsage.digitalSignature | KeyUsage.keyCertSign))));
    bad("smime::ku::ee-missing-key-usage", () -> smimeLeaf(l -> l.keyUsage(null)));
    bad("smime::ku::ee-key-usage-not-critical",
        () -> smimeLeaf(l -> l.keyUsage(ku(false, KeyUsage.digitalSignature))));
    bad("smime::ku::intermediate-missing-key-cert-sign",
        () -> smimeIca(eku(KeyPurposeId.id_kp_emailProtection), ku(true, KeyUsage.cRLSign)));
    bad("smime::ku::intermediate-missing-crl-sign", () -> smimeIca(
        eku(KeyPurposeId.id_kp_emailProtection), ku(true, KeyUsage.keyCertSign)));

    ok("smime::san::exact-rfc822-san", () -> smimeLeaf(l -> l));
    bad("smime::san::no-san", () -> smimeLeaf(l -> l.subject(name("CN=" + u)).san(null)));
    bad("smime::san::san-without-rfc822name",
        () -> smimeLeaf(l -> l.san(sanExact(false, dns("example.com")))));
    bad("smime::san::san-critical-with-nonempty-subject",
        () -> smimeLeaf(l -> l.subject(name("CN=" + u)).san(sanExact(true, email(u)))));
    ok("smime::san::san-critical-with-empty-subject",
        () -> smimeLeaf(l -> l.subject(emptyName()).san(sanExact(true, email(u)))));
    ok("smime::san::multiple-rfc822-sans", () -> smimeLeaf(l -> l.san(sanExact(false,
        email("other@example.com"), email(u)))));
  }

  /** root → EE with limbo's S/MIME leaf (rfc822Name SAN, emailProtection), then changed. */
  private static Replay smimeLeaf(java.util.function.UnaryOperator<Leaf> change) {
    TestCert root = root().build();
    return direct(root, change.apply(leaf(root).san(sanExact(false, email(EMAIL)))).build());
  }

  /** root → ICA (pathlen 0, this EKU and keyUsage, or limbo's default) → S/MIME EE. */
  private static Replay smimeIca(CertSpec.Ext eku, CertSpec.Ext keyUsage) {
    TestCert root = root().build();
    Ca ca = inter(root).pathlen(0).extra(eku);
    if (keyUsage != null) {
      ca.keyUsage(keyUsage);
    }
    TestCert ica = ca.build();
    return via(root, ica, leaf(ica).san(sanExact(false, email(EMAIL))).build());
  }

  // ---- running ----

  record Row(Case c, Verdict ours, Verdict openssl) {
    boolean agrees() {
      return ours.accepted() == c.succeeds();
    }

    boolean excused() {
      Known k = KNOWN.get(c.id());
      return k != null && !agrees() && k.weRefuse() == !ours.accepted();
    }
  }

  @Test
  void casesAreNamedOnceAndKnownNamesExist() {
    Set<String> ids = new HashSet<>();
    for (Case c : all()) {
      assertTrue(ids.add(c.id()), "case named twice: " + c.id());
    }
    for (String k : KNOWN.keySet()) {
      assertTrue(ids.contains(k), "KNOWN names no case: " + k);
    }
  }

  @Test
  void oursAgreesWithLimbo() throws IOException {
    Path dir = TempDirs.deletedAtExit("limbo-replay");
    boolean openssl = Openssl.available();
    List<Row> rows = new ArrayList<>();
    int n = 0;
    for (Case c : all()) {
      Path sub = Files.createDirectories(dir.resolve(Integer.toString(n++)));
      rows.add(run(c, sub, openssl));
    }
    String text = render(rows);
    System.out.println(text);
    if (Files.isDirectory(Path.of("target"))) {
      Files.writeString(Path.of("target", "limbo-replay.txt"), text);
    }
    List<Row> problems = rows.stream().filter(r -> !r.agrees() && !r.excused()).toList();
    if (!problems.isEmpty()) {
      fail(problems.size() + " disagreements with limbo not in KNOWN:\n" + table(problems));
    }
  }

  private static Row run(Case c, Path dir, boolean withOpenssl) throws IOException {
    Replay r;
    byte[] message;
    try {
      r = c.build().get();
      List<X509CertificateHolder> carried = r.untrusted().stream().map(TestCert::holder)
          .toList();
      String alg = CertSpec.defaultAlgorithm(r.leaf().keys().getPrivate());
      if (r.rawLeaf().isPresent()) {
        byte[] cms = RawCerts.replaceCertificate(
            SignedMessages.cms(r.leaf(), carried, alg, 1), r.leaf().der(), r.rawLeaf().get());
        message = SignedMailPki.multipartSigned(SignedMessages.ENTITY, cms);
      } else {
        message = SignedMessages.multipartSigned(r.leaf(), carried, alg, 1);
      }
    } catch (RuntimeException e) {
      Verdict broken = new Verdict(false, "case does not build: " + e);
      return new Row(c, broken, new Verdict(false, "not run"));
    }
    Path cafile = dir.resolve("trusted.pem");
    StringBuilder pems = new StringBuilder(TestCert.pems(r.trusted()));
    r.rawTrusted().forEach(der -> pems.append(Pem.encode("CERTIFICATE", der)));
    Files.writeString(cafile, pems);
    Path eml = dir.resolve("message.eml");
    Files.write(eml, message);
    Verdict ours = ChainMatrixTest.ours(message, cafile, r.at());
    Verdict theirs;
    if (!withOpenssl) {
      theirs = new Verdict(false, "no openssl command");
    } else {
      Openssl.Run run = r.at().map(t -> Openssl.cmsVerify(eml, cafile, t))
          .orElseGet(() -> Openssl.cmsVerify(eml, cafile));
      theirs = new Verdict(run.exit() == 0,
          run.exit() == 0 ? "ok" : Openssl.failureText(run.stderr()));
    }
    return new Row(c, ours, theirs);
  }

  static String render(List<Row> rows) {
    StringBuilder s = new StringBuilder("x509-limbo cases replayed as S/MIME signatures: ours"
        + " and openssl cms -verify -purpose smimesign against limbo's expected result\n");
    s.append(table(rows)).append('\n');
    int agree = 0;
    int laxer = 0;
    int stricter = 0;
    int opensslAgree = 0;
    int opensslLaxer = 0;
    int oursOpenssl = 0;
    for (Row r : rows) {
      agree += r.agrees() ? 1 : 0;
      laxer += !r.agrees() && r.ours().accepted() ? 1 : 0;
      stricter += !r.agrees() && !r.ours().accepted() ? 1 : 0;
      opensslAgree += r.openssl().accepted() == r.c().succeeds() ? 1 : 0;
      opensslLaxer += r.openssl().accepted() && !r.c().succeeds() ? 1 : 0;
      oursOpenssl += r.openssl().accepted() == r.ours().accepted() ? 1 : 0;
    }
    s.append(String.format("%d cases; ours agrees with limbo on %d, accepts what limbo refuses"
        + " on %d, refuses what limbo accepts on %d; documented (KNOWN): %d%n"
        + "openssl agrees with limbo on %d, accepts what limbo refuses on %d;"
        + " ours agrees with openssl on %d%n", rows.size(), agree, laxer, stricter,
        rows.stream().filter(Row::excused).count(), opensslAgree, opensslLaxer, oursOpenssl));
    List<String> stale = rows.stream().filter(r -> KNOWN.containsKey(r.c().id()) && r.agrees())
        .map(r -> r.c().id()).toList();
    if (!stale.isEmpty()) {
      s.append("KNOWN entries not observed (ours agrees with limbo): ")
          .append(String.join(", ", stale)).append('\n');
    }
    s.append("Not replayed:\n");
    SKIPPED.forEach((id, why) -> s.append("  ").append(id).append(": ").append(why)
        .append('\n'));
    return s.toString();
  }

  static String table(List<Row> rows) {
    int width = rows.stream().mapToInt(r -> r.c().id().length()).max().orElse(5);
    StringBuilder s = new StringBuilder();
    s.append(String.format("%-" + width + "s  %-8s  %-6s  %-6s  %-5s  %s%n", "limbo id",
        "expected", "ours", "cms", "known", "ours: reason / detail  |  openssl cms"));
    for (Row r : rows) {
      s.append(String.format("%-" + width + "s  %-8s  %-6s  %-6s  %-5s  %s  |  %s%n",
          r.c().id(), r.c().succeeds() ? "SUCCESS" : "FAILURE", r.ours().word(),
          r.openssl().word(), KNOWN.containsKey(r.c().id()) ? "yes" : "",
          oneLine(r.ours().why()), oneLine(r.openssl().why())));
    }
    return s.toString();
  }

  private static String oneLine(String s) {
    String t = s.replaceAll("\\s+", " ").strip();
    return t.length() > 150 ? t.substring(0, 147) + "..." : t;
  }
}
