package org.sympasmime.methods;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.rpc.RpcException;
import org.sympasmime.smime.ContentCipher;
import org.sympasmime.smime.Encrypt;
import org.sympasmime.smime.KeyTransport;

/** {@code smime.encrypt}: JSON to {@link Encrypt.Request} and {@link Encrypt.Result} to JSON. */
final class EncryptMethod {
  private final Encrypt encrypt;

  EncryptMethod(KeyMaterial keys) {
    this.encrypt = new Encrypt(keys);
  }

  JsonNode handle(JsonNode node) throws RpcException, SmimeException {
    Params params = new Params(node);
    byte[] entity = params.requireBytes("entity_b64");
    List<Encrypt.RecipientSource> recipients = new ArrayList<>();
    for (Params r : params.requireObjects("recipients")) {
      Optional<String> pem = r.optionalText("pem").filter(s -> !s.isEmpty());
      Optional<Path> path = r.optionalPath("path");
      if (pem.isPresent() == path.isPresent()) {
        throw RpcException.invalidParams("each recipient needs exactly one of path and pem");
      }
      recipients.add(path.isPresent()
          ? new Encrypt.FromPath(path.get()) : new Encrypt.FromPem(pem.get()));
    }
    ContentCipher cipher = params.optionalText("cipher").isPresent()
        ? ContentCipher.forEncryption(params.requireText("cipher")) : ContentCipher.AES_128_CBC;
    KeyTransport transport = params.optionalText("key_transport").isPresent()
        ? KeyTransport.forName(params.requireText("key_transport")) : KeyTransport.RSA_PKCS1;
    Optional<Instant> at = params.optionalLong("at_time").map(Instant::ofEpochSecond);
    Encrypt.Result result = encrypt.encrypt(new Encrypt.Request(entity, recipients, cipher,
        transport, params.optionalBoolean("binary", false), at));
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    Params.putBytes(out, "message_b64", result.message());
    out.put("smime_type", result.smimeType());
    return out;
  }
}
