package org.sympasmime.smime;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.AlgorithmPolicy;
import org.sympasmime.pki.CertificateInfo;
import org.sympasmime.pki.ChainValidator;
import org.sympasmime.pki.Crls;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.pki.Pem;
import org.sympasmime.pki.TrustStore;
import org.sympasmime.pki.TrustStores;

/**
 * One user certificate as Sympa's S/MIME engine would judge it, for an inventory of
 * {@code ssl_cert_dir}: its path to a trust anchor, by the {@link ChainValidator} and
 * revocation check of {@link Verify}, and whether {@link Encrypt} takes it as a recipient.
 * Both verdicts come from those classes, so the inventory cannot disagree with the mail path.
 */
public final class CertificateCheck {
  /**
   * @param source the file (or text): its first certificate is checked, the others may serve
   *     as intermediates, as the certificates of a message do
   * @param role the leaf's usage rule; by default {@code SIGNER} when the certificate may sign
   *     and {@code RECIPIENT} otherwise
   */
  public record Request(Encrypt.RecipientSource source, Optional<Path> cafile,
      Optional<Path> capath, Optional<Instant> atTime, Optional<Path> crls, boolean crlRequired,
      AlgorithmPolicy policy, Optional<ChainValidator.Role> role) {
    public Request {
      Objects.requireNonNull(source);
      Objects.requireNonNull(cafile);
      Objects.requireNonNull(capath);
      Objects.requireNonNull(atTime);
      Objects.requireNonNull(crls);
      Objects.requireNonNull(policy);
      Objects.requireNonNull(role);
      if (crlRequired && crls.isEmpty()) {
        throw new IllegalArgumentException("crlRequired without crls");
      }
      if (role.isPresent() && role.get() == ChainValidator.Role.ISSUER) {
        throw new IllegalArgumentException("a checked certificate is a signer or a recipient");
      }
    }
  }

  /** A verdict: empty {@code failure} when it passes. */
  public record Verdict(Optional<Reason> failure, String detail) {
    static final Verdict OK = new Verdict(Optional.empty(), "");
  }

  /**
   * @param chain the path to a trust anchor, for {@code role}
   * @param encrypt what {@code smime.encrypt} says of this certificate as a recipient
   * @param warnings of the path that validated (a weak algorithm, a stale CRL)
   */
  public record Result(CertificateInfo info, ChainValidator.Role role, Verdict chain,
      Verdict encrypt, List<String> warnings) {}

  private final TrustStores trustStores;
  private final Crls crls;
  private final KeyMaterial material;
  private final Encrypt encrypt;

  public CertificateCheck(TrustStores trustStores, Crls crls, KeyMaterial material) {
    this.trustStores = Objects.requireNonNull(trustStores);
    this.crls = Objects.requireNonNull(crls);
    this.material = Objects.requireNonNull(material);
    this.encrypt = new Encrypt(material);
  }

  /**
   * @throws SmimeException a file that cannot be read or holds no certificate, or a trust store
   *     or CRL file that cannot be read: no verdict can be given
   */
  public Result check(Request request) throws SmimeException {
    List<X509Certificate> certs = certificates(request.source());
    X509Certificate leaf = certs.get(0);
    CertificateInfo info = CertificateInfo.of(leaf);
    TrustStore store = trustStores.load(request.cafile(), request.capath());
    Instant at = request.atTime().orElseGet(Instant::now);
    ChainValidator.Role role = request.role().orElse(
        info.purpose().sign() ? ChainValidator.Role.SIGNER : ChainValidator.Role.RECIPIENT);
    List<String> warnings = new ArrayList<>();
    Optional<ChainValidator.Failure> failure = new ChainValidator(
        certs.subList(1, certs.size()), store, Date.from(at),
        crls.policy(request.crls(), request.crlRequired()), request.policy(), role)
        .validate(leaf, warnings);
    Verdict chain = failure.map(f -> new Verdict(Optional.of(f.reason()), f.detail()))
        .orElse(Verdict.OK);
    Verdict recipient;
    try {
      encrypt.checkRecipient(request.source(), at);
      recipient = Verdict.OK;
    } catch (SmimeException e) {
      recipient = new Verdict(Optional.of(e.reason()), e.getMessage());
    }
    return new Result(info, role, chain, recipient, failure.isEmpty() ? warnings : List.of());
  }

  private List<X509Certificate> certificates(Encrypt.RecipientSource source)
      throws SmimeException {
    if (source instanceof Encrypt.FromPath p) {
      return material.certificates(p.path());
    }
    List<X509Certificate> certs =
        Pem.certificates(((Encrypt.FromPem) source).pem().getBytes(StandardCharsets.ISO_8859_1));
    if (certs.isEmpty()) {
      throw new SmimeException(Reason.BAD_CERTIFICATE, "no certificate in the pem text");
    }
    KeyMaterial.requireDecodableKey(certs.get(0), "the pem text");
    return certs;
  }
}
