package org.sympasmime.pki;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/**
 * Certificates and private keys read from files, cached by {@link DiskSnapshots} (path,
 * modification time and size) so that a 10,000-member list does not re-parse the same list key
 * for every copy, and a replaced file is picked up at once. Thread-safe.
 */
public final class KeyMaterial {
  /** Beyond this many entries a cache starts afresh rather than growing without bound. */
  private static final int MAX_ENTRIES = 100_000;

  private final DiskSnapshots<List<X509Certificate>> certificates =
      new DiskSnapshots<>(MAX_ENTRIES);
  private final DiskSnapshots<PrivateKey> keys = new DiskSnapshots<>(MAX_ENTRIES);

  /**
   * Every certificate in the file, in file order; never empty. The first one, which Sympa
   * treats as the key's own, has a public key that decodes.
   */
  public List<X509Certificate> certificates(Path path) throws SmimeException {
    return certificates.get(fileSnapshot(path), snapshot -> {
      List<X509Certificate> loaded = List.copyOf(Pem.certificates(read(path)));
      if (loaded.isEmpty()) {
        throw new SmimeException(Reason.BAD_CERTIFICATE, "no certificate in " + path);
      }
      requireDecodableKey(loaded.get(0), path.toString());
      return loaded;
    });
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
    String variant = password.map(KeyMaterial::digest).orElse("-");
    return keys.get(fileSnapshot(path), variant, snapshot -> {
      try {
        return Pem.privateKey(read(path), password);
      } catch (SmimeException e) {
        throw new SmimeException(e.reason(), e.getMessage() + " (" + path + ")");
      }
    });
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
    return certificates.hits() + keys.hits();
  }

  public long misses() {
    return certificates.misses() + keys.misses();
  }

  public int size() {
    return certificates.size() + keys.size();
  }

  /** A key or certificate is one regular file; anything else is {@code file_unreadable}. */
  private static DiskSnapshots.Snapshot fileSnapshot(Path path) throws SmimeException {
    DiskSnapshots.Snapshot snapshot;
    try {
      snapshot = DiskSnapshots.snapshot(path);
    } catch (IOException e) {
      throw unreadable(path, e);
    }
    if (snapshot.directory()) {
      throw new SmimeException(Reason.FILE_UNREADABLE, "cannot read " + path
          + ": a directory, not a file");
    }
    return snapshot;
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
