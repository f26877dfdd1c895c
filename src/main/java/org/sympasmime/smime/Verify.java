package org.sympasmime.smime;

import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.DSAParams;
import java.security.interfaces.DSAPublicKey;
import java.security.spec.DSAPublicKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignerDigestMismatchException;
import org.bouncycastle.cms.DefaultCMSSignatureAlgorithmNameGenerator;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.SignerInformationVerifier;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.AlgorithmPolicy;
import org.sympasmime.pki.BcProvider;
import org.sympasmime.pki.BulkCrypto;
import org.sympasmime.pki.CertificateInfo;
import org.sympasmime.pki.ChainValidator;
import org.sympasmime.pki.Crls;
import org.sympasmime.pki.OpenSslNames;
import org.sympasmime.pki.TrustStore;
import org.sympasmime.pki.TrustStores;

/**
 * {@code smime.verify}: checks every SignerInfo of a message over the bytes received, then the
 * signer's certificate path, dates and usage. Thread-safe.
 *
 * <p>Checks come in this order, and the first failure (in SignerInfo order) is the reason:
 * signer certificate found ({@code no_signer_cert}), algorithm accepted
 * ({@code unsupported_algorithm}: MD5 and weaker), content digest and signature
 * ({@code bad_signature}) for every signer; then for every signer its path
 * ({@code untrusted_chain}), usage ({@code wrong_usage}), dates ({@code expired},
 * {@code not_yet_valid}) and, when CRLs are given, revocation ({@code revoked},
 * {@code revocation_unknown}). A cryptographic failure therefore always wins over a trust failure,
 * so that "the signature is intact but I cannot vouch for the signer" is recognizable.
 */
public final class Verify {
  /**
   * A signature check.
   *
   * @param message the whole message as received, header and body
   * @param cafile PEM bundle of trust anchors; with {@code capath} absent too, the system store
   * @param capath directory of certificates
   * @param atTime validation time; now when absent
   * @param crls a CRL file or a directory of them; no revocation checking when absent
   * @param crlRequired with {@code crls}: a certificate without a current CRL of its issuer
   *     fails ({@code revocation_unknown}) instead of being accepted
   * @param policy the algorithms accepted in SignerInfos and on the path
   */
  public record Request(byte[] message, Optional<Path> cafile, Optional<Path> capath,
      Optional<Instant> atTime, Optional<Path> crls, boolean crlRequired,
      AlgorithmPolicy policy) {
    public Request {
      Objects.requireNonNull(message);
      Objects.requireNonNull(policy);
      Objects.requireNonNull(cafile);
      Objects.requireNonNull(capath);
      Objects.requireNonNull(atTime);
      Objects.requireNonNull(crls);
      if (crlRequired && crls.isEmpty()) {
        throw new IllegalArgumentException("crlRequired without crls");
      }
    }

    /** With the default algorithm policy. */
    public Request(byte[] message, Optional<Path> cafile, Optional<Path> capath,
        Optional<Instant> atTime, Optional<Path> crls, boolean crlRequired) {
      this(message, cafile, capath, atTime, crls, crlRequired, AlgorithmPolicy.defaults());
    }

    /** Without revocation checking. */
    public Request(byte[] message, Optional<Path> cafile, Optional<Path> capath,
        Optional<Instant> atTime) {
      this(message, cafile, capath, atTime, Optional.empty(), false);
    }
  }

  /**
   * The answer to a signature check. A bad signature is a result, not an exception.
   *
   * @param signed the message carries an S/MIME signature
   * @param valid every signature, chain, date and usage checks out
   * @param failure why it is not valid; empty exactly when {@code valid}
   * @param detail one human-readable line
   * @param format {@code multipart/signed} or {@code signed-data}; empty when not signed
   * @param signers signer certificates, in SignerInfo order (those found)
   * @param certificates every certificate the message carries, in its order
   * @param content the signed entity; empty when not signed
   * @param warnings lines for the admin's log (a CRL that has expired)
   */
  public record Result(boolean signed, boolean valid, Optional<Reason> failure,
      String detail, Optional<String> format, List<X509Certificate> signers,
      List<X509Certificate> certificates, Optional<byte[]> content, List<String> warnings) {

    public Result {
      signers = List.copyOf(signers);
      certificates = List.copyOf(certificates);
      warnings = List.copyOf(warnings);
      if (valid == failure.isPresent()) {
        throw new IllegalArgumentException("valid iff no failure");
      }
    }

    static Result notSmime(String why) {
      return new Result(false, false, Optional.of(Reason.NOT_SMIME), why, Optional.empty(),
          List.of(), List.of(), Optional.empty(), List.of());
    }
  }

