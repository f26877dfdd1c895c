package org.sympasmime.pki;

import java.nio.ByteBuffer;
import java.security.cert.CRLException;
import java.security.cert.X509CRL;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.security.auth.x500.X500Principal;

/**
 * The CRLs of a {@code crls} file or directory, deduplicated and indexed by issuer name.
 * Immutable and shared between threads.
 */
public final class CrlSet {
  private final int size;
  private final Map<X500Principal, List<X509CRL>> byIssuer;

  public CrlSet(Collection<X509CRL> crls) {
    Map<ByteBuffer, X509CRL> unique = new LinkedHashMap<>();
    for (X509CRL crl : crls) {
      unique.putIfAbsent(key(crl), crl);
    }
    Map<X500Principal, List<X509CRL>> index = new LinkedHashMap<>();
    for (X509CRL crl : unique.values()) {
      index.computeIfAbsent(crl.getIssuerX500Principal(), k -> new ArrayList<>()).add(crl);
    }
    index.replaceAll((k, v) -> List.copyOf(v));
    this.byIssuer = Map.copyOf(index);
    this.size = unique.size();
  }

  /** The CRLs whose issuer name is {@code issuer}; their signatures are not checked yet. */
  public List<X509CRL> issuedBy(X500Principal issuer) {
    return byIssuer.getOrDefault(issuer, List.of());
  }

  public int size() {
    return size;
  }

  private static ByteBuffer key(X509CRL crl) {
    try {
      return ByteBuffer.wrap(crl.getEncoded());
    } catch (CRLException e) {
      throw new IllegalStateException("a parsed CRL cannot be re-encoded", e);
    }
  }
}
