package org.sympasmime.smime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.CMSAuthEnvelopedDataGenerator;
import org.bouncycastle.cms.CMSEnvelopedDataGenerator;
import org.bouncycastle.cms.CMSEnvelopedGenerator;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.RecipientInfoGenerator;
import org.bouncycastle.cms.jcajce.JceCMSContentEncryptorBuilder;
import org.bouncycastle.cms.jcajce.JceKeyAgreeRecipientInfoGenerator;
import org.bouncycastle.cms.jcajce.JceKeyTransRecipientInfoGenerator;
import org.bouncycastle.operator.OutputAEADEncryptor;
import org.bouncycastle.operator.OutputEncryptor;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.mime.LineEnds;
import org.sympasmime.mime.MimeBase64;
import org.sympasmime.pki.BcProvider;
import org.sympasmime.pki.BulkCrypto;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.pki.Pem;

/**
 * {@code smime.encrypt}: wraps an inner MIME entity in an {@code application/pkcs7-mime}
 * envelope laid out exactly as Crypt::SMIME lays it out.
 *
 * <p>Unlike Crypt::SMIME, it never produces an envelope nobody can open: every recipient must
 * hold a certificate that is valid at the time of encryption, whose keyUsage (when present)
 * allows key encipherment (RSA) or key agreement (EC), and whose key we can encrypt to.
 * Thread-safe; the only per-call work is the cryptography itself.
 */
public final class Encrypt {
  /** Where a recipient's certificate comes from; the first certificate is the recipient. */
  public sealed interface RecipientSource permits FromPath, FromPem {}

  /** A certificate file, read through the key material cache. */
  public record FromPath(Path path) implements RecipientSource {
    public FromPath {
      Objects.requireNonNull(path);
    }
  }

  /** Certificate text given inline. */
  public record FromPem(String pem) implements RecipientSource {
    public FromPem {
      Objects.requireNonNull(pem);
    }
  }

  /**
   * @param entity the inner entity: header fields, empty line, body
   * @param binary true to encrypt {@code entity} as given; false turns bare LF into CRLF
   * @param atTime the time at which recipient certificates must be valid (default: now)
   */
  public record Request(byte[] entity, List<RecipientSource> recipients, ContentCipher cipher,
      KeyTransport keyTransport, boolean binary, Optional<Instant> atTime) {
    public Request {
      Objects.requireNonNull(entity);
      recipients = List.copyOf(recipients);
      Objects.requireNonNull(cipher);
      Objects.requireNonNull(keyTransport);
      Objects.requireNonNull(atTime);
    }

    /** The defaults of the protocol: AES-128-CBC, RSA PKCS#1 v1.5, CRLF, now. */
    public static Request of(byte[] entity, List<RecipientSource> recipients) {
      return new Request(entity, recipients, ContentCipher.AES_128_CBC, KeyTransport.RSA_PKCS1,
          false, Optional.empty());
    }
  }

  /**
   * @param message the {@code application/pkcs7-mime} entity, CRLF line ends
   * @param smimeType {@code enveloped-data} or {@code authEnveloped-data}
   */
  public record Result(byte[] message, String smimeType) {}

  private static final Set<ASN1ObjectIdentifier> CURVES = Set.of(
      SECObjectIdentifiers.secp256r1, SECObjectIdentifiers.secp384r1,
      SECObjectIdentifiers.secp521r1);

  private static final int KEY_ENCIPHERMENT = 2;
  private static final int KEY_AGREEMENT = 4;

  private static final Provider BC = BcProvider.get();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final KeyMaterial material;

  public Encrypt(KeyMaterial material) {
    this.material = Objects.requireNonNull(material);
  }