  /**
   * No real message comes near these: each SignerInfo costs a digest of the whole content and
   * each carried certificate a place in the path search, so a message holding tens of
   * thousands of either would keep a worker busy for minutes.
   */
  static final int MAX_SIGNER_INFOS = 16;
  static final int MAX_CERTIFICATES = 64;

  private final TrustStores trustStores;
  private final Crls crls;

  public Verify(TrustStores trustStores) {
    this(trustStores, new Crls());
  }

  public Verify(TrustStores trustStores, Crls crls) {
    this.trustStores = Objects.requireNonNull(trustStores);
    this.crls = Objects.requireNonNull(crls);
  }

  public Result verify(Request request) throws SmimeException {
    SignedEntity entity = SignedEntity.parse(request.message());
    if (entity instanceof SignedEntity.NotSmime n) {
      return Result.notSmime(n.why());
    }
    if (entity instanceof SignedEntity.Detached d) {
      ContentInfo info = contentInfo(d.signature());
      if (!info.getContentType().equals(CMSObjectIdentifiers.signedData)) {
        throw new SmimeException(Reason.MALFORMED_INPUT,
            "the signature part holds " + info.getContentType().getId() + ", not signed-data");
      }
      CMSSignedData sd;
      try {
        sd = new CMSSignedData(new CMSProcessableByteArray(d.content()), info);
      } catch (CMSException | RuntimeException e) {
        throw new SmimeException(Reason.MALFORMED_INPUT, "the signature does not parse");
      }
      return check(sd, d.content(), "multipart/signed", request);
    }
    SignedEntity.Opaque o = (SignedEntity.Opaque) entity;
    ContentInfo info = contentInfo(o.cms());
    if (!info.getContentType().equals(CMSObjectIdentifiers.signedData)) {
      return Result.notSmime("application/pkcs7-mime holding "
          + info.getContentType().getId() + ", not signed-data");
    }
    CMSSignedData sd;
    byte[] content;
    try {
      sd = new CMSSignedData(info);
      if (sd.getSignedContent() == null) {
        if (sd.getSignerInfos().size() == 0) {
          return Result.notSmime("certs-only: no signature");
        }
        throw new SmimeException(Reason.MALFORMED_INPUT,
            "application/pkcs7-mime signed-data without content");
      }
      content = (byte[]) sd.getSignedContent().getContent();
    } catch (CMSException | RuntimeException e) {
      throw new SmimeException(Reason.MALFORMED_INPUT, "the signed-data does not parse");
    }
    return check(sd, content, "signed-data", request);
  }

  private static ContentInfo contentInfo(byte[] der) throws SmimeException {
    try {
      return ContentInfo.getInstance(ASN1Primitive.fromByteArray(der));
    } catch (IOException | RuntimeException e) {
      throw new SmimeException(Reason.MALFORMED_INPUT, "the CMS object does not parse");
    }
  }

