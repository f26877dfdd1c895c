package org.sympasmime.pki;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/**
 * Loads and caches trust stores. A {@code cafile} is keyed by path, modification time and size;
 * a {@code capath} by the names, modification times and sizes of every file in it, so adding,
 * replacing or removing a certificate is seen on the next call. Thread-safe.
 *
 * <p>Unlike Crypt::SMIME, a {@code capath} is read whole (every file, with or without
 * {@code c_rehash} links) and the system store is used only when neither {@code cafile} nor
 * {@code capath} is set.
 */
public final class TrustStores {
  public static final Path SYSTEM_CA_FILE = Path.of("/etc/ssl/certs/ca-certificates.crt");
  private static final int MAX_ENTRIES = 64;

  private final Path systemCaFile;
  private final Map<Object, TrustStore> cache = new ConcurrentHashMap<>();

  public TrustStores() {
    this(SYSTEM_CA_FILE);
  }

  public TrustStores(Path systemCaFile) {
    this.systemCaFile = systemCaFile;
  }

  /** The store for these settings; the system store when both are absent. */
  public TrustStore load(Optional<Path> cafile, Optional<Path> capath) throws SmimeException {
    if (cafile.isEmpty() && capath.isEmpty()) {
      return file(systemCaFile);
    }
    List<TrustStore> parts = new ArrayList<>();
    if (cafile.isPresent()) {
      parts.add(file(cafile.get()));
    }
    if (capath.isPresent()) {
      parts.add(directory(capath.get()));
    }
    return parts.size() == 1 ? parts.get(0) : TrustStore.union(parts);
  }

  private record FileKey(Path path, long mtime, long size) {}

  private record DirKey(Path path, Map<String, List<Long>> listing) {}

  private TrustStore file(Path path) throws SmimeException {
    FileKey key;
    try {
      BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
      if (!a.isRegularFile()) {
        throw unreadable(path, "not a file");
      }
      key = new FileKey(path.toAbsolutePath().normalize(), a.lastModifiedTime().toMillis(),
          a.size());
    } catch (NoSuchFileException e) {
      throw unreadable(path, "no such file");
    } catch (IOException e) {
      throw unreadable(path, e.getClass().getSimpleName());
    }
    TrustStore cached = cache.get(key);
    if (cached != null) {
      return cached;
    }
    List<X509Certificate> certs;
    try {
      certs = Pem.certificates(Files.readAllBytes(path));
    } catch (IOException e) {
      throw unreadable(path, e.getClass().getSimpleName());
    } catch (SmimeException e) {
      throw unreadable(path, e.getMessage());
    }
    if (certs.isEmpty()) {
      throw unreadable(path, "no certificate in it");
    }
    return put(key, new TrustStore(certs));
  }

  private TrustStore directory(Path dir) throws SmimeException {
    Map<String, List<Long>> listing = new TreeMap<>();
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
      for (Path p : stream) {
        BasicFileAttributes a;
        try {
          a = Files.readAttributes(p, BasicFileAttributes.class); // follows hash links
        } catch (IOException e) {
          continue; // a dangling link is not a certificate
        }
        if (a.isRegularFile()) {
          listing.put(p.getFileName().toString(),
              List.of(a.lastModifiedTime().toMillis(), a.size()));
          files.add(p);
        }
      }
    } catch (NoSuchFileException e) {
      throw unreadable(dir, "no such directory");
    } catch (IOException e) {
      throw unreadable(dir, e.getClass().getSimpleName());
    }
    DirKey key = new DirKey(dir.toAbsolutePath().normalize(), listing);
    TrustStore cached = cache.get(key);
    if (cached != null) {
      return cached;
    }
    List<X509Certificate> certs = new ArrayList<>();
    files.sort(null);
    for (Path p : files) {
      try {
        certs.addAll(Pem.certificates(Files.readAllBytes(p)));
      } catch (IOException | SmimeException e) {
        // Not a certificate file (a CRL, a README, a broken file): OpenSSL's hashed lookup
        // would not find a certificate in it either.
      }
    }
    return put(key, new TrustStore(certs));
  }

  private TrustStore put(Object key, TrustStore store) {
    if (cache.size() >= MAX_ENTRIES) {
      cache.clear();
    }
    cache.put(key, store);
    return store;
  }

  private static SmimeException unreadable(Path path, String why) {
    return new SmimeException(Reason.TRUST_STORE_UNREADABLE,
        "cannot read trust store " + path + ": " + why);
  }
}
