package org.sympasmime.smime;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.Key;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.cms.AuthEnvelopedData;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.cms.GCMParameters;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cms.CMSAuthEnvelopedData;
import org.bouncycastle.cms.CMSEnvelopedData;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.KeyAgreeRecipientInformation;
import org.bouncycastle.cms.KeyTransRecipientInformation;
import org.bouncycastle.cms.PKIXRecipientId;
import org.bouncycastle.cms.Recipient;
import org.bouncycastle.cms.RecipientId;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.cms.RecipientInformationStore;
import org.bouncycastle.cms.jcajce.JceKeyAgreeAuthEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyAgreeEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyTransAuthEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyTransEnvelopedRecipient;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.mime.MimeBase64;
import org.sympasmime.mime.MimeHeader;
import org.sympasmime.pki.BcProvider;
import org.sympasmime.pki.BulkCrypto;
import org.sympasmime.pki.KeyMaterial;

/**
 * {@code smime.decrypt}: opens an {@code application/(x-)pkcs7-mime} EnvelopedData or
 * AuthEnvelopedData with the first candidate key whose certificate is a recipient, and returns the
 * decrypted bytes exactly as the sender encrypted them.
 *
 * <p>Everything BC would accept is not accepted: the content cipher must be AES-CBC or 3DES
 * (EnvelopedData) or AES-GCM (AuthEnvelopedData), the key transport RSA PKCS#1 v1.5 or OAEP,
 * the key agreement ECDH with an X9.63 KDF and AES key wrap, and the content-encryption key must
 * have the length its algorithm names. Thread-safe.
 */
public final class Decrypt {
  /** A candidate: a certificate file and its private key file, as Sympa's find_keys lists them. */
  public record KeyPair(Path cert, Path key) {
    public KeyPair {
      Objects.requireNonNull(cert);
      Objects.requireNonNull(key);
    }
  }

  /**
   * @param message the whole message (header and body) for {@link #decrypt}, or a DER/BER
   *     ContentInfo for {@link #decryptDer}
   */
  public record Request(byte[] message, List<KeyPair> keys, Optional<String> keyPassword) {
    public Request {
      Objects.requireNonNull(message);
      keys = List.copyOf(keys);
      Objects.requireNonNull(keyPassword);
    }
  }

  /**
   * @param entity the decrypted bytes, unchanged
   * @param cert the certificate path of the pair that opened the message
   * @param contentEncryption the cipher's protocol name, e.g. {@code aes-128-cbc}
   * @param authenticated true for AuthEnvelopedData (the content's integrity was checked)
   */
  public record Result(byte[] entity, Path cert, String contentEncryption, boolean authenticated) {}

  /** The GCM tag must be at least 96 bits (RFC 5084 allows 12 to 16 bytes). */
  private static final int MIN_TAG_BITS = 96;

  private static final Set<ASN1ObjectIdentifier> KEY_TRANSPORT = Set.of(
      PKCSObjectIdentifiers.rsaEncryption, PKCSObjectIdentifiers.id_RSAES_OAEP);

  private static final Set<ASN1ObjectIdentifier> KEY_AGREEMENT = Set.of(
      X9ObjectIdentifiers.dhSinglePass_stdDH_sha1kdf_scheme,
      SECObjectIdentifiers.dhSinglePass_stdDH_sha224kdf_scheme,
      SECObjectIdentifiers.dhSinglePass_stdDH_sha256kdf_scheme,
      SECObjectIdentifiers.dhSinglePass_stdDH_sha384kdf_scheme,
      SECObjectIdentifiers.dhSinglePass_stdDH_sha512kdf_scheme,
      X9ObjectIdentifiers.dhSinglePass_cofactorDH_sha1kdf_scheme,
      SECObjectIdentifiers.dhSinglePass_cofactorDH_sha224kdf_scheme,
      SECObjectIdentifiers.dhSinglePass_cofactorDH_sha256kdf_scheme,
      SECObjectIdentifiers.dhSinglePass_cofactorDH_sha384kdf_scheme,
      SECObjectIdentifiers.dhSinglePass_cofactorDH_sha512kdf_scheme);

  private static final Set<ASN1ObjectIdentifier> KEY_WRAP = Set.of(
      NISTObjectIdentifiers.id_aes128_wrap, NISTObjectIdentifiers.id_aes192_wrap,
      NISTObjectIdentifiers.id_aes256_wrap);

  private static final Provider BC = BcProvider.get();

  private final KeyMaterial material;

  public Decrypt(KeyMaterial material) {
    this.material = Objects.requireNonNull(material);
  }

