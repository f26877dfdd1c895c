package org.sympasmime.methods;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.CertificateInfo;
import org.sympasmime.pki.X509Reader;
import org.sympasmime.rpc.RpcException;

/** {@code x509.parse}: the first certificate of {@code pem} or of the file at {@code path}. */
final class X509ParseMethod {

  JsonNode handle(JsonNode params) throws RpcException, SmimeException {
    Params p = new Params(params);
    Optional<String> pem = p.optionalText("pem").filter(s -> !s.isEmpty());
    Optional<Path> path = p.optionalPath("path");
    X509Certificate cert;
    if (pem.isPresent()) {
      cert = X509Reader.first(pem.get().getBytes(StandardCharsets.UTF_8));
    } else if (path.isPresent()) {
      cert = X509Reader.first(path.get());
    } else {
      throw new SmimeException(Reason.BAD_CERTIFICATE, "neither pem nor path given");
    }
    return toJson(CertificateInfo.of(cert));
  }

  static ObjectNode toJson(CertificateInfo info) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("subject", info.subject());
    out.put("issuer", info.issuer());
    out.put("notBefore", info.notBefore());
    out.put("notAfter", info.notAfter());
    out.set("emails", strings(info.emails()));
    out.set("purpose", purpose(info.purpose()));
    out.set("legacy_purpose", purpose(info.legacyPurpose()));
    info.keyUsage().ifPresent(ku -> {
      ObjectNode node = out.putObject("key_usage");
      ku.forEach(node::put);
    });
    info.extendedKeyUsage().ifPresent(eku -> out.set("extended_key_usage", strings(eku)));
    out.put("serial", info.serial());
    out.put("fingerprint_sha256", info.fingerprintSha256());
    out.put("fingerprint_sha1", info.fingerprintSha1());
    out.put("key_algorithm", info.keyAlgorithm());
    out.put("key_size", info.keySize());
    info.curve().ifPresent(c -> out.put("curve", c));
    out.put("pem", info.pem());
    return out;
  }

  private static ObjectNode purpose(CertificateInfo.Purpose p) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("sign", p.sign());
    node.put("enc", p.enc());
    return node;
  }

  private static ArrayNode strings(List<String> values) {
    ArrayNode array = JsonNodeFactory.instance.arrayNode();
    values.forEach(array::add);
    return array;
  }
}