  public Result encrypt(Request request) throws SmimeException {
    Instant at = request.atTime().orElseGet(Instant::now);
    List<X509Certificate> recipients = new ArrayList<>();
    for (RecipientSource source : request.recipients()) {
      recipients.add(usable(source, at));
    }
    if (recipients.isEmpty()) {
      throw new SmimeException(Reason.NO_RECIPIENTS, "no recipient certificate given: the "
          + "envelope could not be opened by anyone");
    }
    byte[] content = request.binary() ? request.entity() : LineEnds.bareLfToCrlf(request.entity());
    ContentCipher cipher = request.cipher();
    byte[] der;
    try {
      OutputEncryptor encryptor = new JceCMSContentEncryptorBuilder(cipher.oid())
          .setProvider(cipher.aead() ? BC : BulkCrypto.ciphers())
          .setSecureRandom(RANDOM)
          .build();
      if (cipher.aead()) {
        CMSAuthEnvelopedDataGenerator gen = new CMSAuthEnvelopedDataGenerator();
        addRecipients(gen, recipients, request);
        der = gen.generate(new CMSProcessableByteArray(content), (OutputAEADEncryptor) encryptor)
            .toASN1Structure().getEncoded(ASN1Encoding.DER);
      } else {
        CMSEnvelopedDataGenerator gen = new CMSEnvelopedDataGenerator();
        addRecipients(gen, recipients, request);
        der = gen.generate(new CMSProcessableByteArray(content), encryptor)
            .toASN1Structure().getEncoded(ASN1Encoding.DER);
      }
    } catch (CMSException | IOException | GeneralSecurityException e) {
      // Every input was checked above, so this is our failure, not the caller's. The cause's
      // message stays out: it comes from inside the cipher.
      throw new SmimeException(Reason.INTERNAL,
          "cannot create the envelope: " + e.getClass().getSimpleName());
    }
    String smimeType = cipher.aead() ? "authEnveloped-data" : "enveloped-data";
    return new Result(layout(der, smimeType), smimeType);
  }

