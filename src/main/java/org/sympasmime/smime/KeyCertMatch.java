package org.sympasmime.smime;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import org.bouncycastle.jcajce.interfaces.EdDSAPrivateKey;
import org.bouncycastle.jce.interfaces.ECPrivateKey;
import org.bouncycastle.math.ec.ECPoint;

/**
 * Whether a private key is the one of a certificate, found by deriving or comparing the public
 * half rather than by a trial signature: cheap enough to run before every signing, and it never
 * uses the key on data.
 */
final class KeyCertMatch {
  private KeyCertMatch() {}

  static boolean matches(PrivateKey key, PublicKey certKey) {
    if (key instanceof RSAPrivateKey rsa) {
      if (!(certKey instanceof RSAPublicKey pub) || !rsa.getModulus().equals(pub.getModulus())) {
        return false;
      }
      return !(key instanceof RSAPrivateCrtKey crt)
          || crt.getPublicExponent().equals(pub.getPublicExponent());
    }
    if (key instanceof ECPrivateKey ec) {
      if (!(certKey instanceof java.security.interfaces.ECPublicKey pub)) {
        return false;
      }
      if (!ec.getParameters().getN().equals(pub.getParams().getOrder())) {
        return false;
      }
      ECPoint q = ec.getParameters().getG().multiply(ec.getD()).normalize();
      return q.getAffineXCoord().toBigInteger().equals(pub.getW().getAffineX())
          && q.getAffineYCoord().toBigInteger().equals(pub.getW().getAffineY());
    }
    if (key instanceof EdDSAPrivateKey ed) {
      return Arrays.equals(ed.getPublicKey().getEncoded(), certKey.getEncoded());
    }
    return false;
  }
}