  private Result check(CMSSignedData sd, byte[] content, String format,
      Request request) throws SmimeException {
    List<SignerInformation> signerInfos;
    List<X509Certificate> carried;
    try {
      // Bouncy Castle decodes SignerInfos and certificates lazily and throws unchecked
      // exceptions on malformed ones: decode them all here, where that means malformed input.
      signerInfos = new ArrayList<>(sd.getSignerInfos().getSigners());
      if (signerInfos.size() > MAX_SIGNER_INFOS) {
        throw new SmimeException(Reason.TOO_LARGE, "the signature has " + signerInfos.size()
            + " SignerInfos; more than " + MAX_SIGNER_INFOS + " are refused");
      }
      carried = carriedCertificates(sd);
    } catch (RuntimeException e) {
      throw new SmimeException(Reason.MALFORMED_INPUT,
          "the signed-data holds a SignerInfo or a certificate that does not decode");
    }
    if (signerInfos.isEmpty()) {
      return Result.notSmime("certs-only: no signature");
    }
    TrustStore store = trustStores.load(request.cafile(), request.capath());

    List<X509Certificate> signers = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    Optional<Failure> failure = Optional.empty();
    for (SignerInformation si : signerInfos) {
      Optional<X509Certificate> cert = signerCertificate(si, carried, store);
      cert.ifPresent(signers::add);
      if (failure.isPresent()) {
        continue;
      }
      if (cert.isEmpty()) {
        failure = Optional.of(new Failure(Reason.NO_SIGNER_CERT,
            "the certificate of signer " + describe(si) + " is neither in the message nor in"
                + " the trust store"));
        continue;
      }
      failure = signature(si, cert.get(), carried, store, request.policy(), warnings);
    }
    if (failure.isEmpty()) {
      Date at = Date.from(request.atTime().orElseGet(Instant::now));
      ChainValidator validator = new ChainValidator(carried, store, at,
          crls.policy(request.crls(), request.crlRequired()), request.policy());
      // A signer named by several SignerInfos is one path to validate, not several.
      for (X509Certificate signer : new LinkedHashSet<>(signers)) {
        Optional<ChainValidator.Failure> f = validator.validate(signer, warnings);
        if (f.isPresent()) {
          failure = Optional.of(new Failure(f.get().reason(), f.get().detail()));
          break;
        }
      }
    }
    // Weak but accepted algorithms belong in the verdict, not only in the sidecar's log.
    String detail = failure.map(Failure::detail).orElseGet(() -> "signed by " + names(signers)
        + (warnings.isEmpty() ? "" : "; " + String.join("; ", warnings)));
    return new Result(true, failure.isEmpty(), failure.map(Failure::reason), detail,
        Optional.of(format), signers, carried, Optional.of(content),
        failure.isEmpty() ? warnings : List.of());
  }

  private record Failure(Reason reason, String detail) {}

  /**
   * A SignerInfo whose signed attributes are checked in the encoding received. Bouncy Castle
   * re-sorts the SET into DER order before checking; OpenSSL (and so Crypt::SMIME) keeps the
   * order of the message. Some clients (Outlook for Mac 2011) send them unsorted and signed
   * them that way, so only the received order verifies.
   */
  private static final class AsReceived extends SignerInformation {
    AsReceived(SignerInformation base) {
      super(base);
    }

    @Override
    public byte[] getEncodedSignedAttributes() throws IOException {
      return signedAttributeSet == null ? null : signedAttributeSet.getEncoded(ASN1Encoding.DL);
    }
  }

  private static Optional<Failure> signature(SignerInformation si, X509Certificate cert,
      List<X509Certificate> carried, TrustStore store, AlgorithmPolicy policy,
      List<String> warnings) {
    Optional<String> refused = policy.signerInfoRefusal(si.getDigestAlgOID(),
        si.getEncryptionAlgOID(), si.getEncryptionAlgParams(), "signer " + describe(si),
        warnings);
    if (refused.isPresent()) {
      return Optional.of(new Failure(Reason.UNSUPPORTED_ALGORITHM, refused.get()));
    }
    try {
      PublicKey key = effectiveKey(cert, carried, store);
      // Judged before it is used: one check with an oversized key can take seconds.
      Optional<String> tooCostly = AlgorithmPolicy.workLimitRefusal(key);
      if (tooCostly.isPresent()) {
        return Optional.of(new Failure(Reason.UNSUPPORTED_ALGORITHM,
            "the key of signer " + describe(si) + " is " + tooCostly.get()));
      }
      // Built from the key, not the certificate: BC would otherwise also check the
      // certificate's dates at signingTime, which is the chain check's business.
      boolean ok = new AsReceived(si).verify(new SignerInformationVerifier(
          new DefaultCMSSignatureAlgorithmNameGenerator(),
          new DefaultSignatureAlgorithmIdentifierFinder(),
          new JcaContentVerifierProviderBuilder().setProvider(BcProvider.get()).build(key),
          BulkCrypto.digests()));
      return ok ? Optional.empty() : Optional.of(new Failure(Reason.BAD_SIGNATURE,
          "the signature of " + describe(si) + " does not verify"));
    } catch (CMSSignerDigestMismatchException e) {
      return Optional.of(new Failure(Reason.BAD_SIGNATURE,
          "the content does not match the digest signed by " + describe(si)));
    } catch (OperatorCreationException e) {
      return Optional.of(new Failure(Reason.UNSUPPORTED_ALGORITHM,
          "unsupported signature algorithm " + si.getEncryptionAlgOID()));
    } catch (CMSException e) {
      if (e.getCause() instanceof OperatorCreationException) {
        return Optional.of(new Failure(Reason.UNSUPPORTED_ALGORITHM,
            "unsupported algorithm " + si.getDigestAlgOID() + "/" + si.getEncryptionAlgOID()));
      }
      return Optional.of(new Failure(Reason.BAD_SIGNATURE,
          "the signature of " + describe(si) + " does not verify: " + e.getMessage()));
    } catch (RuntimeException e) {
      return Optional.of(new Failure(Reason.BAD_SIGNATURE,
          "the signature of " + describe(si) + " does not verify: "
              + e.getClass().getSimpleName()));
    }
  }

