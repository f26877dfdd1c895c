package org.sympasmime.methods;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.security.cert.X509Certificate;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.CertificateInfo;
import org.sympasmime.pki.Crls;
import org.sympasmime.pki.Pem;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.rpc.RpcException;
import org.sympasmime.smime.Verify;

/** {@code smime.verify}: JSON to {@link Verify.Request}, {@link Verify.Result} to JSON. */
final class VerifyMethod {
  private final Verify verifier;
  private final PrintStream log;

  VerifyMethod(TrustStores trustStores, Crls crls) {
    // stderr is the sidecar's log; one line per warning, as the server writes its own.
    this(trustStores, crls, System.err);
  }

  VerifyMethod(TrustStores trustStores, Crls crls, PrintStream log) {
    this.verifier = new Verify(trustStores, crls);
    this.log = log;
  }

  JsonNode handle(JsonNode params) throws RpcException, SmimeException {
    Params p = new Params(params);
    Optional<Path> crls = p.optionalPath("crls");
    boolean crlRequired = p.optionalBoolean("crl_required", false);
    if (crlRequired && crls.isEmpty()) {
      throw RpcException.invalidParams("crl_required needs crls");
    }
    Verify.Request request = new Verify.Request(
        p.requireBytes("message_b64"),
        p.optionalPath("cafile"),
        p.optionalPath("capath"),
        p.optionalLong("at_time").map(Instant::ofEpochSecond),
        crls,
        crlRequired,
        AlgorithmPolicyParam.read(p));
    Verify.Result result = verifier.verify(request);
    for (String warning : result.warnings()) {
      log.println("sympa-smime: warning method=smime.verify: "
          + warning.replaceAll("[\\r\\n]+", " "));
    }
    return toJson(result);
  }

  static ObjectNode toJson(Verify.Result r) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("signed", r.signed());
    out.put("valid", r.valid());
    out.put("reason", r.failure().map(reason -> reason.id()).orElse("ok"));
    out.put("detail", r.detail());
    r.format().ifPresent(f -> out.put("format", f));
    out.set("signers", pems(r.signers()));
    out.set("signers_info", infos(r.signers()));
    out.set("certificates", pems(r.certificates()));
    r.content().ifPresent(c -> Params.putBytes(out, "content_b64", c));
    return out;
  }

  /**
   * What {@code x509.parse} says of each signer, in the order of {@code signers}, null where it
   * would fail: the client needs the addresses and purposes of every signer, and asking for
   * them was one more round trip per verified message.
   */
  private static ArrayNode infos(List<X509Certificate> certs) {
    ArrayNode array = JsonNodeFactory.instance.arrayNode();
    for (X509Certificate c : certs) {
      try {
        array.add(X509ParseMethod.toJson(CertificateInfo.of(c)));
      } catch (SmimeException e) {
        array.addNull();
      }
    }
    return array;
  }

  private static ArrayNode pems(List<X509Certificate> certs) {
    ArrayNode array = JsonNodeFactory.instance.arrayNode();
    for (X509Certificate c : certs) {
      array.add(Pem.encode(c));
    }
    return array;
  }
}
