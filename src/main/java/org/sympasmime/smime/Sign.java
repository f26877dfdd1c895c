package org.sympasmime.smime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.Time;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.smime.SMIMECapabilitiesAttribute;
import org.bouncycastle.asn1.smime.SMIMECapability;
import org.bouncycastle.asn1.smime.SMIMECapabilityVector;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.CMSAttributeTableGenerator;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.mime.Bytes;
import org.sympasmime.mime.LineEnds;
import org.sympasmime.mime.MimeBase64;
import org.sympasmime.pki.AlgorithmPolicy;
import org.sympasmime.pki.BcProvider;
import org.sympasmime.pki.BulkCrypto;
import org.sympasmime.pki.KeyMaterial;

/**
 * Detached S/MIME signing with the layout of Crypt::SMIME's {@code sign}: the same
 * {@code multipart/signed} template byte for byte, so that what Sympa does with the result
 * (re-parsing it, re-adding the original header) keeps working unchanged.
 *
 * <p>Unlike Crypt::SMIME it carries the signer's intermediates, refuses a key that does not
 * belong to its certificate before signing, and refuses a signer that no verifier would accept
 * (expired, not yet valid, usage forbids signing). See docs/decisions.md.
 */
public final class Sign {
  /** Warn the admin this long before the signer certificate expires. */
  static final Duration EXPIRY_WARNING = Duration.ofDays(30);

  private static final String PREAMBLE = "This is an S/MIME signed message";
  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * What to sign and with which key.
   *
   * @param entity the MIME entity (header fields, empty line, body), LF or CRLF
   * @param certFile signer certificate first, then optionally its chain
   * @param keyFile the signer's private key
   * @param extraCerts a PEM bundle that may hold more intermediates
   * @param includeChain whether to carry the intermediates at all
   * @param policy the algorithms the signer certificate may use, as {@code smime.verify}
   *     applies them
   */
  public record Request(
      byte[] entity,
      Path certFile,
      Path keyFile,
      Optional<String> keyPassword,
      Optional<Path> extraCerts,
      boolean includeChain,
      AlgorithmPolicy policy) {
    public Request {
      Objects.requireNonNull(policy);
      Objects.requireNonNull(entity);
      Objects.requireNonNull(certFile);
      Objects.requireNonNull(keyFile);
      Objects.requireNonNull(keyPassword);
      Objects.requireNonNull(extraCerts);
    }

    /** With the default algorithm policy. */
    public Request(byte[] entity, Path certFile, Path keyFile, Optional<String> keyPassword,
        Optional<Path> extraCerts, boolean includeChain) {
      this(entity, certFile, keyFile, keyPassword, extraCerts, includeChain,
          AlgorithmPolicy.defaults());
    }

    @Override
    public String toString() {
      // Never print the password, not even by accident in a debugging session.
      return "Sign.Request[entity=" + entity.length + " bytes, certFile=" + certFile
          + ", keyFile=" + keyFile + ", keyPassword=" + (keyPassword.isPresent() ? "***" : "none")
          + ", extraCerts=" + extraCerts + ", includeChain=" + includeChain + "]";
    }
  }

  /**
   * @param message the whole {@code multipart/signed} entity, CRLF
   * @param micalg the {@code micalg} parameter, e.g. {@code sha-256}
   * @param certificates how many certificates the signature carries
   * @param warnings lines for the admin's log (e.g. the certificate expires soon)
   */
  public record Result(byte[] message, String micalg, int certificates, List<String> warnings) {
    public Result {
      Objects.requireNonNull(message);
      Objects.requireNonNull(micalg);
      warnings = List.copyOf(warnings);
    }
  }

  private final KeyMaterial keys;
  private final Clock clock;

  public Sign(KeyMaterial keys) {
    this(keys, Clock.systemUTC());
  }

  public Sign(KeyMaterial keys, Clock clock) {
    this.keys = Objects.requireNonNull(keys);
    this.clock = Objects.requireNonNull(clock);
  }