  /** Decrypts a whole message: header, empty line, base64 body. */
  public Result decrypt(Request request) throws SmimeException {
    byte[] message = request.message();
    MimeHeader header = MimeHeader.parse(message);
    MimeHeader.MediaType type = header.contentType().orElseThrow(() ->
        new SmimeException(Reason.NOT_SMIME, "the message has no Content-Type"));
    String mime = type.mimeType();
    if (!mime.equals("application/pkcs7-mime") && !mime.equals("application/x-pkcs7-mime")) {
      throw new SmimeException(Reason.NOT_SMIME, "Content-Type " + mime + " is not S/MIME "
          + "encrypted (application/pkcs7-mime expected)");
    }
    Optional<String> smimeType = type.parameter("smime-type");
    if (smimeType.isPresent()
        && smimeType.get().toLowerCase(Locale.ROOT).contains("signed-data")) {
      throw new SmimeException(Reason.NOT_SMIME, "the message is signed-data, not encrypted");
    }
    byte[] der = MimeBase64.decode(message, header.bodyOffset(), "body");
    return open(der, request);
  }

  /** Decrypts a bare CMS ContentInfo (DER or BER), as in RFC 4134's examples. */
  public Result decryptDer(Request request) throws SmimeException {
    return open(request.message(), request);
  }

  /** What the message holds, once its structure is checked. */
  private record Envelope(RecipientInformationStore recipients, ContentCipher cipher,
      boolean authenticated) {}

  private Result open(byte[] der, Request request) throws SmimeException {
    Envelope envelope = parse(der);
    SmimeException matchedFailure = null;
    SmimeException unreadable = null;
    int certificates = 0;
    for (KeyPair pair : request.keys()) {
      X509Certificate cert;
      try {
        cert = material.certificate(pair.cert());
      } catch (SmimeException e) {
        unreadable = unreadable == null ? e : unreadable;
        continue;
      }
      certificates++;
      Optional<RecipientInformation> recipient = findRecipient(envelope.recipients(), cert);
      if (recipient.isEmpty()) {
        continue;
      }
      try {
        byte[] entity = open(envelope, recipient.get(), cert, pair, request.keyPassword());
        return new Result(entity, pair.cert(), envelope.cipher().id(), envelope.authenticated());
      } catch (SmimeException e) {
        // Another pair may still open it (Sympa lists cert.pem and cert.pem.enc).
        matchedFailure = matchedFailure == null ? e : matchedFailure;
      }
    }
    if (matchedFailure != null) {
      throw matchedFailure;
    }
    if (unreadable != null) {
      throw unreadable;
    }
    throw new SmimeException(Reason.NO_MATCHING_KEY, "none of the " + certificates
        + " certificate(s) given is among the " + envelope.recipients().size()
        + " recipient(s) of the message");
  }

  private static Envelope parse(byte[] der) throws SmimeException {
    ContentInfo info;
    try {
      info = ContentInfo.getInstance(ASN1Primitive.fromByteArray(der));
    } catch (IOException | RuntimeException e) {
      throw new SmimeException(Reason.MALFORMED_INPUT, "the body is not a CMS structure");
    }
    if (info == null) {
      throw new SmimeException(Reason.MALFORMED_INPUT, "the body is not a CMS structure");
    }
    ASN1ObjectIdentifier type = info.getContentType();
    try {
      if (CMSObjectIdentifiers.envelopedData.equals(type)) {
        CMSEnvelopedData data = new CMSEnvelopedData(info);
        ContentCipher cipher = ContentCipher.forDecryption(
            data.getContentEncryptionAlgorithm().getAlgorithm(), false);
        return new Envelope(data.getRecipientInfos(), cipher, false);
      }
      if (CMSObjectIdentifiers.authEnvelopedData.equals(type)) {
        CMSAuthEnvelopedData data = new CMSAuthEnvelopedData(info);
        ContentCipher cipher = ContentCipher.forDecryption(
            new ASN1ObjectIdentifier(data.getEncryptionAlgOID()), true);
        requireTagSize(data);
        return new Envelope(data.getRecipientInfos(), cipher, true);
      }
    } catch (CMSException | RuntimeException e) {
      String what = CMSObjectIdentifiers.envelopedData.equals(type)
          ? "EnvelopedData" : "AuthEnvelopedData";
      throw new SmimeException(Reason.MALFORMED_INPUT, "malformed " + what);
    }
    if (CMSObjectIdentifiers.signedData.equals(type)) {
      throw new SmimeException(Reason.NOT_SMIME, "the message is signed-data, not encrypted");
    }
    throw new SmimeException(Reason.NOT_SMIME, "CMS content type " + type.getId()
        + " is neither EnvelopedData nor AuthEnvelopedData");
  }

