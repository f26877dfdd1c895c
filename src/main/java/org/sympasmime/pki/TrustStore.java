package org.sympasmime.pki;

import java.nio.ByteBuffer;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * The certificates of a {@code cafile}/{@code capath}, deduplicated. As in OpenSSL without
 * partial chains, only the self-signed ones are trust anchors; the others serve as
 * intermediates. Immutable and shared between threads.
 */
public final class TrustStore {
  private final List<X509Certificate> certificates;
  private final Set<ByteBuffer> encodings;
  private final Map<X500Principal, List<X509Certificate>> bySubject;

  public TrustStore(Collection<X509Certificate> certs) {
    Map<ByteBuffer, X509Certificate> unique = new LinkedHashMap<>();
    for (X509Certificate c : certs) {
      unique.putIfAbsent(key(c), c);
    }
    this.certificates = List.copyOf(unique.values());
    this.encodings = Set.copyOf(unique.keySet());
    Map<X500Principal, List<X509Certificate>> index = new LinkedHashMap<>();
    for (X509Certificate c : certificates) {
      index.computeIfAbsent(c.getSubjectX500Principal(), k -> new ArrayList<>()).add(c);
    }
    index.replaceAll((k, v) -> List.copyOf(v));
    this.bySubject = Map.copyOf(index);
  }

  public static TrustStore union(List<TrustStore> stores) {
    List<X509Certificate> all = new ArrayList<>();
    for (TrustStore s : stores) {
      all.addAll(s.certificates);
    }
    return new TrustStore(all);
  }

  public List<X509Certificate> certificates() {
    return certificates;
  }

  /** True when this exact certificate (same DER) is in the store. */
  public boolean contains(X509Certificate cert) {
    return encodings.contains(key(cert));
  }

  public List<X509Certificate> withSubject(X500Principal subject) {
    return bySubject.getOrDefault(subject, List.of());
  }

  static ByteBuffer key(X509Certificate cert) {
    try {
      return ByteBuffer.wrap(cert.getEncoded());
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("a parsed certificate cannot be re-encoded", e);
    }
  }
}
