package org.sympasmime.methods;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.ChainValidator;
import org.sympasmime.pki.Crls;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.rpc.RpcException;
import org.sympasmime.smime.CertificateCheck;
import org.sympasmime.smime.Encrypt;

/** {@code x509.check}: JSON to {@link CertificateCheck.Request}, its result to JSON. */
final class X509CheckMethod {
  private final CertificateCheck checker;

  X509CheckMethod(TrustStores trustStores, Crls crls, KeyMaterial keys) {
    this.checker = new CertificateCheck(trustStores, crls, keys);
  }

  JsonNode handle(JsonNode params) throws RpcException, SmimeException {
    Params p = new Params(params);
    Optional<String> pem = p.optionalText("pem").filter(s -> !s.isEmpty());
    Optional<Path> path = p.optionalPath("path");
    if (pem.isPresent() == path.isPresent()) {
      throw RpcException.invalidParams("x509.check needs exactly one of path and pem");
    }
    Optional<Path> crls = p.optionalPath("crls");
    boolean crlRequired = p.optionalBoolean("crl_required", false);
    if (crlRequired && crls.isEmpty()) {
      throw RpcException.invalidParams("crl_required needs crls");
    }
    Optional<ChainValidator.Role> role = Optional.empty();
    Optional<String> usage = p.optionalText("usage");
    if (usage.isPresent()) {
      role = Optional.of(switch (usage.get()) {
        case "sign" -> ChainValidator.Role.SIGNER;
        case "encrypt" -> ChainValidator.Role.RECIPIENT;
        default -> throw RpcException.invalidParams("usage must be sign or encrypt");
      });
    }
    CertificateCheck.Result result = checker.check(new CertificateCheck.Request(
        path.isPresent() ? new Encrypt.FromPath(path.get()) : new Encrypt.FromPem(pem.get()),
        p.optionalPath("cafile"),
        p.optionalPath("capath"),
        p.optionalLong("at_time").map(Instant::ofEpochSecond),
        crls,
        crlRequired,
        AlgorithmPolicyParam.read(p),
        role));
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.set("certificate", X509ParseMethod.toJson(result.info()));
    out.put("usage", result.role() == ChainValidator.Role.SIGNER ? "sign" : "encrypt");
    out.set("chain", verdict(result.chain(), "valid"));
    out.set("encrypt", verdict(result.encrypt(), "usable"));
    ArrayNode warnings = out.putArray("warnings");
    result.warnings().forEach(warnings::add);
    return out;
  }

  private static ObjectNode verdict(CertificateCheck.Verdict v, String flag) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put(flag, v.failure().isEmpty());
    node.put("reason", v.failure().map(r -> r.id()).orElse("ok"));
    node.put("detail", v.detail());
    return node;
  }
}
