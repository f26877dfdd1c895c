package org.sympasmime.methods;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.rpc.RpcException;
import org.sympasmime.smime.Sign;

/** {@code smime.sign}: JSON params to {@link Sign.Request}, {@link Sign.Result} to JSON. */
final class SignMethod {
  private final Sign sign;
  private final PrintStream log;

  SignMethod(KeyMaterial keys) {
    this.sign = new Sign(keys);
    // stderr is the sidecar's log; one line per warning, as the server writes its own.
    this.log = System.err;
  }

  JsonNode handle(JsonNode node) throws RpcException, SmimeException {
    Params params = new Params(node);
    Sign.Request request = new Sign.Request(
        params.requireBytes("entity_b64"),
        params.requirePath("cert"),
        params.requirePath("key"),
        // Sympa passes '' when key_passwd is unset; both mean "no password".
        params.optionalText("key_passwd").filter(s -> !s.isEmpty()),
        params.optionalPath("cafile"),
        params.optionalBoolean("include_chain", true),
        AlgorithmPolicyParam.read(params));
    Sign.Result result = sign.sign(request);
    for (String warning : result.warnings()) {
      log.println("sympa-smime: warning method=smime.sign: "
          + warning.replaceAll("[\\r\\n]+", " "));
    }
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    Params.putBytes(out, "message_b64", result.message());
    out.put("micalg", result.micalg());
    out.put("certificates", result.certificates());
    // Also in the answer, for callers that report rather than log (the doctor).
    result.warnings().forEach(out.putArray("warnings")::add);
    return out;
  }
}
