package org.sympasmime.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;
import java.util.Optional;

/** One answer: a result or an error, never both, under the id of what it answers. */
record Response(JsonNode id, Optional<JsonNode> result, Optional<RpcError> error) {
  Response {
    Objects.requireNonNull(id);
    if (result.isPresent() == error.isPresent()) {
      throw new IllegalArgumentException("a response has a result or an error");
    }
  }

  static Response success(JsonNode id, JsonNode result) {
    return new Response(id, Optional.of(result), Optional.empty());
  }

  static Response failure(JsonNode id, RpcError error) {
    return new Response(id, Optional.empty(), Optional.of(error));
  }

  /** Every error carries {@code data.reason}, so that clients read one field and keep no table. */
  ObjectNode toJson() {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("jsonrpc", "2.0");
    if (result.isPresent()) {
      out.set("result", result.get());
    } else {
      RpcError e = error.get();
      ObjectNode body = out.putObject("error");
      body.put("code", e.errorCode());
      body.put("message", e.getMessage());
      body.putObject("data").put("reason", e.reasonId());
    }
    out.set("id", id);
    return out;
  }
}
