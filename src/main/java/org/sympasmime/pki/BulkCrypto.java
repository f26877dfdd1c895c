package org.sympasmime.pki;

import java.security.Provider;
import java.security.Security;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * Where the work proportional to a message's size is done: its content cipher (AES, 3DES) and
 * its content digest. The JDK's providers run AES and SHA-2 on the CPU's own instructions
 * (AES-NI, SHA extensions) where Bouncy Castle's are plain Java: over 2 MB, AES-CBC took 4 ms
 * against 10 ms and SHA-256 1.1 ms against 6.8 ms (docs/performance.md). Bouncy Castle keeps
 * everything else (key transport and agreement, signatures, parsing), so which algorithms are
 * accepted does not change; a digest the JDK lacks is taken from Bouncy Castle. Only the CBC
 * ciphers come from here: Bouncy Castle's AuthEnvelopedData code streams GCM through the
 * cipher in a way the JDK's GCM refuses (its tag check failed every message).
 */
public final class BulkCrypto {
  private static final Provider CIPHERS = orBouncyCastle(Security.getProvider("SunJCE"));
  private static final DigestCalculatorProvider DIGESTS = digestsWithFallback();

  private BulkCrypto() {}

  /** The provider of content ciphers, for BC's {@code setContentProvider} and encryptors. */
  public static Provider ciphers() {
    return CIPHERS;
  }

  /** Content digests: the JDK's, else Bouncy Castle's. Thread-safe. */
  public static DigestCalculatorProvider digests() {
    return DIGESTS;
  }

  private static Provider orBouncyCastle(Provider provider) {
    return provider != null ? provider : BcProvider.get();
  }

  private static DigestCalculatorProvider digestsWithFallback() {
    DigestCalculatorProvider bc;
    DigestCalculatorProvider jdk;
    try {
      bc = new JcaDigestCalculatorProviderBuilder().setProvider(BcProvider.get()).build();
      jdk = new JcaDigestCalculatorProviderBuilder()
          .setProvider(orBouncyCastle(Security.getProvider("SUN"))).build();
    } catch (OperatorCreationException e) {
      throw new IllegalStateException("no digest calculator provider", e);
    }
    return new DigestCalculatorProvider() {
      @Override
      public DigestCalculator get(AlgorithmIdentifier algorithm)
          throws OperatorCreationException {
        try {
          return jdk.get(algorithm);
        } catch (OperatorCreationException | RuntimeException e) {
          return bc.get(algorithm);
        }
      }
    };
  }
}
