package org.sympasmime.pki;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.cert.X509CRL;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/**
 * Loads and caches the CRLs given as {@code crls}: one file (PEM, possibly several CRLs, or
 * DER), or a directory whose every regular file is read. Cached as {@link TrustStores} caches
 * stores: a file by path, modification time and size, a directory by the names, times and sizes
 * of all its files, so a refreshed CRL is seen on the next call. Thread-safe.
 */
public final class Crls {
  private static final int MAX_ENTRIES = 64;
  private static final byte[] CRL_MARKER =
      "-----BEGIN X509 CRL-----".getBytes(StandardCharsets.US_ASCII);

  private final Map<Object, CrlSet> cache = new ConcurrentHashMap<>();

  private record FileKey(Path path, long mtime, long size) {}

  private record DirKey(Path path, Map<String, List<Long>> listing) {}

  /**
   * The CRLs at {@code path}. A missing or unreadable path, a file without any CRL, or a CRL that
   * does not decode is {@code file_unreadable}: revocation checking was asked for and cannot be
   * done. In a directory, files holding no CRL (certificates, a README) are skipped.
   */
  public CrlSet load(Path path) throws SmimeException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(path, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw unreadable(path, "no such file or directory");
    } catch (IOException e) {
      throw unreadable(path, e.getClass().getSimpleName());
    }
    if (a.isDirectory()) {
      return directory(path);
    }
    if (!a.isRegularFile()) {
      throw unreadable(path, "not a file or directory");
    }
    FileKey key = new FileKey(path.toAbsolutePath().normalize(),
        a.lastModifiedTime().toMillis(), a.size());
    CrlSet cached = cache.get(key);
    if (cached != null) {
      return cached;
    }
    List<X509CRL> crls = read(path, path);
    if (crls.isEmpty()) {
      throw unreadable(path, "no CRL in it");
    }
    return put(key, new CrlSet(crls));
  }

  private CrlSet directory(Path dir) throws SmimeException {
    Map<String, List<Long>> listing = new TreeMap<>();
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
      for (Path p : stream) {
        BasicFileAttributes a;
        try {
          a = Files.readAttributes(p, BasicFileAttributes.class); // follows hash links
        } catch (IOException e) {
          continue; // a dangling link holds no CRL
        }
        if (a.isRegularFile()) {
          listing.put(p.getFileName().toString(),
              List.of(a.lastModifiedTime().toMillis(), a.size()));
          files.add(p);
        }
      }
    } catch (IOException e) {
      throw unreadable(dir, e.getClass().getSimpleName());
    }
    DirKey key = new DirKey(dir.toAbsolutePath().normalize(), listing);
    CrlSet cached = cache.get(key);
    if (cached != null) {
      return cached;
    }
    List<X509CRL> crls = new ArrayList<>();
    files.sort(null);
    for (Path p : files) {
      crls.addAll(read(p, dir));
    }
    return put(key, new CrlSet(crls));
  }

  /**
   * The CRLs of one file. A file that does not parse is skipped when it does not even claim to
   * hold a CRL (a broken certificate in a shared directory), and an error when it does: a CRL
   * that cannot be read must not silently turn into "not revoked".
   */
  private static List<X509CRL> read(Path file, Path setting) throws SmimeException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw unreadable(setting, "cannot read " + file.getFileName() + ": "
          + e.getClass().getSimpleName());
    }
    try {
      return Pem.crls(bytes);
    } catch (SmimeException e) {
      if (!file.equals(setting) && !contains(bytes, CRL_MARKER)) {
        return List.of();
      }
      throw unreadable(setting, file.getFileName() + ": " + e.getMessage());
    }
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private CrlSet put(Object key, CrlSet crls) {
    if (cache.size() >= MAX_ENTRIES) {
      cache.clear();
    }
    cache.put(key, crls);
    return crls;
  }

  private static SmimeException unreadable(Path path, String why) {
    return new SmimeException(Reason.FILE_UNREADABLE, "cannot read CRLs " + path + ": " + why);
  }
}
