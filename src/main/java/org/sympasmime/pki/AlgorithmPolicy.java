package org.sympasmime.pki;

import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.DSAPublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.pkcs.RSASSAPSSparams;

/**
 * Which algorithms a certificate path and a SignerInfo may use. One policy serves
 * {@code smime.verify} and {@code smime.sign}, so a list never signs with a certificate its own
 * verifier would refuse.
 *
 * <p>Fixed, whatever the configuration ({@link #workLimitRefusal}): RSA moduli over 16,384
 * bits, RSA public exponents over 64 bits with moduli over 3,072 bits, DSA primes over 10,000
 * bits (as OpenSSL) and curves over 571 bits are refused, because a single such signature check
 * can take seconds.
 *
 * @param md5 MD2, MD4 and MD5 signatures and digests (default: refused; collisions are
 *     practical, and a rogue CA certificate was made with MD5)
 * @param minRsaBits RSA keys below this are refused (default 1024)
 * @param strongRsaBits RSA keys below this, and at least {@code minRsaBits}, are accepted with
 *     a warning (default 2048)
 * @param minEcBits elliptic curves whose order is below this many bits are refused (default 224)
 * @param sha1 SHA-1 signatures and digests (default: accepted with a warning)
 * @param dsa DSA keys (default: accepted with a warning; the RFC 4134 examples use them)
 */
