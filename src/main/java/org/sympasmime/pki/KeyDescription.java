package org.sympasmime.pki;

import java.security.PublicKey;
import java.security.interfaces.DSAPublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/**
 * A public key's algorithm, size and curve as OpenSSL names them ({@code EVP_PKEY_bits}: 253
 * for Ed25519 and X25519, 456 for Ed448, 448 for X448).
 */
record KeyDescription(String algorithm, int bits, Optional<String> curve) {

  static KeyDescription of(SubjectPublicKeyInfo spki, PublicKey key) {
    String oid = spki.getAlgorithm().getAlgorithm().getId();
    switch (oid) {
      case "1.2.840.113549.1.1.1":
        return new KeyDescription("RSA", rsaBits(key), Optional.empty());
      case "1.2.840.113549.1.1.10":
        return new KeyDescription("RSA-PSS", rsaBits(key), Optional.empty());
      case "1.2.840.10045.2.1": {
        ASN1Encodable params = spki.getAlgorithm().getParameters();
        Optional<String> curve = params instanceof ASN1ObjectIdentifier named
            ? Optional.of(OpenSslNames.shortNameOrOid(named.getId())) : Optional.empty();
        int bits = key instanceof ECPublicKey ec ? ec.getParams().getOrder().bitLength() : 0;
        return new KeyDescription("EC", bits, curve);
      }
      case "1.2.840.10040.4.1": {
        int bits = 0;
        if (key instanceof DSAPublicKey dsa) {
          bits = dsa.getParams() != null ? dsa.getParams().getP().bitLength()
              : dsa.getY().bitLength();
        }
        return new KeyDescription("DSA", bits, Optional.empty());
      }
      case "1.3.101.112":
        return new KeyDescription("Ed25519", 253, Optional.empty());
      case "1.3.101.113":
        return new KeyDescription("Ed448", 456, Optional.empty());
      case "1.3.101.110":
        return new KeyDescription("X25519", 253, Optional.empty());
      case "1.3.101.111":
        return new KeyDescription("X448", 448, Optional.empty());
      default:
        return new KeyDescription(OpenSslNames.shortNameOrOid(oid), 0, Optional.empty());
    }
  }

  private static int rsaBits(PublicKey key) {
    return key instanceof RSAPublicKey rsa ? rsa.getModulus().bitLength() : 0;
  }
}
