package org.sympasmime.pki;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/**
 * Certificates and private keys read from files, cached by path, modification time and size so
 * that a 10,000-member list does not re-parse the same list key for every copy, and a replaced
 * file is picked up at once. Thread-safe.
 */
public final class KeyMaterial {
  /** Beyond this many entries the cache starts afresh rather than growing without bound. */
  private static final int MAX_ENTRIES = 100_000;

  private record CacheKey(Path path, long mtime, long size, String variant) {}

  private final Map<CacheKey, List<X509Certificate>> certificates = new ConcurrentHashMap<>();
  private final Map<CacheKey, PrivateKey> keys = new ConcurrentHashMap<>();
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();

  /**
   * Every certificate in the file, in file order; never empty. The first one, which Sympa
   * treats as the key's own, has a public key that decodes.
   */
  public List<X509Certificate> certificates(Path path) throws SmimeException {
    CacheKey key = cacheKey(path, "");
    List<X509Certificate> cached = certificates.get(key);
    if (cached != null) {
      hits.increment();
      return cached;
    }
    misses.increment();
    List<X509Certificate> loaded = List.copyOf(Pem.certificates(read(path)));
    if (loaded.isEmpty()) {
      throw new SmimeException(Reason.BAD_CERTIFICATE, "no certificate in " + path);
    }
    requireDecodableKey(loaded.get(0), path.toString());
    put(certificates, key, loaded);
    return loaded;
  }

  /** The first certificate of the file, which Sympa treats as the key's own certificate. */
  public X509Certificate certificate(Path path) throws SmimeException {
    return certificates(path).get(0);
  }

  /**
   * The private key in the file. The cache entry is bound to a digest of the password, so a
   * wrong password never unlocks a key cached under the right one.
   */
  public PrivateKey privateKey(Path path, Optional<String> password) throws SmimeException {
    CacheKey key = cacheKey(path, password.map(KeyMaterial::digest).orElse("-"));
    PrivateKey cached = keys.get(key);
    if (cached != null) {
      hits.increment();
      return cached;
    }
    misses.increment();
    PrivateKey loaded;
    try {
      loaded = Pem.privateKey(read(path), password);
    } catch (SmimeException e) {
      throw new SmimeException(e.reason(), e.getMessage() + " (" + path + ")");
    }
    put(keys, key, loaded);
    return loaded;
  }

  /**
   * Bouncy Castle decodes a certificate's public key only when asked, and then throws an
   * unchecked exception: ask once where the certificate comes in, and call a failure what it is.
   */
  public static X509Certificate requireDecodableKey(X509Certificate cert, String origin)
      throws SmimeException {
    try {
      cert.getPublicKey();
      return cert;
    } catch (RuntimeException e) {
      throw new SmimeException(Reason.BAD_CERTIFICATE,
          "the public key of the certificate in " + origin + " does not decode");
    }
  }

  public long hits() {
    return hits.sum();
  }

  public long misses() {
    return misses.sum();
  }

  public int size() {
    return certificates.size() + keys.size();
  }

  private static <V> void put(Map<CacheKey, V> map, CacheKey key, V value) {
    if (map.size() >= MAX_ENTRIES) {
      map.clear();
    }
    map.put(key, value);
  }

  private static CacheKey cacheKey(Path path, String variant) throws SmimeException {
    try {
      BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class);
      return new CacheKey(path.toAbsolutePath().normalize(),
          attrs.lastModifiedTime().toMillis(), attrs.size(), variant);
    } catch (IOException e) {
      throw unreadable(path, e);
    }
  }

  /** The bytes of a key or certificate file; a file we cannot read is {@code file_unreadable}. */
  static byte[] read(Path path) throws SmimeException {
    try {
      return Files.readAllBytes(path);
    } catch (IOException e) {
      throw unreadable(path, e);
    }
  }

  private static SmimeException unreadable(Path path, IOException e) {
    return new SmimeException(Reason.FILE_UNREADABLE, e instanceof NoSuchFileException
        ? "no such file: " + path
        : "cannot read " + path + ": " + e.getClass().getSimpleName());
  }

  private static String digest(String password) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256")
          .digest(password.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