  public Result sign(Request request) throws SmimeException {
    List<X509Certificate> certFile = keys.certificates(request.certFile());
    X509Certificate signer = certFile.get(0);
    PrivateKey key = keys.privateKey(request.keyFile(), request.keyPassword());
    SignatureAlgorithm algorithm = SignatureAlgorithm.forKey(key);
    KeyCertMatch.require(key, request.keyFile(), signer, request.certFile());
    Instant now = clock.instant();
    List<String> warnings = new ArrayList<>();
    SignerPolicy.check(signer, now, request.certFile(), request.policy(), warnings);

    List<X509Certificate> carried = new ArrayList<>();
    carried.add(signer);
    if (request.includeChain()) {
      List<X509Certificate> pool = new ArrayList<>(certFile.subList(1, certFile.size()));
      if (request.extraCerts().isPresent()) {
        pool.addAll(extraCertificates(request.extraCerts().get(), warnings));
      }
      carried.addAll(SignerChain.intermediates(signer, pool, now));
    }

    byte[] content = LineEnds.bareLfToCrlf(request.entity());
    byte[] signature = signedData(content, signer, key, algorithm, carried, now);
    byte[] message = multipart(content, signature, algorithm.micalg());
    return new Result(message, algorithm.micalg(), carried.size(), warnings);
  }

  /**
   * The certificates of the cafile, only a source of intermediates to carry: Sympa 6.2.70
   * signed without reading it, so a cafile that cannot be read (missing, unreadable, no
   * certificate in it) must not stop a list from signing. The signature then carries no
   * certificate from it, and a warning says so.
   */
  private List<X509Certificate> extraCertificates(Path cafile, List<String> warnings) {
    try {
      return keys.certificates(cafile);
    } catch (SmimeException e) {
      warnings.add("cafile not used, the signature carries no certificate from it: "
          + e.reason().id() + ": " + e.getMessage());
      return List.of();
    }
  }

  /** Detached SignedData (DER) over {@code content}, with exactly the four signed attributes. */
  private static byte[] signedData(byte[] content, X509Certificate signer, PrivateKey key,
      SignatureAlgorithm algorithm, List<X509Certificate> carried, Instant now)
      throws SmimeException {
    try {
      ContentSigner contentSigner =
          new JcaContentSignerBuilder(algorithm.jcaName()).setProvider(BcProvider.get()).build(key);
      CMSSignedDataGenerator generator = new CMSSignedDataGenerator();
      generator.addSignerInfoGenerator(
          new JcaSignerInfoGeneratorBuilder(
                  BulkCrypto.digests(),
                  Sign::signerInfoAlgorithm)
              .setSignedAttributeGenerator(new SignedAttributes(now))
              .build(contentSigner, signer));
      generator.addCertificates(new JcaCertStore(carried));
      CMSSignedData signed = generator.generate(new CMSProcessableByteArray(content), false);
      return signed.getEncoded(ASN1Encoding.DER);
    } catch (OperatorCreationException | CertificateEncodingException | CMSException
        | IOException e) {
      // The cause can name key internals; keep only its class.
      throw new SmimeException(Reason.INTERNAL,
          "cannot create the signature: " + e.getClass().getSimpleName());
    }
  }

