package org.sympasmime.pki;

import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.sympasmime.Reason;

/**
 * Certificate path checks for an S/MIME signer, following OpenSSL's {@code smime_sign}
 * verification without partial chains or OCSP:
 *
 * <ol>
 *   <li>a path is built from the signer through the message's certificates and the store's to a
 *       self-signed certificate of the store ({@code untrusted_chain} otherwise);
 *   <li>intermediates must be CAs (basicConstraints), keyUsage of CAs must allow certSign,
 *       path lengths are honoured ({@code untrusted_chain});
 *   <li>the signer's extendedKeyUsage, when present, must allow emailProtection (or any), its
 *       keyUsage, when present, digitalSignature or nonRepudiation; CAs' extendedKeyUsage must
 *       allow emailProtection too ({@code wrong_usage});
 *   <li>every certificate of the path must be valid at the validation time, checked from the
 *       anchor down as OpenSSL does ({@code expired}, {@code not_yet_valid});
 *   <li>with a revocation policy, every certificate but the anchor must not be listed in a
 *       current CRL of its issuer ({@code revoked}, {@code revocation_unknown}: see
 *       {@link Revocation}).
 * </ol>
 *
 * When several paths exist, one that passes wins; otherwise the first trusted path's failure
 * is reported.
 */
public final class ChainValidator {
  private static final int MAX_DEPTH = 12;
  private static final int MAX_PATHS = 16;
  private static final String EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4";
  private static final String ANY_EKU = "2.5.29.37.0";

  /** Why a path does not validate. */
  public record Failure(Reason reason, String detail) {}

  private ChainValidator() {}

  /** Without revocation checking. */
  public static Optional<Failure> validate(X509Certificate leaf, List<X509Certificate> untrusted,
      TrustStore store, Date at) {
    return validate(leaf, untrusted, store, at, Optional.empty(), new ArrayList<>());
  }

  /**
   * @param untrusted certificates that may serve as intermediates (those of the message)
   * @param revocation CRLs to check the path against; none when empty
   * @param warnings receives the warnings of the path that validates (a stale CRL)
   */
  public static Optional<Failure> validate(X509Certificate leaf, List<X509Certificate> untrusted,
      TrustStore store, Date at, Optional<Revocation.Policy> revocation, List<String> warnings) {
    try {
      return validatePaths(leaf, untrusted, store, at, revocation, warnings);
    } catch (RuntimeException e) {
      // Extensions are decoded lazily; a malformed one throws. OpenSSL refuses such a
      // certificate ("invalid or inconsistent certificate extension"), and so do we.
      return Optional.of(new Failure(Reason.UNTRUSTED_CHAIN,
          "a certificate on the path of " + OpenSslNames.formatName(
              leaf.getSubjectX500Principal()) + " has an extension that does not decode"));
    }
  }

  private static Optional<Failure> validatePaths(X509Certificate leaf,
      List<X509Certificate> untrusted, TrustStore store, Date at,
      Optional<Revocation.Policy> revocation, List<String> warnings) {
    List<List<X509Certificate>> paths = new ArrayList<>();
    List<X509Certificate> path = new ArrayList<>();
    path.add(leaf);
    search(path, untrusted, store, paths);
    if (paths.isEmpty()) {
      return Optional.of(new Failure(Reason.UNTRUSTED_CHAIN,
          "no path from " + OpenSslNames.formatName(leaf.getSubjectX500Principal())
              + " to a trust anchor"));
    }
    Optional<Failure> first = Optional.empty();
    for (List<X509Certificate> p : paths) {
      List<String> pathWarnings = new ArrayList<>();
      Optional<Failure> f = check(p, at);
      if (f.isEmpty() && revocation.isPresent()) {
        f = Revocation.check(p, at, revocation.get(), pathWarnings);
      }
      if (f.isEmpty()) {
        warnings.addAll(pathWarnings);
        return f;
      }
      if (first.isEmpty()) {
        first = f;
      }
    }
    return first;
  }

  private static void search(List<X509Certificate> path, List<X509Certificate> untrusted,
      TrustStore store, List<List<X509Certificate>> out) {
    if (out.size() >= MAX_PATHS) {
      return;
    }
    X509Certificate last = path.get(path.size() - 1);
    if (isSelfIssued(last)) {
      if (store.contains(last)) {
        out.add(List.copyOf(path));
      }
      return; // a self-signed certificate outside the store ends an untrusted path
    }
    if (path.size() >= MAX_DEPTH) {
      return;
    }
    // The store first, as OpenSSL prefers trusted issuers.
    List<X509Certificate> candidates = new ArrayList<>(store.withSubject(
        last.getIssuerX500Principal()));
    for (X509Certificate c : untrusted) {
      if (c.getSubjectX500Principal().equals(last.getIssuerX500Principal())) {
        candidates.add(c);
      }
    }
    for (X509Certificate issuer : candidates) {
      if (inPath(path, issuer) || !issued(issuer, last)) {
        continue;
      }
      path.add(issuer);
      search(path, untrusted, store, out);
      path.remove(path.size() - 1);
    }
  }

  private static boolean inPath(List<X509Certificate> path, X509Certificate c) {
    for (X509Certificate p : path) {
      if (TrustStore.key(p).equals(TrustStore.key(c))) {
        return true;
      }
    }
    return false;
  }

