package org.sympasmime.pki;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.TBSCertificate;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/**
 * What Sympa needs to know about a certificate, formatted as Crypt::OpenSSL::X509 1.914 formats
 * it (subject, issuer, dates, e-mail order) plus the purpose under both rule sets.
 *
 * @param keyUsage the nine keyUsage bits by their OpenSSL configuration names, in bit order;
 *     empty when the certificate has no keyUsage extension
 * @param extendedKeyUsage OpenSSL short names (dotted OIDs for unknown purposes); empty when
 *     the certificate has no extendedKeyUsage extension
 */
public record CertificateInfo(
    String subject,
    String issuer,
    String notBefore,
    String notAfter,
    List<String> emails,
    Purpose purpose,
    Purpose legacyPurpose,
    Optional<Map<String, Boolean>> keyUsage,
    Optional<List<String>> extendedKeyUsage,
    String serial,
    String fingerprintSha256,
    String fingerprintSha1,
    String keyAlgorithm,
    int keySize,
    Optional<String> curve,
    String pem) {

  /** Whether a certificate may sign and may receive encrypted mail. */
  public record Purpose(boolean sign, boolean enc) {}

  /** keyUsage bit names, in bit order, as OpenSSL's configuration spells them. */
  public static final List<String> KEY_USAGE_NAMES = List.of(
      "digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
      "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly");

  public CertificateInfo {
    emails = List.copyOf(emails);
    keyUsage = keyUsage.map(m -> java.util.Collections.unmodifiableMap(new LinkedHashMap<>(m)));
    extendedKeyUsage = extendedKeyUsage.map(List::copyOf);
  }

  /**
   * Everything x509.parse reports. A certificate whose extensions or public key do not decode is
   * {@code bad_certificate}: Bouncy Castle parses them lazily, so they fail here, not on load.
   */
  public static CertificateInfo of(X509Certificate cert) throws SmimeException {
    try {
      return parse(cert);
    } catch (RuntimeException e) {
      throw new SmimeException(Reason.BAD_CERTIFICATE, "the certificate of "
          + cert.getSubjectX500Principal() + " has an extension or a public key that does not"
          + " decode");
    }
  }

  private static CertificateInfo parse(X509Certificate cert) {
    TBSCertificate tbs;
    byte[] der;
    try {
      der = cert.getEncoded();
      tbs = TBSCertificate.getInstance(ASN1Primitive.fromByteArray(cert.getTBSCertificate()));
    } catch (CertificateEncodingException | java.io.IOException e) {
      throw new IllegalStateException("a parsed certificate cannot be re-encoded", e);
    }
    Extensions extensions = tbs.getExtensions();
    Optional<boolean[]> ku = keyUsageBits(extensions);
    Optional<Map<String, Boolean>> kuMap = ku.map(bits -> {
      Map<String, Boolean> m = new LinkedHashMap<>();
      for (int i = 0; i < KEY_USAGE_NAMES.size(); i++) {
        m.put(KEY_USAGE_NAMES.get(i), i < bits.length && bits[i]);
      }
      return m;
    });
    SubjectPublicKeyInfo spki = tbs.getSubjectPublicKeyInfo();
    KeyDescription key = KeyDescription.of(spki, cert.getPublicKey());
    return new CertificateInfo(
        OpenSslNames.formatName(tbs.getSubject()),
        OpenSslNames.formatName(tbs.getIssuer()),
        OpenSslNames.formatTime(tbs.getStartDate()),
        OpenSslNames.formatTime(tbs.getEndDate()),
        CertificateEmails.of(tbs.getSubject(), extensions),
        purpose(ku, key),
        legacyPurpose(ku),
        kuMap,
        extendedKeyUsage(extensions),
        serial(tbs.getSerialNumber().getValue()),
        fingerprint("SHA-256", der),
        fingerprint("SHA-1", der),
        key.algorithm(),
        key.bits(),
        key.curve(),
        Pem.encode(cert));
  }

  /**
   * sympa-smime's rules: no keyUsage means any use; signing needs digitalSignature or
   * nonRepudiation; encryption needs keyEncipherment, or keyAgreement on an EC key.
   */
  static Purpose purpose(Optional<boolean[]> ku, KeyDescription key) {
    if (ku.isEmpty()) {
      return new Purpose(true, true);
    }
    boolean[] b = ku.get();
    boolean sign = bit(b, 0) || bit(b, 1);
    boolean enc = bit(b, 2) || (bit(b, 4) && key.algorithm().equals("EC"));
    return new Purpose(sign, enc);
  }

  /** Sympa 6.2.70: digitalSignature alone decides sign, keyEncipherment alone decides enc. */
  static Purpose legacyPurpose(Optional<boolean[]> ku) {
    return ku.map(b -> new Purpose(bit(b, 0), bit(b, 2))).orElse(new Purpose(false, false));
  }

  private static boolean bit(boolean[] bits, int i) {
    return i < bits.length && bits[i];
  }

  static Optional<boolean[]> keyUsageBits(Extensions extensions) {
    if (extensions == null) {
      return Optional.empty();
    }
    Extension ext = extensions.getExtension(Extension.keyUsage);
    if (ext == null) {
      return Optional.empty();
    }
    byte[] bytes = DERBitString.getInstance(ext.getParsedValue()).getBytes();
    boolean[] bits = new boolean[9];
    for (int i = 0; i < 9; i++) {
      int index = i / 8;
      bits[i] = index < bytes.length && (bytes[index] & (0x80 >>> (i % 8))) != 0;
    }
    return Optional.of(bits);
  }

  static Optional<List<String>> extendedKeyUsage(Extensions extensions) {
    if (extensions == null) {
      return Optional.empty();
    }
    Extension ext = extensions.getExtension(Extension.extendedKeyUsage);
    if (ext == null) {
      return Optional.empty();
    }
    List<String> names = new ArrayList<>();
    for (KeyPurposeId id : ExtendedKeyUsage.getInstance(ext.getParsedValue()).getUsages()) {
      ASN1ObjectIdentifier oid = id.toOID();
      names.add(OpenSslNames.shortNameOrOid(oid.getId()));
    }
    return Optional.of(names);
  }

  /** {@code i2a_ASN1_INTEGER}: two upper-case hex digits per byte of the magnitude. */
  static String serial(BigInteger value) {
    byte[] mag = value.abs().toByteArray();
    int start = (mag.length > 1 && mag[0] == 0) ? 1 : 0;
    StringBuilder out = new StringBuilder(value.signum() < 0 ? "-" : "");
    for (int i = start; i < mag.length; i++) {
      out.append(String.format(Locale.ROOT, "%02X", mag[i] & 0xff));
    }
    return out.toString();
  }

  private static String fingerprint(String algorithm, byte[] der) {
    try {
      byte[] d = MessageDigest.getInstance(algorithm).digest(der);
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < d.length; i++) {
        if (i > 0) {
          out.append(':');
        }
        out.append(String.format(Locale.ROOT, "%02X", d[i] & 0xff));
      }
      return out.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