  /**
   * OpenSSL, hence Crypt::SMIME, names an RSA PKCS#1 v1.5 signature {@code rsaEncryption} in the
   * SignerInfo (RFC 5754 allows both); older clients only know that form.
   */
  private static AlgorithmIdentifier signerInfoAlgorithm(AlgorithmIdentifier signatureAlgorithm) {
    if (PKCSObjectIdentifiers.sha256WithRSAEncryption.equals(signatureAlgorithm.getAlgorithm())) {
      return new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE);
    }
    return signatureAlgorithm;
  }

  /**
   * The multipart/signed layout Crypt::SMIME 0.28 writes (header lines, boundary, preamble and
   * part headers; {@code SignTest.TEMPLATE} holds it), CRLF everywhere.
   */
  static byte[] multipart(byte[] content, byte[] signature, String micalg) {
    String boundary = boundaryFor(content);
    String delimiter = "--" + boundary;
    ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + signature.length * 2
        + 512);
    ascii(out, "MIME-Version: 1.0\r\n"
        + "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=\""
        + micalg + "\"; boundary=\"" + boundary + "\"\r\n"
        + "\r\n"
        + PREAMBLE + "\r\n"
        + "\r\n"
        + delimiter + "\r\n");
    out.writeBytes(content);
    ascii(out, "\r\n" + delimiter + "\r\n"
        + "Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
        + "Content-Transfer-Encoding: base64\r\n"
        + "Content-Disposition: attachment; filename=\"smime.p7s\"\r\n"
        + "\r\n");
    ascii(out, MimeBase64.encode(signature, "\r\n"));
    ascii(out, "\r\n" + delimiter + "--\r\n\r\n");
    return out.toByteArray();
  }

  /** {@code ----} and 32 upper-case hex digits, as OpenSSL makes it; never found in the content. */
  private static String boundaryFor(byte[] content) {
    while (true) {
      byte[] random = new byte[16];
      RANDOM.nextBytes(random);
      String boundary = "----" + HexFormat.of().withUpperCase().formatHex(random);
      if (!Bytes.contains(content, boundary.getBytes(StandardCharsets.US_ASCII))) {
        return boundary;
      }
    }
  }

  private static void ascii(ByteArrayOutputStream out, String s) {
    out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
  }

  /** The signature algorithm follows the key, the digest is fixed per key type. */
  enum SignatureAlgorithm {
    RSA("SHA256withRSA", "sha-256"),
    ECDSA("SHA256withECDSA", "sha-256"),
    // RFC 8419: Ed25519 in CMS digests with SHA-512.
    ED25519("Ed25519", "sha-512");

    private final String jcaName;
    private final String micalg;

    SignatureAlgorithm(String jcaName, String micalg) {
      this.jcaName = jcaName;
      this.micalg = micalg;
    }

    String jcaName() {
      return jcaName;
    }

    String micalg() {
      return micalg;
    }

    static SignatureAlgorithm forKey(PrivateKey key) throws SmimeException {
      String name = key.getAlgorithm().toUpperCase(Locale.ROOT);
      return switch (name) {
        case "RSA" -> RSA;
        case "EC", "ECDSA" -> ECDSA;
        case "ED25519" -> ED25519;
        default -> throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM,
            "cannot sign with a " + key.getAlgorithm() + " key (RSA, EC or Ed25519 only)");
      };
    }
  }

  /**
   * contentType, signingTime, messageDigest and SMIMECapabilities, and nothing else: the set
   * Crypt::SMIME produces, so verifiers see what they saw before.
   */
  private static final class SignedAttributes implements CMSAttributeTableGenerator {
    private final Instant now;

    SignedAttributes(Instant now) {
      this.now = now;
    }

    @Override
    public AttributeTable getAttributes(@SuppressWarnings("rawtypes") Map params) {
      ASN1ObjectIdentifier contentType =
          (ASN1ObjectIdentifier) params.get(CMSAttributeTableGenerator.CONTENT_TYPE);
      byte[] digest = (byte[]) params.get(CMSAttributeTableGenerator.DIGEST);
      ASN1EncodableVector v = new ASN1EncodableVector();
      v.add(new Attribute(CMSAttributes.contentType, new DERSet(contentType)));
      // Time picks UTCTime up to 2049, as OpenSSL does; whole seconds like OpenSSL.
      v.add(new Attribute(CMSAttributes.signingTime,
          new DERSet(new Time(Date.from(now.truncatedTo(ChronoUnit.SECONDS))))));
      v.add(new Attribute(CMSAttributes.messageDigest, new DERSet(new DEROctetString(digest))));
      v.add(new SMIMECapabilitiesAttribute(capabilities()));
      return new AttributeTable(v);
    }

    /** What smime.decrypt opens, strongest first; no RC2, no single DES. */
    private static SMIMECapabilityVector capabilities() {
      SMIMECapabilityVector caps = new SMIMECapabilityVector();
      caps.addCapability(NISTObjectIdentifiers.id_aes256_GCM);
      caps.addCapability(NISTObjectIdentifiers.id_aes128_GCM);
      caps.addCapability(SMIMECapability.aES256_CBC);
      caps.addCapability(SMIMECapability.aES192_CBC);
      caps.addCapability(SMIMECapability.aES128_CBC);
      caps.addCapability(SMIMECapability.dES_EDE3_CBC);
      // RFC 3560 section 5: RSAES-OAEP with default parameters is announced with an empty
      // SEQUENCE as parameters.
      caps.addCapability(PKCSObjectIdentifiers.id_RSAES_OAEP, new DERSequence());
      return caps;
    }
  }
}
