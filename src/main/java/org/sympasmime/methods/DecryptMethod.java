package org.sympasmime.methods;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.rpc.RpcException;
import org.sympasmime.smime.Decrypt;

/** {@code smime.decrypt}: JSON to {@link Decrypt.Request} and {@link Decrypt.Result} to JSON. */
final class DecryptMethod {
  private final Decrypt decrypt;

  DecryptMethod(KeyMaterial keys) {
    this.decrypt = new Decrypt(keys);
  }

  JsonNode handle(JsonNode node) throws RpcException, SmimeException {
    Params params = new Params(node);
    byte[] message = params.requireBytes("message_b64");
    List<Decrypt.KeyPair> pairs = new ArrayList<>();
    for (Params pair : params.requireObjects("keys")) {
      pairs.add(new Decrypt.KeyPair(pair.requirePath("cert"), pair.requirePath("key")));
    }
    Decrypt.Result result = decrypt.decrypt(
        new Decrypt.Request(message, pairs, params.optionalText("key_passwd")));
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    Params.putBytes(out, "entity_b64", result.entity());
    out.put("cert", result.cert().toString());
    out.put("content_encryption", result.contentEncryption());
    out.put("authenticated", result.authenticated());
    return out;
  }
}
