package org.sympasmime.testutil;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.sympasmime.pki.BcProvider;

/**
 * Key pairs made with Bouncy Castle, once per test JVM and name. Certificates that must be told
 * apart by key use different names; certificates that must share a key (re-issued or
 * cross-signed CAs, lattices) use the same one. Key generation is the slow part of building
 * hundreds of certificates, so nothing here is made twice.
 */
public final class TestKeys {
  private static final Map<String, KeyPair> CACHE = new ConcurrentHashMap<>();

  private TestKeys() {}

  /** RSA of {@code bits} bits. */
  public static KeyPair rsa(String name, int bits) {
    return CACHE.computeIfAbsent("rsa" + bits + "/" + name, k -> generate("RSA", bits));
  }

  /** RSA 2048. */
  public static KeyPair rsa(String name) {
    return rsa(name, 2048);
  }

  /** EC on a named curve ({@code P-192}, {@code P-224}, {@code P-256}, {@code P-384}). */
  public static KeyPair ec(String name, String curve) {
    return CACHE.computeIfAbsent("ec" + curve + "/" + name, k -> {
      try {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BcProvider.get());
        g.initialize(new ECGenParameterSpec(curve));
        return g.generateKeyPair();
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  public static KeyPair ed25519(String name) {
    return CACHE.computeIfAbsent("ed25519/" + name, k -> generate("Ed25519", 0));
  }

  /** DSA 2048 on Bouncy Castle's precomputed parameters (generating them takes seconds). */
  public static KeyPair dsa(String name) {
    return CACHE.computeIfAbsent("dsa/" + name, k -> generate("DSA", 2048));
  }

  private static KeyPair generate(String algorithm, int bits) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm, BcProvider.get());
      if (bits > 0) {
        g.initialize(bits);
      }
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
