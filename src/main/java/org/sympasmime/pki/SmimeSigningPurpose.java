package org.sympasmime.pki;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.DERBitString;
import org.sympasmime.Reason;

/**
 * The one rule for "may sign mail", OpenSSL's {@code smimesign} purpose. {@code smime.sign}
 * refuses to sign with a certificate this rule rejects and {@code smime.verify} refuses a path
 * it rejects, so whatever the list signs, its own verifier (and OpenSSL) accepts.
 *
 * <ul>
 *   <li>the signer's extendedKeyUsage, when present, includes emailProtection
 *       (anyExtendedKeyUsage alone is not enough for OpenSSL, so not for us);
 *   <li>its keyUsage, when present, allows digitalSignature or nonRepudiation;
 *   <li>its Netscape cert type, when present, allows S/MIME or SSL client (an OpenSSL
 *       workaround for old certificates we keep so as not to refuse what it accepts);
 *   <li>every CA's extendedKeyUsage, when present, includes emailProtection.
 * </ul>
 */
public final class SmimeSigningPurpose {
  static final String EXTENDED_KEY_USAGE = "2.5.29.37";
  static final String NETSCAPE_CERT_TYPE = "2.16.840.1.113730.1.1";
  private static final String EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4";
  private static final int NS_SSL_CLIENT = 0x80;
  private static final int NS_SMIME = 0x20;
  private static final int NS_SMIME_CA = 0x02;

  private SmimeSigningPurpose() {}

  /** Why {@code leaf} may not sign mail. */
  public static Optional<ChainValidator.Failure> ofSigner(X509Certificate leaf) {
    String name = OpenSslNames.formatName(leaf.getSubjectX500Principal());
    Optional<ChainValidator.Failure> eku = extendedKeyUsage(leaf, "");
    if (eku.isPresent()) {
      return eku;
    }
    boolean[] ku = leaf.getKeyUsage();
    if (ku != null && !(ku[0] || (ku.length > 1 && ku[1]))) {
      return wrongUsage("the keyUsage of " + name
          + " allows neither digitalSignature nor nonRepudiation");
    }
    byte[] raw = leaf.getExtensionValue(NETSCAPE_CERT_TYPE);
    if (raw != null) {
      Optional<byte[]> bits = Extensions.decode(raw)
          .map(v -> DERBitString.getInstance(v).getBytes());
      if (bits.isEmpty()) {
        return Optional.of(new ChainValidator.Failure(Reason.UNTRUSTED_CHAIN,
            "the Netscape cert type of " + name + " does not decode"));
      }
      int first = bits.get().length > 0 ? bits.get()[0] & 0xff : 0;
      if ((first & (NS_SMIME | NS_SSL_CLIENT)) == 0) {
        return wrongUsage("the Netscape cert type of " + name + " does not allow S/MIME");
      }
    }
    return Optional.empty();
  }

  /** A Netscape cert type with the S/MIME CA bit (0x02), which OpenSSL takes as a CA. */
  static boolean netscapeSmimeCa(X509Certificate c) {
    return Extensions.decode(c.getExtensionValue(NETSCAPE_CERT_TYPE))
        .map(v -> DERBitString.getInstance(v).getBytes())
        .map(bits -> bits.length > 0 && (bits[0] & NS_SMIME_CA) != 0)
        .orElse(false);
  }

  /**
   * Why {@code leaf} may not stand at the end of a path as a recipient of encrypted mail: an
   * extendedKeyUsage without emailProtection. Its keyUsage is {@code smime.encrypt}'s to judge
   * (key encipherment or agreement, by key type).
   */
  public static Optional<ChainValidator.Failure> ofRecipient(X509Certificate leaf) {
    return extendedKeyUsage(leaf, "");
  }

  /** Why {@code ca} may not issue certificates for mail signers. */
  public static Optional<ChainValidator.Failure> ofIssuer(X509Certificate ca) {
    return extendedKeyUsage(ca, "CA ");
  }

  private static Optional<ChainValidator.Failure> extendedKeyUsage(X509Certificate c,
      String role) {
    List<String> eku;
    try {
      eku = c.getExtendedKeyUsage();
    } catch (Exception e) {
      return Optional.of(new ChainValidator.Failure(Reason.UNTRUSTED_CHAIN,
          "the extendedKeyUsage of " + role + OpenSslNames.formatName(
              c.getSubjectX500Principal()) + " does not decode"));
    }
    if (eku != null && !eku.contains(EMAIL_PROTECTION)) {
      return wrongUsage("the extendedKeyUsage of " + role
          + OpenSslNames.formatName(c.getSubjectX500Principal())
          + " does not include emailProtection");
    }
    return Optional.empty();
  }

  private static Optional<ChainValidator.Failure> wrongUsage(String detail) {
    return Optional.of(new ChainValidator.Failure(Reason.WRONG_USAGE, detail));
  }
}
