package org.sympasmime.pki;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.sympasmime.Reason;
import org.sympasmime.mime.Bytes;
import org.sympasmime.SmimeException;

/**
 * Loads and caches the CRLs given as {@code crls}: one file (PEM, possibly several CRLs, or
 * DER), or a directory whose every regular file is read. Cached by {@link DiskSnapshots}, so a
 * refreshed CRL is seen on the next call. Thread-safe.
 */
public final class Crls {
  private static final byte[] CRL_MARKER =
      "-----BEGIN X509 CRL-----".getBytes(StandardCharsets.US_ASCII);

  private final DiskSnapshots<CrlSet> sets = new DiskSnapshots<>(64);

  /**
   * The revocation policy of a request that names its CRLs with {@code path} (none: no
   * revocation checking) and says with {@code required} whether a missing CRL fails a path.
   */
  public Optional<Revocation.Policy> policy(Optional<Path> path, boolean required)
      throws SmimeException {
    if (path.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Revocation.Policy(load(path.get()), required));
  }

  /**
   * The CRLs at {@code path}. A missing or unreadable path, a file without any CRL, or a CRL that
   * does not decode is {@code file_unreadable}: revocation checking was asked for and cannot be
   * done. In a directory, files holding no CRL (certificates, a README) are skipped.
   */
  public CrlSet load(Path path) throws SmimeException {
    DiskSnapshots.Snapshot snapshot;
    try {
      snapshot = DiskSnapshots.snapshot(path);
    } catch (IOException e) {
      throw unreadable(path, DiskSnapshots.why(e));
    }
    return sets.get(snapshot, s -> {
      List<X509CRL> crls = new ArrayList<>();
      for (Path p : s.files()) {
        crls.addAll(read(p, path));
      }
      if (crls.isEmpty() && !s.directory()) {
        throw unreadable(path, "no CRL in it");
      }
      return new CrlSet(crls);
    });
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
      if (!file.equals(setting) && !Bytes.contains(bytes, CRL_MARKER)) {
        return List.of();
      }
      throw unreadable(setting, file.getFileName() + ": " + e.getMessage());
    }
  }

  private static SmimeException unreadable(Path path, String why) {
    return new SmimeException(Reason.FILE_UNREADABLE, "cannot read CRLs " + path + ": " + why);
  }
}
