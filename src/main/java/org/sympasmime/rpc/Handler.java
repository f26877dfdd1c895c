package org.sympasmime.rpc;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One JSON-RPC method. Handlers are called concurrently from the worker pool, so they must be
 * thread-safe. They receive the {@code params} member (an empty object when absent).
 *
 * <p>A failure that implements {@link RpcError} is answered with its code and reason; any other
 * exception is a bug, answered {@code internal} without its message.
 */
@FunctionalInterface
public interface Handler {
  JsonNode handle(JsonNode params) throws Exception;
}
