package org.sympasmime.pki;

import java.util.Optional;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;

/** Extension values of certificates and CRLs, decoded without throwing. */
final class Extensions {
  private Extensions() {}

  /**
   * The value inside the OCTET STRING that {@code getExtensionValue} returns; empty when the
   * extension is absent or does not decode, which every caller treats as "not there".
   */
  static Optional<ASN1Primitive> decode(byte[] raw) {
    if (raw == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(ASN1Primitive.fromByteArray(
          ASN1OctetString.getInstance(raw).getOctets()));
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  /**
   * The value inside the OCTET STRING; empty when the extension is absent, an unchecked
   * exception when it does not decode, for callers that must refuse what they cannot read.
   */
  static Optional<ASN1Primitive> decodeStrict(byte[] raw) {
    if (raw == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(ASN1Primitive.fromByteArray(
          ASN1OctetString.getInstance(raw).getOctets()));
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("an extension does not decode", e);
    }
  }
}
