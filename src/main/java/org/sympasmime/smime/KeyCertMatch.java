package org.sympasmime.smime;

import java.nio.file.Path;
import java.security.InvalidKeyException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.jcajce.interfaces.EdDSAPrivateKey;
import org.bouncycastle.jcajce.provider.asymmetric.util.ECUtil;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/**
 * Whether a private key is the one of a certificate, found by deriving or comparing the public
 * half rather than by a trial operation: cheap enough to run before every signature, it never
 * uses the key on data, and it catches a wrong key before it garbles a signature or an unwrap.
 */
final class KeyCertMatch {
  private KeyCertMatch() {}

  /** Refuses a key that is not the certificate's, naming both files (never the key). */
  static void require(PrivateKey key, Path keyFile, X509Certificate cert, Path certFile)
      throws SmimeException {
    if (!matches(key, cert.getPublicKey())) {
      throw new SmimeException(Reason.KEY_MISMATCH, "the private key " + keyFile
          + " does not belong to the certificate " + certFile + " ("
          + X500Name.getInstance(cert.getSubjectX500Principal().getEncoded()) + ")");
    }
  }

  static boolean matches(PrivateKey key, PublicKey certKey) {
    if (key instanceof RSAPrivateKey rsa) {
      if (!(certKey instanceof RSAPublicKey pub) || !rsa.getModulus().equals(pub.getModulus())) {
        return false;
      }
      return !(key instanceof RSAPrivateCrtKey crt)
          || crt.getPublicExponent().equals(pub.getPublicExponent());
    }
    if (certKey instanceof ECPublicKey) {
      return sameEcKey(key, certKey);
    }
    if (key instanceof EdDSAPrivateKey ed) {
      return Arrays.equals(ed.getPublicKey().getEncoded(), certKey.getEncoded());
    }
    return false;
  }

  /** d times G is Q on the same curve; through BC's parameters, whatever made the key objects. */
  private static boolean sameEcKey(PrivateKey key, PublicKey certKey) {
    try {
      if (!(ECUtil.generatePrivateKeyParameter(key) instanceof ECPrivateKeyParameters priv)
          || !(ECUtil.generatePublicKeyParameter(certKey) instanceof ECPublicKeyParameters q)) {
        return false;
      }
      if (!priv.getParameters().getCurve().equals(q.getParameters().getCurve())) {
        return false;
      }
      return new FixedPointCombMultiplier()
          .multiply(priv.getParameters().getG(), priv.getD())
          .normalize()
          .equals(q.getQ().normalize());
    } catch (InvalidKeyException | RuntimeException e) {
      return false;
    }
  }
}