  /** Names match, key identifiers (when both present) match, and the signature verifies. */
  static boolean issued(X509Certificate issuer, X509Certificate subject) {
    if (!issuer.getSubjectX500Principal().equals(subject.getIssuerX500Principal())) {
      return false;
    }
    Optional<byte[]> aki = authorityKeyId(subject);
    Optional<byte[]> ski = subjectKeyId(issuer);
    if (aki.isPresent() && ski.isPresent() && !Arrays.equals(aki.get(), ski.get())) {
      return false;
    }
    try {
      PublicKey key = issuer.getPublicKey();
      subject.verify(key, BcProvider.get());
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private static boolean isSelfIssued(X509Certificate c) {
    if (!c.getSubjectX500Principal().equals(c.getIssuerX500Principal())) {
      return false;
    }
    Optional<byte[]> aki = authorityKeyId(c);
    Optional<byte[]> ski = subjectKeyId(c);
    return aki.isEmpty() || ski.isEmpty() || Arrays.equals(aki.get(), ski.get());
  }

  private static Optional<Failure> check(List<X509Certificate> path, Date at) {
    X509Certificate leaf = path.get(0);
    Optional<Failure> usage = signerUsage(leaf);
    if (usage.isPresent()) {
      return usage;
    }
    for (int i = 1; i < path.size(); i++) {
      X509Certificate ca = path.get(i);
      boolean anchor = i == path.size() - 1;
      String name = OpenSslNames.formatName(ca.getSubjectX500Principal());
      boolean[] ku = ca.getKeyUsage();
      if (ku != null && !(ku.length > 5 && ku[5])) {
        return Optional.of(new Failure(Reason.UNTRUSTED_CHAIN,
            "the keyUsage of CA " + name + " does not allow certificate signing"));
      }
      int basic = ca.getBasicConstraints();
      boolean hasBasic = ca.getExtensionValue(Extension.basicConstraints.getId()) != null;
      boolean isCa;
      if (hasBasic) {
        isCa = basic >= 0;
      } else {
        // OpenSSL accepts a v1 self-signed root, or a keyUsage with certSign, as the anchor only.
        isCa = anchor && (ca.getVersion() == 1 || ku != null);
      }
      if (!isCa) {
        return Optional.of(new Failure(Reason.UNTRUSTED_CHAIN, name + " is not a CA"));
      }
      if (hasBasic && basic != Integer.MAX_VALUE && i - 1 > basic) {
        return Optional.of(new Failure(Reason.UNTRUSTED_CHAIN,
            "path length constraint of " + name + " exceeded"));
      }
      if (!ekuAllowsEmail(ca)) {
        return Optional.of(new Failure(Reason.WRONG_USAGE,
            "the extendedKeyUsage of CA " + name + " does not allow emailProtection"));
      }
    }
    for (int i = path.size() - 1; i >= 0; i--) {
      X509Certificate c = path.get(i);
      String name = OpenSslNames.formatName(c.getSubjectX500Principal());
      if (at.before(c.getNotBefore())) {
        return Optional.of(new Failure(Reason.NOT_YET_VALID,
            name + " is not valid before " + c.getNotBefore().toInstant()));
      }
      if (at.after(c.getNotAfter())) {
        return Optional.of(new Failure(Reason.EXPIRED,
            name + " expired " + c.getNotAfter().toInstant()));
      }
    }
    return Optional.empty();
  }

  /** The S/MIME signing purpose of the signer's own certificate. */
  public static Optional<Failure> signerUsage(X509Certificate leaf) {
    String name = OpenSslNames.formatName(leaf.getSubjectX500Principal());
    if (!ekuAllowsEmail(leaf)) {
      return Optional.of(new Failure(Reason.WRONG_USAGE,
          "the extendedKeyUsage of " + name + " does not allow emailProtection"));
    }
    boolean[] ku = leaf.getKeyUsage();
    if (ku != null && !(ku[0] || (ku.length > 1 && ku[1]))) {
      return Optional.of(new Failure(Reason.WRONG_USAGE, "the keyUsage of " + name
          + " allows neither digitalSignature nor nonRepudiation"));
    }
    Optional<byte[]> ns = Extensions.decode(leaf.getExtensionValue("2.16.840.1.113730.1.1"))
        .map(v -> DERBitString.getInstance(v).getBytes());
    if (ns.isPresent()) {
      int bits = ns.get().length > 0 ? ns.get()[0] & 0xff : 0;
      // Netscape cert type: S/MIME (0x20) or SSL client (0x80), as OpenSSL still checks.
      if ((bits & 0xa0) == 0) {
        return Optional.of(new Failure(Reason.WRONG_USAGE,
            "the Netscape cert type of " + name + " does not allow S/MIME"));
      }
    }
    return Optional.empty();
  }

  private static boolean ekuAllowsEmail(X509Certificate c) {
    List<String> eku;
    try {
      eku = c.getExtendedKeyUsage();
    } catch (Exception e) {
      return false;
    }
    return eku == null || eku.contains(EMAIL_PROTECTION) || eku.contains(ANY_EKU);
  }

  private static Optional<byte[]> subjectKeyId(X509Certificate c) {
    return Extensions.decode(c.getExtensionValue(Extension.subjectKeyIdentifier.getId()))
        .map(v -> ASN1OctetString.getInstance(v).getOctets());
  }

  private static Optional<byte[]> authorityKeyId(X509Certificate c) {
    return Extensions.decode(c.getExtensionValue(Extension.authorityKeyIdentifier.getId()))
        .map(v -> AuthorityKeyIdentifier.getInstance(v).getKeyIdentifier())
        .filter(id -> id != null);
  }
}