  /** Crypt::SMIME's envelope, byte for byte: four header fields, 64-column base64, CRLF. */
  private static byte[] layout(byte[] der, String smimeType) {
    return ("MIME-Version: 1.0\r\n"
        + "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n"
        + "Content-Type: application/pkcs7-mime; smime-type=" + smimeType
        + "; name=\"smime.p7m\"\r\n"
        + "Content-Transfer-Encoding: base64\r\n"
        + "\r\n"
        + MimeBase64.encode(der, "\r\n")
        + "\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  private static void addRecipients(CMSEnvelopedGenerator gen, List<X509Certificate> certs,
      Request request) throws GeneralSecurityException {
    for (X509Certificate cert : certs) {
      gen.addRecipientInfoGenerator(recipientInfo(cert, request));
    }
  }

  private static RecipientInfoGenerator recipientInfo(X509Certificate cert, Request request)
      throws GeneralSecurityException {
    if (cert.getPublicKey() instanceof ECPublicKey ec) {
      // Ephemeral-static ECDH, fresh key per message: dhSinglePass-stdDH-sha256kdf-scheme with
      // AES key wrap of the content key's size, which OpenSSL 3 and NSS both open.
      KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", BC);
      kpg.initialize(ec.getParams(), RANDOM);
      KeyPair ephemeral = kpg.generateKeyPair();
      return new JceKeyAgreeRecipientInfoGenerator(CMSAlgorithm.ECDH_SHA256KDF,
          ephemeral.getPrivate(), ephemeral.getPublic(), wrapFor(request.cipher()))
          .setProvider(BC).setSecureRandom(RANDOM).addRecipient(cert);
    }
    if (request.keyTransport() == KeyTransport.RSA_PKCS1) {
      return new JceKeyTransRecipientInfoGenerator(cert).setProvider(BC);
    }
    return new JceKeyTransRecipientInfoGenerator(cert, request.keyTransport().algorithm())
        .setProvider(BC);
  }

  private static ASN1ObjectIdentifier wrapFor(ContentCipher cipher) {
    return switch (cipher.keyBytes()) {
      case 16 -> NISTObjectIdentifiers.id_aes128_wrap;
      case 24 -> NISTObjectIdentifiers.id_aes192_wrap;
      default -> NISTObjectIdentifiers.id_aes256_wrap;
    };
  }

  /**
   * Why {@code encrypt} would refuse {@code source} as a recipient at {@code at}
   * ({@code expired}, {@code wrong_usage}, {@code no_recipients}, ...): the same check, so an
   * inventory of certificates predicts exactly who Sympa can encrypt to.
   */
  public void checkRecipient(RecipientSource source, Instant at) throws SmimeException {
    usable(source, at);
  }

  /** The recipient's certificate, refused unless someone can open what we encrypt to it. */
  private X509Certificate usable(RecipientSource source, Instant at) throws SmimeException {
    X509Certificate cert;
    String label;
    if (source instanceof FromPath p) {
      cert = material.certificate(p.path());
      label = "recipient certificate " + p.path();
    } else {
      List<X509Certificate> certs =
          Pem.certificates(((FromPem) source).pem().getBytes(StandardCharsets.ISO_8859_1));
      if (certs.isEmpty()) {
        throw new SmimeException(Reason.BAD_CERTIFICATE, "no certificate in the pem text");
      }
      cert = KeyMaterial.requireDecodableKey(certs.get(0), "the pem text");
      label = "recipient certificate \"" + cert.getSubjectX500Principal() + "\"";
    }
    try {
      cert.checkValidity(Date.from(at));
    } catch (CertificateExpiredException e) {
      throw new SmimeException(Reason.EXPIRED, label + " expired on "
          + cert.getNotAfter().toInstant());
    } catch (CertificateNotYetValidException e) {
      throw new SmimeException(Reason.NOT_YET_VALID, label + " is not valid before "
          + cert.getNotBefore().toInstant());
    }
    ASN1ObjectIdentifier keyType = keyAlgorithm(cert);
    boolean[] usage = cert.getKeyUsage();
    if (PKCSObjectIdentifiers.rsaEncryption.equals(keyType)) {
      if (usage != null && (usage.length <= KEY_ENCIPHERMENT || !usage[KEY_ENCIPHERMENT])) {
        throw new SmimeException(Reason.WRONG_USAGE, label
            + " does not allow keyEncipherment");
      }
    } else if (X9ObjectIdentifiers.id_ecPublicKey.equals(keyType)) {
      Optional<ASN1ObjectIdentifier> curve = namedCurve(cert);
      if (curve.isEmpty() || !CURVES.contains(curve.get())) {
        throw new SmimeException(Reason.NO_RECIPIENTS, label + " has an EC key on a curve we "
            + "cannot encrypt to (P-256, P-384 and P-521 only)");
      }
      if (usage != null && (usage.length <= KEY_AGREEMENT || !usage[KEY_AGREEMENT])) {
        throw new SmimeException(Reason.WRONG_USAGE, label + " does not allow keyAgreement");
      }
    } else {
      throw new SmimeException(Reason.NO_RECIPIENTS, label + " has a "
          + cert.getPublicKey().getAlgorithm() + " key, which cannot receive encrypted mail "
          + "(RSA and EC only)");
    }
    return cert;
  }

  private static ASN1ObjectIdentifier keyAlgorithm(X509Certificate cert) {
    return spki(cert).getAlgorithm().getAlgorithm();
  }

  private static Optional<ASN1ObjectIdentifier> namedCurve(X509Certificate cert) {
    var params = spki(cert).getAlgorithm().getParameters();
    return params instanceof ASN1ObjectIdentifier oid ? Optional.of(oid) : Optional.empty();
  }

  private static SubjectPublicKeyInfo spki(X509Certificate cert) {
    return SubjectPublicKeyInfo.getInstance(cert.getPublicKey().getEncoded());
  }

}
