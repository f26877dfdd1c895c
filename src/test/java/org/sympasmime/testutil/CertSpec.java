package org.sympasmime.testutil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v1CertificateBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.sympasmime.pki.BcProvider;

/**
 * The shape of one certificate, made with Bouncy Castle: an immutable value whose
 * {@code with...} methods return a changed copy, so that a test states only how its certificate
 * differs from an ordinary CA or S/MIME leaf ({@link #ca}, {@link #leaf}).
 *
 * <p>Extensions are kept in order and encoded as given, raw bytes included, so that malformed
 * and unknown extensions can be made. Unless the spec carries its own, issuing adds a
 * subjectKeyIdentifier (SHA-1 of the key) and an authorityKeyIdentifier (the issuer's), as CAs
 * do; {@link #withoutKeyIds} leaves both out.
 */
public record CertSpec(X500Name subject, KeyPair keys, Instant notBefore, Instant notAfter,
    List<Ext> extensions, Optional<String> signatureAlgorithm, boolean keyIds, boolean version1,
    Optional<BigInteger> serial) {

  /** One extension as it will be encoded: {@code value} is the extnValue's contents. */
  public record Ext(ASN1ObjectIdentifier oid, boolean critical, byte[] value) {}

  private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis() << 8);
  private static final Duration SKEW = Duration.ofDays(1);

  public CertSpec {
    extensions = List.copyOf(extensions);
  }

  /** With the next serial number of the run when issued. */
  public CertSpec(X500Name subject, KeyPair keys, Instant notBefore, Instant notAfter,
      List<Ext> extensions, Optional<String> signatureAlgorithm, boolean keyIds,
      boolean version1) {
    this(subject, keys, notBefore, notAfter, extensions, signatureAlgorithm, keyIds, version1,
        Optional.empty());
  }

  /** A CA: basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign, both critical. */
  public static CertSpec ca(X500Name subject, KeyPair keys) {
    Instant now = Instant.now();
    return new CertSpec(subject, keys, now.minus(SKEW), now.plus(Duration.ofDays(3650)),
        List.of(), Optional.empty(), true, false)
        .with(Extension.basicConstraints, true, new BasicConstraints(true))
        .with(Extension.keyUsage, true,
            new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
  }

  public static CertSpec ca(String cn, KeyPair keys) {
    return ca(name("Chain Matrix", cn, null), keys);
  }

  /**
   * An S/MIME signer as CAs issue them: subject with emailAddress, basicConstraints CA:FALSE,
   * critical keyUsage digitalSignature + keyEncipherment, extendedKeyUsage emailProtection, and
   * the address again as rfc822Name.
   */
  public static CertSpec leaf(String cn, String email, KeyPair keys) {
    return leaf(name("Chain Matrix", cn, email), keys);
  }

  /**
   * As {@link #leaf(String, String, KeyPair)} under this subject, valid for a year, whose
   * emailAddress attributes are copied into the subjectAltName as openssl's {@code email:copy}
   * does (a subject without one gives an empty subjectAltName).
   */
  public static CertSpec leaf(X500Name subject, KeyPair keys) {
    Instant now = Instant.now();
    return new CertSpec(subject, keys, now.minus(SKEW), now.plus(Duration.ofDays(365)),
        List.of(), Optional.empty(), true, false)
        .with(Extension.basicConstraints, false, new BasicConstraints(false))
        .with(Extension.keyUsage, true,
            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
        .with(Extension.extendedKeyUsage, false,
            new ExtendedKeyUsage(KeyPurposeId.id_kp_emailProtection))
        .with(Extension.subjectAlternativeName, false, emailCopy(subject));
  }

  /** The emailAddress attributes of {@code subject} as rfc822Names, in order. */
  public static GeneralNames emailCopy(X500Name subject) {
    List<GeneralName> names = new ArrayList<>();
    for (RDN rdn : subject.getRDNs()) {
      for (AttributeTypeAndValue atv : rdn.getTypesAndValues()) {
        if (atv.getType().equals(BCStyle.EmailAddress)) {
          names.add(new GeneralName(GeneralName.rfc822Name, atv.getValue().toString()));
        }
      }
    }
    return new GeneralNames(names.toArray(GeneralName[]::new));
  }

  /**
   * A certificate with no extension but the key identifiers, valid from yesterday for ten
   * years: for shapes that state every extension they have.
   */
  public static CertSpec bare(X500Name subject, KeyPair keys) {
    Instant now = Instant.now();
    return new CertSpec(subject, keys, now.minus(SKEW), now.plus(Duration.ofDays(3650)),
        List.of(), Optional.empty(), true, false);
  }

  /** The attribute names of openssl's {@code -subj} that test subjects use. */
  private static final Map<String, ASN1ObjectIdentifier> OPENSSL_NAMES = Map.ofEntries(
      Map.entry("C", BCStyle.C), Map.entry("ST", BCStyle.ST), Map.entry("L", BCStyle.L),
      Map.entry("street", BCStyle.STREET), Map.entry("postalCode", BCStyle.POSTAL_CODE),
      Map.entry("O", BCStyle.O), Map.entry("OU", BCStyle.OU), Map.entry("title", BCStyle.T),
      Map.entry("GN", BCStyle.GIVENNAME), Map.entry("SN", BCStyle.SURNAME),
      Map.entry("serialNumber", BCStyle.SERIALNUMBER), Map.entry("UID", BCStyle.UID),
      Map.entry("CN", BCStyle.CN), Map.entry("emailAddress", BCStyle.EmailAddress),
      Map.entry("DC", BCStyle.DC));

  /**
   * A name written as openssl's {@code -subj} takes it ({@code /C=FR/O=Org/CN=Name}; {@code +}
   * joins the attributes of one multi-valued RDN; {@code /} alone is the empty name), with the
   * string types openssl 3 gives each attribute (PrintableString for C and serialNumber,
   * IA5String for emailAddress and DC, UTF8String for the rest).
   */
  public static X500Name dn(String subj) {
    X500NameBuilder b = new X500NameBuilder(BCStyle.INSTANCE);
    for (String rdn : subj.substring(1).split("/")) {
      if (rdn.isEmpty()) {
        continue;
      }
      String[] parts = rdn.split("\\+");
      ASN1ObjectIdentifier[] oids = new ASN1ObjectIdentifier[parts.length];
      String[] values = new String[parts.length];
      for (int i = 0; i < parts.length; i++) {
        int eq = parts[i].indexOf('=');
        oids[i] = OPENSSL_NAMES.get(parts[i].substring(0, eq));
        if (oids[i] == null) {
          throw new IllegalArgumentException("unknown attribute in " + parts[i]);
        }
        values[i] = parts[i].substring(eq + 1);
      }
      if (parts.length == 1) {
        b.addRDN(oids[0], values[0]);
      } else {
        b.addMultiValuedRDN(oids, values);
      }
    }
    return b.build();
  }

  /** {@code O=o, CN=cn[, emailAddress=email]}; null parts are left out. */
  public static X500Name name(String o, String cn, String email) {
    X500NameBuilder b = new X500NameBuilder(BCStyle.INSTANCE);
    if (o != null) {
      b.addRDN(BCStyle.O, o);
    }
    if (cn != null) {
      b.addRDN(BCStyle.CN, cn);
    }
    if (email != null) {
      b.addRDN(BCStyle.EmailAddress, email);
    }
    return b.build();
  }

  public CertSpec subject(X500Name name) {
    return new CertSpec(name, keys, notBefore, notAfter, extensions, signatureAlgorithm, keyIds,
        version1, serial);
  }

  public CertSpec keys(KeyPair k) {
    return new CertSpec(subject, k, notBefore, notAfter, extensions, signatureAlgorithm, keyIds,
        version1, serial);
  }

  /** Issued with this serial number instead of the next one of the run. */
  public CertSpec serial(BigInteger number) {
    return new CertSpec(subject, keys, notBefore, notAfter, extensions, signatureAlgorithm, keyIds,
        version1, Optional.of(number));
  }

  public CertSpec validity(Instant from, Instant to) {
    return new CertSpec(subject, keys, from, to, extensions, signatureAlgorithm, keyIds, version1,
        serial);
  }

  /** Signed by the issuer with this JCA algorithm name instead of the key type's default. */
  public CertSpec signedWith(String algorithm) {
    return new CertSpec(subject, keys, notBefore, notAfter, extensions,
        Optional.of(algorithm), keyIds, version1, serial);
  }

  public CertSpec withoutKeyIds() {
    return new CertSpec(subject, keys, notBefore, notAfter, extensions, signatureAlgorithm,
        false, version1, serial);
  }

  /** An X.509 v1 certificate: no extensions at all. */
  public CertSpec v1() {
    return new CertSpec(subject, keys, notBefore, notAfter, List.of(), signatureAlgorithm,
        false, true, serial);
  }

  /** With this extension, replacing one of the same OID in place. */
  public CertSpec with(ASN1ObjectIdentifier oid, boolean critical, ASN1Encodable value) {
    try {
      return withRaw(oid, critical, value.toASN1Primitive().getEncoded(ASN1Encoding.DER));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** With an extension whose value is these bytes, well-formed or not. */
  public CertSpec withRaw(ASN1ObjectIdentifier oid, boolean critical, byte[] value) {
    List<Ext> out = new ArrayList<>(extensions);
    Ext ext = new Ext(oid, critical, value.clone());
    int at = indexOf(oid);
    if (at >= 0) {
      out.set(at, ext);
    } else {
      out.add(ext);
    }
    return new CertSpec(subject, keys, notBefore, notAfter, out, signatureAlgorithm, keyIds,
        version1, serial);
  }

  public CertSpec without(ASN1ObjectIdentifier oid) {
    List<Ext> out = new ArrayList<>(extensions);
    out.removeIf(e -> e.oid().equals(oid));
    return new CertSpec(subject, keys, notBefore, notAfter, out, signatureAlgorithm, keyIds,
        version1, serial);
  }

  /** The same extension, flagged critical or not. */
  public CertSpec critical(ASN1ObjectIdentifier oid, boolean critical) {
    int at = indexOf(oid);
    if (at < 0) {
      throw new IllegalArgumentException("no extension " + oid);
    }
    return withRaw(oid, critical, extensions.get(at).value());
  }

  private int indexOf(ASN1ObjectIdentifier oid) {
    for (int i = 0; i < extensions.size(); i++) {
      if (extensions.get(i).oid().equals(oid)) {
        return i;
      }
    }
    return -1;
  }

  public TestCert selfSigned() {
    return issue(subject, keys.getPrivate(), keys.getPublic());
  }

  public TestCert issuedBy(TestCert issuer) {
    return issue(issuer.subject(), issuer.keys().getPrivate(), issuer.keys().getPublic());
  }

  /**
   * Signed with {@code signingKey} under {@code issuerName}; the authorityKeyIdentifier names
   * {@code issuerKey}, which need not match the signing key.
   */
  public TestCert issue(X500Name issuerName, PrivateKey signingKey, PublicKey issuerKey) {
    try {
      BigInteger number = serial.orElseGet(() -> BigInteger.valueOf(SERIALS.incrementAndGet()));
      Date from = Date.from(notBefore);
      Date to = Date.from(notAfter);
      SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded());
      ContentSigner signer = new JcaContentSignerBuilder(
          signatureAlgorithm.orElseGet(() -> defaultAlgorithm(signingKey)))
          .setProvider(BcProvider.get()).build(signingKey);
      X509CertificateHolder holder;
      if (version1) {
        holder = new X509v1CertificateBuilder(issuerName, number, from, to, subject, spki)
            .build(signer);
      } else {
        X509v3CertificateBuilder b =
            new X509v3CertificateBuilder(issuerName, number, from, to, subject, spki);
        JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
        if (keyIds && indexOf(Extension.subjectKeyIdentifier) < 0) {
          b.addExtension(Extension.subjectKeyIdentifier, false,
              utils.createSubjectKeyIdentifier(keys.getPublic()));
        }
        if (keyIds && indexOf(Extension.authorityKeyIdentifier) < 0) {
          b.addExtension(Extension.authorityKeyIdentifier, false,
              utils.createAuthorityKeyIdentifier(issuerKey));
        }
        for (Ext e : extensions) {
          b.addExtension(new Extension(e.oid(), e.critical(), e.value()));
        }
        holder = b.build(signer);
      }
      return new TestCert(holder, keys);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (OperatorCreationException | java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** SHA-256 with the key's own scheme; Ed25519 signs without a separate digest. */
  public static String defaultAlgorithm(PrivateKey key) {
    return switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC", "ECDSA" -> "SHA256withECDSA";
      case "DSA" -> "SHA256withDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new IllegalArgumentException("no default for " + key.getAlgorithm());
    };
  }
}
