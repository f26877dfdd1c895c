package org.sympasmime.pki;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/**
 * Loads and caches trust stores through {@link DiskSnapshots}: adding, replacing or removing a
 * certificate in {@code cafile} or {@code capath} is seen on the next call. Thread-safe.
 *
 * <p>Unlike Crypt::SMIME, a {@code capath} is read whole (every file, with or without
 * {@code c_rehash} links) and the system store is used only when neither {@code cafile} nor
 * {@code capath} is set.
 */
public final class TrustStores {
  public static final Path SYSTEM_CA_FILE = Path.of("/etc/ssl/certs/ca-certificates.crt");

  private final Path systemCaFile;
  private final DiskSnapshots<TrustStore> stores = new DiskSnapshots<>(64);

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

  private TrustStore file(Path path) throws SmimeException {
    DiskSnapshots.Snapshot snapshot = snapshot(path);
    if (snapshot.directory()) {
      throw unreadable(path, "not a file");
    }
    return stores.get(snapshot, s -> {
      List<X509Certificate> certs;
      try {
        certs = Pem.certificates(Files.readAllBytes(path));
      } catch (IOException e) {
        throw unreadable(path, DiskSnapshots.why(e));
      } catch (SmimeException e) {
        throw unreadable(path, e.getMessage());
      }
      if (certs.isEmpty()) {
        throw unreadable(path, "no certificate in it");
      }
      return new TrustStore(certs);
    });
  }

  private TrustStore directory(Path dir) throws SmimeException {
    DiskSnapshots.Snapshot snapshot = snapshot(dir);
    if (!snapshot.directory()) {
      throw unreadable(dir, "not a directory");
    }
    return stores.get(snapshot, s -> {
      List<X509Certificate> certs = new ArrayList<>();
      for (Path p : s.files()) {
        try {
          certs.addAll(Pem.certificates(Files.readAllBytes(p)));
        } catch (IOException | SmimeException e) {
          // Not a certificate file (a CRL, a README, a broken file): OpenSSL's hashed lookup
          // would not find a certificate in it either.
        }
      }
      return new TrustStore(certs);
    });
  }

  private static DiskSnapshots.Snapshot snapshot(Path path) throws SmimeException {
    try {
      return DiskSnapshots.snapshot(path);
    } catch (IOException e) {
      throw unreadable(path, DiskSnapshots.why(e));
    }
  }

  private static SmimeException unreadable(Path path, String why) {
    return new SmimeException(Reason.TRUST_STORE_UNREADABLE,
        "cannot read trust store " + path + ": " + why);
  }
}
