package org.sympasmime.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;

/** One message from the client, classified as JSON-RPC 2.0 section 4 defines it. */
sealed interface Incoming permits Incoming.Request, Incoming.Notification, Incoming.Invalid {

  /** A call to answer. {@code id} is a string, an integer, or null. */
  record Request(JsonNode id, String method, JsonNode params) implements Incoming {}

  /** A call without {@code id}: run, never answered, not even with an error. */
  record Notification(String method, JsonNode params) implements Incoming {}

  /** Not a request: answered with {@code error}, under the id when one could be read. */
  record Invalid(JsonNode id, RpcException error) implements Incoming {}

  static Incoming of(JsonNode message) {
    if (message == null || !message.isObject()) {
      return new Invalid(NullNode.getInstance(),
          RpcException.invalidRequest("request must be a JSON object"));
    }
    JsonNode id = message.has("id") ? idOf(message.get("id")) : null;
    if (!"2.0".equals(message.path("jsonrpc").asText(null))) {
      return invalid(id, "jsonrpc must be \"2.0\"");
    }
    JsonNode method = message.get("method");
    if (method == null || !method.isTextual()) {
      return invalid(id, "method must be a string");
    }
    // Params that do not fit (not an object) are the method's failure, not the message's:
    // a notification with them is still a notification, and still gets no answer.
    JsonNode params = message.get("params");
    if (params == null || params.isNull()) {
      params = JsonNodeFactory.instance.objectNode();
    }
    return id == null
        ? new Notification(method.asText(), params)
        : new Request(id, method.asText(), params);
  }

  /** An id that is neither a string nor an integer is answered as null: it cannot be echoed. */
  private static JsonNode idOf(JsonNode id) {
    return id.isTextual() || id.isIntegralNumber() ? id : NullNode.getInstance();
  }

  private static Invalid invalid(JsonNode id, String why) {
    return new Invalid(id == null ? NullNode.getInstance() : id, RpcException.invalidRequest(why));
  }
}