  private static void requireTagSize(CMSAuthEnvelopedData data) throws SmimeException {
    AuthEnvelopedData structure =
        AuthEnvelopedData.getInstance(data.toASN1Structure().getContent());
    GCMParameters params = GCMParameters.getInstance(
        structure.getAuthEncryptedContentInfo().getContentEncryptionAlgorithm().getParameters());
    if (params.getIcvLen() * 8 < MIN_TAG_BITS) {
      throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM, "a GCM tag of " + params.getIcvLen()
          + " bytes is too short (at least " + MIN_TAG_BITS / 8 + " required)");
    }
  }

  /** The RecipientInfo addressed to {@code cert}, by issuer and serial or by key identifier. */
  static Optional<RecipientInformation> findRecipient(RecipientInformationStore store,
      X509Certificate cert) {
    X500Name issuer = X500Name.getInstance(cert.getIssuerX500Principal().getEncoded());
    BigInteger serial = cert.getSerialNumber();
    Optional<byte[]> ski = subjectKeyIdentifier(cert);
    for (RecipientInformation info : store.getRecipients()) {
      RecipientId rid = info.getRID();
      if (!(rid instanceof PKIXRecipientId id)) {
        continue;
      }
      if (id.getIssuer() != null && id.getSerialNumber() != null) {
        if (serial.equals(id.getSerialNumber()) && issuer.equals(id.getIssuer())) {
          return Optional.of(info);
        }
      } else if (id.getSubjectKeyIdentifier() != null && ski.isPresent()
          && Arrays.equals(ski.get(), id.getSubjectKeyIdentifier())) {
        return Optional.of(info);
      }
    }
    return Optional.empty();
  }

  /** Absent when the certificate has none, or one that does not decode (then it names none). */
  private static Optional<byte[]> subjectKeyIdentifier(X509Certificate cert) {
    byte[] ext = cert.getExtensionValue(Extension.subjectKeyIdentifier.getId());
    if (ext == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(SubjectKeyIdentifier.getInstance(
          ASN1OctetString.getInstance(ext).getOctets()).getKeyIdentifier());
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  private byte[] open(Envelope envelope, RecipientInformation info, X509Certificate cert,
      KeyPair pair, Optional<String> password) throws SmimeException {
    Recipient recipient;
    if (info instanceof KeyTransRecipientInformation) {
      requireKeyTransport(info.getKeyEncryptionAlgorithm());
      if (!(cert.getPublicKey() instanceof RSAPublicKey)) {
        throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM, "key transport to a "
            + cert.getPublicKey().getAlgorithm() + " certificate is not supported");
      }
      PrivateKey key = material.privateKey(pair.key(), password);
      KeyCertMatch.require(key, pair.key(), cert, pair.cert());
      recipient = keyTransRecipient(key, envelope);
    } else if (info instanceof KeyAgreeRecipientInformation) {
      requireKeyAgreement(info.getKeyEncryptionAlgorithm());
      if (((KeyAgreeRecipientInformation) info).getOriginator().getOriginatorKey() == null) {
        throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM, "key agreement with a static "
            + "originator key (named by certificate) is not supported; ephemeral-static only");
      }
      if (!(cert.getPublicKey() instanceof ECPublicKey)) {
        throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM, "key agreement with a "
            + cert.getPublicKey().getAlgorithm() + " certificate is not supported (ECDH only)");
      }
      PrivateKey key = material.privateKey(pair.key(), password);
      KeyCertMatch.require(key, pair.key(), cert, pair.cert());
      recipient = keyAgreeRecipient(key, envelope);
    } else {
      throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM, "recipient type "
          + info.getClass().getSimpleName() + " is not supported");
    }
    try {
      return info.getContent(recipient);
    } catch (CMSException | RuntimeException e) {
      Optional<SmimeException> carried = carried(e);
      if (carried.isPresent()) {
        throw carried.get();
      }
      throw new SmimeException(Reason.MALFORMED_INPUT, envelope.authenticated()
          ? "the encrypted content fails its authentication check (corrupt or tampered message)"
          : "the encrypted content does not decrypt (corrupt or tampered message)");
    }
  }

  private static void requireKeyTransport(AlgorithmIdentifier alg) throws SmimeException {
    if (!KEY_TRANSPORT.contains(alg.getAlgorithm())) {
      throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM, "key transport "
          + alg.getAlgorithm().getId() + " is not supported (RSA PKCS#1 v1.5 and OAEP only)");
    }
  }

  private static void requireKeyAgreement(AlgorithmIdentifier alg) throws SmimeException {
    if (!KEY_AGREEMENT.contains(alg.getAlgorithm())) {
      throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM, "key agreement "
          + alg.getAlgorithm().getId() + " is not supported (ECDH with an X9.63 KDF only)");
    }
    ASN1ObjectIdentifier wrap;
    try {
      wrap = AlgorithmIdentifier.getInstance(alg.getParameters()).getAlgorithm();
    } catch (RuntimeException e) {
      throw new SmimeException(Reason.MALFORMED_INPUT,
          "key agreement without a key-wrap algorithm");
    }
    if (!KEY_WRAP.contains(wrap)) {
      throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM, "key wrap " + wrap.getId()
          + " is not supported (AES key wrap only)");
    }
  }

  private static Recipient keyTransRecipient(PrivateKey key, Envelope envelope) {
    ContentCipher cipher = envelope.cipher();
    if (envelope.authenticated()) {
      return new JceKeyTransAuthEnvelopedRecipient(key) {
        @Override
        protected Key extractSecretKey(AlgorithmIdentifier keyAlg, AlgorithmIdentifier contentAlg,
            byte[] encryptedKey) throws CMSException {
          return checkedKey(() -> super.extractSecretKey(keyAlg, contentAlg, encryptedKey), cipher);
        }
      }.setMinimumTagSize(MIN_TAG_BITS).setProvider(BC);
    }
    return new JceKeyTransEnvelopedRecipient(key) {
      @Override
      protected Key extractSecretKey(AlgorithmIdentifier keyAlg, AlgorithmIdentifier contentAlg,
          byte[] encryptedKey) throws CMSException {
        return checkedKey(() -> super.extractSecretKey(keyAlg, contentAlg, encryptedKey), cipher);
      }
    }.setProvider(BC).setContentProvider(BulkCrypto.ciphers());
  }

  private static Recipient keyAgreeRecipient(PrivateKey key, Envelope envelope) {
    ContentCipher cipher = envelope.cipher();
    if (envelope.authenticated()) {
      return new JceKeyAgreeAuthEnvelopedRecipient(key) {
        @Override
        protected Key extractSecretKey(AlgorithmIdentifier keyAlg, AlgorithmIdentifier contentAlg,
            SubjectPublicKeyInfo senderKey, ASN1OctetString ukm, byte[] encryptedKey)
            throws CMSException {
          return checkedKey(
              () -> super.extractSecretKey(keyAlg, contentAlg, senderKey, ukm, encryptedKey),
              cipher);
        }
      }.setMinimumTagSize(MIN_TAG_BITS).setProvider(BC);
    }
    return new JceKeyAgreeEnvelopedRecipient(key) {
      @Override
      protected Key extractSecretKey(AlgorithmIdentifier keyAlg, AlgorithmIdentifier contentAlg,
          SubjectPublicKeyInfo senderKey, ASN1OctetString ukm, byte[] encryptedKey)
          throws CMSException {
        return checkedKey(
            () -> super.extractSecretKey(keyAlg, contentAlg, senderKey, ukm, encryptedKey),
            cipher);
      }
    }.setProvider(BC).setContentProvider(BulkCrypto.ciphers());
  }

  @FunctionalInterface
  private interface KeyExtraction {
    Key extract() throws CMSException;
  }

  /**
   * Runs BC's key recovery and then checks what BC leaves unchecked: a key of the wrong length
   * (BC would use a 24-byte key under an AES-128 OID). Failures travel inside a CMSException to
   * the caller of {@code getContent}, carrying their reason.
   */
  private static Key checkedKey(KeyExtraction extraction, ContentCipher cipher)
      throws CMSException {
    Key key;
    try {
      key = extraction.extract();
    } catch (CMSException | RuntimeException e) {
      throw carrier(new SmimeException(Reason.KEY_MISMATCH,
          "the private key does not decrypt the content-encryption key"));
    }
    byte[] encoded = key.getEncoded();
    if (encoded != null && encoded.length != cipher.keyBytes()) {
      int length = encoded.length;
      Arrays.fill(encoded, (byte) 0);
      throw carrier(new SmimeException(Reason.MALFORMED_INPUT, "the content-encryption key is "
          + length + " bytes long but " + cipher.id() + " needs " + cipher.keyBytes()
          + ": the algorithm identifier does not match the key"));
    }
    return key;
  }

  private static CMSException carrier(SmimeException e) {
    return new CMSException(e.getMessage(), e);
  }

  private static Optional<SmimeException> carried(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SmimeException s) {
        return Optional.of(s);
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return Optional.empty();
  }

}