  /**
   * The signer's public key; a DSA key without parameters inherits them from its issuer
   * (RFC 3279 2.3.2), as in the RFC 4134 examples.
   */
  private static PublicKey effectiveKey(X509Certificate cert, List<X509Certificate> carried,
      TrustStore store) {
    PublicKey key = cert.getPublicKey();
    if (!(key instanceof DSAPublicKey dsa) || dsa.getParams() != null) {
      return key;
    }
    List<X509Certificate> candidates = new ArrayList<>(carried);
    candidates.addAll(store.certificates());
    for (X509Certificate issuer : candidates) {
      if (issuer.getSubjectX500Principal().equals(cert.getIssuerX500Principal())
          && issuer.getPublicKey() instanceof DSAPublicKey ik && ik.getParams() != null) {
        DSAParams p = ik.getParams();
        try {
          return KeyFactory.getInstance("DSA", BcProvider.get()).generatePublic(
              new DSAPublicKeySpec(dsa.getY(), p.getP(), p.getQ(), p.getG()));
        } catch (Exception e) {
          return key;
        }
      }
    }
    return key;
  }

  private static Optional<X509Certificate> signerCertificate(SignerInformation si,
      List<X509Certificate> carried, TrustStore store) {
    for (List<X509Certificate> source : List.of(carried, store.certificates())) {
      for (X509Certificate c : source) {
        try {
          if (si.getSID().match(new X509CertificateHolder(c.getEncoded()))) {
            return Optional.of(c);
          }
        } catch (IOException | java.security.cert.CertificateEncodingException e) {
          // cannot match an undecodable certificate
        }
      }
    }
    return Optional.empty();
  }

  private static List<X509Certificate> carriedCertificates(CMSSignedData sd)
      throws SmimeException {
    Collection<X509CertificateHolder> holders = sd.getCertificates().getMatches(null);
    if (holders.size() > MAX_CERTIFICATES) {
      throw new SmimeException(Reason.TOO_LARGE, "the signature carries " + holders.size()
          + " certificates; more than " + MAX_CERTIFICATES + " are refused");
    }
    List<X509Certificate> out = new ArrayList<>();
    JcaX509CertificateConverter converter =
        new JcaX509CertificateConverter().setProvider(BcProvider.get());
    for (X509CertificateHolder h : holders) {
      try {
        out.add(converter.getCertificate(h));
      } catch (CertificateException e) {
        throw new SmimeException(Reason.MALFORMED_INPUT,
            "the message carries a certificate that does not decode");
      }
    }
    return out;
  }

  private static String describe(SignerInformation si) {
    if (si.getSID().getSubjectKeyIdentifier() != null) {
      return "with key id " + org.bouncycastle.util.encoders.Hex.toHexString(
          si.getSID().getSubjectKeyIdentifier());
    }
    return "serial " + si.getSID().getSerialNumber().toString(16) + " of "
        + si.getSID().getIssuer();
  }

  private static String names(List<X509Certificate> signers) {
    Set<String> names = new LinkedHashSet<>();
    for (X509Certificate c : signers) {
      try {
        CertificateInfo info = CertificateInfo.of(c);
        names.add(info.emails().isEmpty() ? info.subject() : info.emails().get(0));
      } catch (SmimeException e) {
        names.add(OpenSslNames.formatName(c.getSubjectX500Principal()));
      }
    }
    return String.join(", ", names);
  }
}