public record AlgorithmPolicy(Treatment md5, Treatment sha1, Treatment dsa, int minRsaBits,
    int strongRsaBits, int minEcBits) {

  /** What happens to an algorithm that is weak but not broken. */
  public enum Treatment {
    ACCEPT, WARN, REFUSE
  }

  private static final int MAX_RSA_BITS = 16384;
  private static final int SMALL_RSA_BITS = 3072;
  private static final int MAX_RSA_EXPONENT_BITS = 64;
  private static final int MAX_DSA_BITS = 10000;
  /** The largest standard curve order (sect571, P-521 has 521). */
  private static final int MAX_EC_BITS = 571;

  private static final Set<String> BROKEN_DIGESTS = Set.of(
      "1.2.840.113549.2.2", // MD2
      "1.2.840.113549.2.4", // MD4
      "1.2.840.113549.2.5"); // MD5
  private static final Set<String> BROKEN_SIGNATURES = Set.of(
      "1.2.840.113549.1.1.2", // md2WithRSAEncryption
      "1.2.840.113549.1.1.3", // md4WithRSAEncryption
      "1.2.840.113549.1.1.4", // md5WithRSAEncryption
      "1.3.14.3.2.3", // md5WithRSA (OIW)
      "1.3.14.3.2.25"); // md2WithRSASignature (OIW)
  private static final String SHA1 = "1.3.14.3.2.26";
  private static final String MD5 = "1.2.840.113549.2.5";
  private static final Set<String> SHA1_SIGNATURES = Set.of(
      "1.2.840.113549.1.1.5", // sha1WithRSAEncryption
      "1.3.14.3.2.29", // sha1WithRSA (OIW)
      "1.2.840.10045.4.1", // ecdsa-with-SHA1
      "1.2.840.10040.4.3", // dsa-with-sha1
      "1.3.14.3.2.27"); // dsaWithSHA1 (OIW)
  private static final String RSASSA_PSS = "1.2.840.113549.1.1.10";

  public AlgorithmPolicy {
    Objects.requireNonNull(md5);
    Objects.requireNonNull(sha1);
    Objects.requireNonNull(dsa);
    if (minRsaBits < 512 || strongRsaBits < minRsaBits || minEcBits < 160) {
      throw new IllegalArgumentException("an algorithm policy below the floor: RSA "
          + minRsaBits + "/" + strongRsaBits + ", EC " + minEcBits);
    }
  }

  /**
   * MD5 refused, RSA from 1024 bits and EC from 224 accepted, SHA-1, RSA under 2048 bits and DSA
   * accepted with a warning.
   */
  public static AlgorithmPolicy defaults() {
    return new AlgorithmPolicy(Treatment.REFUSE, Treatment.WARN, Treatment.WARN, 1024, 2048,
        224);
  }

  /**
   * Checks a certificate's signature algorithm and public key.
   *
   * @param warnings receives one line per weak-but-accepted algorithm
   * @return why the certificate is refused
   */
  public Optional<String> refusal(X509Certificate cert, List<String> warnings) {
    String name = OpenSslNames.formatName(cert.getSubjectX500Principal());
    Optional<String> signature = signature(cert.getSigAlgOID(), cert.getSigAlgParams(),
        "the signature on " + name, warnings);
    if (signature.isPresent()) {
      return signature;
    }
    return key(cert.getPublicKey(), "the key of " + name, warnings);
  }

  /** Checks the digest and signature algorithms of a SignerInfo. */
  public Optional<String> signerInfoRefusal(String digestOid, String signatureOid,
      byte[] signatureParams, String who, List<String> warnings) {
    if (BROKEN_DIGESTS.contains(digestOid)) {
      Optional<String> refused = weak(md5, who + " uses MD5 (or older)", warnings);
      if (refused.isPresent()) {
        return refused;
      }
    }
    if (digestOid.equals(SHA1)) {
      Optional<String> refused = weak(sha1, who + " uses SHA-1", warnings);
      if (refused.isPresent()) {
        return refused;
      }
    }
    return signature(signatureOid, signatureParams, who, warnings);
  }

  private Optional<String> signature(String oid, byte[] params, String what,
      List<String> warnings) {
    String digest = SHA1_SIGNATURES.contains(oid) ? SHA1
        : BROKEN_SIGNATURES.contains(oid) ? MD5 : "";
    if (oid.equals(RSASSA_PSS) && params != null) {
      try {
        AlgorithmIdentifier hash = RSASSAPSSparams.getInstance(params).getHashAlgorithm();
        digest = hash.getAlgorithm().getId();
      } catch (RuntimeException e) {
        return Optional.of(what + " has RSA-PSS parameters that do not decode");
      }
    }
    if (MD5.equals(digest) || BROKEN_DIGESTS.contains(digest)) {
      return weak(md5, what + " uses MD5 (or older)", warnings);
    }
    if (SHA1.equals(digest)) {
      return weak(sha1, what + " uses SHA-1", warnings);
    }
    return Optional.empty();
  }

  /**
   * The limits no setting changes, because they bound the work one signature check costs:
   * anyone can send a certificate, and the path search checks signatures with keys it has not
   * judged yet. Checked before any signature is verified with {@code key}.
   */
  public static Optional<String> workLimitRefusal(PublicKey key) {
    if (key instanceof RSAPublicKey rsa) {
      int bits = rsa.getModulus().bitLength();
      if (bits > MAX_RSA_BITS) {
        return Optional.of("a " + bits + "-bit RSA key, over " + MAX_RSA_BITS);
      }
      if (bits > SMALL_RSA_BITS && rsa.getPublicExponent().bitLength() > MAX_RSA_EXPONENT_BITS) {
        return Optional.of("an RSA public exponent of "
            + rsa.getPublicExponent().bitLength() + " bits");
      }
    } else if (key instanceof DSAPublicKey dsaKey && dsaKey.getParams() != null
        && dsaKey.getParams().getP().bitLength() > MAX_DSA_BITS) {
      return Optional.of("a DSA key over " + MAX_DSA_BITS + " bits");
    } else if (ecOrderBits(key) > MAX_EC_BITS) {
      return Optional.of("a curve of " + ecOrderBits(key) + " bits, over " + MAX_EC_BITS);
    }
    return Optional.empty();
  }

  /**
   * What one signature check with {@code key} costs, in checks with an RSA-2048 key: an RSA
   * check grows with the square of the modulus, so a path search budget counted in checks
   * alone could be spent 64 times over with 16,384-bit keys.
   */
  public static int verificationCost(PublicKey key) {
    if (key instanceof RSAPublicKey rsa) {
      long bits = rsa.getModulus().bitLength();
      return (int) Math.max(1, bits * bits / (2048L * 2048L));
    }
    if (key instanceof DSAPublicKey dsaKey && dsaKey.getParams() != null) {
      long bits = dsaKey.getParams().getP().bitLength();
      return (int) Math.max(1, bits * bits / (2048L * 2048L));
    }
    return 1;
  }

  private static int ecOrderBits(PublicKey key) {
    if (key instanceof ECPublicKey ec) {
      return ec.getParams().getOrder().bitLength();
    }
    if (key instanceof org.bouncycastle.jce.interfaces.ECPublicKey bcEc
        && bcEc.getParameters() != null) {
      return bcEc.getParameters().getN().bitLength();
    }
    return 0;
  }

  private Optional<String> key(PublicKey key, String what, List<String> warnings) {
    Optional<String> tooCostly = workLimitRefusal(key);
    if (tooCostly.isPresent()) {
      return Optional.of(what + " is " + tooCostly.get());
    }
    if (key instanceof RSAPublicKey rsa) {
      int bits = rsa.getModulus().bitLength();
      if (bits < minRsaBits) {
        return Optional.of(what + " is a " + bits + "-bit RSA key; at least " + minRsaBits
            + " bits are required");
      }
      if (bits < strongRsaBits) {
        warnings.add(what + " is a " + bits + "-bit RSA key");
      }
    } else if (key instanceof DSAPublicKey) {
      return weak(dsa, what + " is a DSA key", warnings);
    } else if (ecOrderBits(key) > 0 && ecOrderBits(key) < minEcBits) {
      return Optional.of(what + " is on a " + ecOrderBits(key) + "-bit curve; at least "
          + minEcBits + " bits are required");
    }
    return Optional.empty();
  }

  private static Optional<String> weak(Treatment treatment, String what, List<String> warnings) {
    switch (treatment) {
      case REFUSE:
        return Optional.of(what + ", which the algorithm policy refuses");
      case WARN:
        warnings.add(what);
        return Optional.empty();
      default:
        return Optional.empty();
    }
  }
}
