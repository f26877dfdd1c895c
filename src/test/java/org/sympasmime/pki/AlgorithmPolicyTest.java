package org.sympasmime.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.security.PublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The work limits and weights of {@link AlgorithmPolicy}, on keys made from numbers. */
class AlgorithmPolicyTest {
  /** Only the numbers: providers refuse to build some of these keys at all. */
  private static PublicKey rsa(int bits, BigInteger exponent) {
    BigInteger modulus = BigInteger.ONE.shiftLeft(bits - 1).add(BigInteger.valueOf(1234567));
    return new RSAPublicKey() {
      @Override
      public BigInteger getModulus() {
        return modulus;
      }

      @Override
      public BigInteger getPublicExponent() {
        return exponent;
      }

      @Override
      public String getAlgorithm() {
        return "RSA";
      }

      @Override
      public String getFormat() {
        return "none";
      }

      @Override
      public byte[] getEncoded() {
        return new byte[0];
      }
    };
  }

  @Test
  void keysThatMakeOneCheckCostlyAreRefusedWhateverThePolicy() {
    BigInteger f4 = BigInteger.valueOf(65537);
    BigInteger huge = BigInteger.ONE.shiftLeft(100).add(BigInteger.ONE);
    assertEquals(Optional.empty(), AlgorithmPolicy.workLimitRefusal(rsa(16384, f4)));
    assertTrue(AlgorithmPolicy.workLimitRefusal(rsa(16385, f4)).orElseThrow()
        .contains("16385-bit RSA key"));
    // A large exponent is what OpenSSL allows only with small moduli.
    assertEquals(Optional.empty(), AlgorithmPolicy.workLimitRefusal(rsa(3072, huge)));
    assertTrue(AlgorithmPolicy.workLimitRefusal(rsa(4096, huge)).orElseThrow()
        .contains("exponent of 101 bits"));
  }

  @Test
  void aCheckCostsWithTheSquareOfTheModulus() {
    BigInteger f4 = BigInteger.valueOf(65537);
    assertEquals(1, AlgorithmPolicy.verificationCost(rsa(1024, f4)));
    assertEquals(1, AlgorithmPolicy.verificationCost(rsa(2048, f4)));
    assertEquals(4, AlgorithmPolicy.verificationCost(rsa(4096, f4)));
    assertEquals(64, AlgorithmPolicy.verificationCost(rsa(16384, f4)));
  }

  @Test
  void signerInfoDigestsFollowTheTreatments() {
    List<String> warnings = new ArrayList<>();
    AlgorithmPolicy defaults = AlgorithmPolicy.defaults();
    assertTrue(defaults.signerInfoRefusal("1.2.840.113549.2.5", "1.2.840.113549.1.1.1", null,
        "signer x", warnings).orElseThrow().contains("MD5"));
    assertEquals(Optional.empty(), defaults.signerInfoRefusal("1.3.14.3.2.26",
        "1.2.840.113549.1.1.1", null, "signer x", warnings));
    assertEquals(List.of("signer x uses SHA-1"), warnings);
    AlgorithmPolicy noSha1 = new AlgorithmPolicy(AlgorithmPolicy.Treatment.REFUSE,
        AlgorithmPolicy.Treatment.REFUSE, AlgorithmPolicy.Treatment.WARN, 2048, 2048, 256);
    assertTrue(noSha1.signerInfoRefusal("1.3.14.3.2.26", "1.2.840.113549.1.1.1", null,
        "signer x", new ArrayList<>()).orElseThrow().contains("refuses"));
  }

  @Test
  void aPolicyBelowTheFloorIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new AlgorithmPolicy(
        AlgorithmPolicy.Treatment.REFUSE, AlgorithmPolicy.Treatment.WARN,
        AlgorithmPolicy.Treatment.WARN, 256, 2048, 224));
  }
}
