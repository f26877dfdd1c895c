package org.sympasmime.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import org.sympasmime.SmimeException;

/**
 * One JSON-RPC method. Handlers are called concurrently from the worker pool, so they must be
 * thread-safe. They receive the {@code params} member (an empty object when absent).
 */
@FunctionalInterface
public interface Handler {
  JsonNode handle(JsonNode params) throws RpcException, SmimeException;
}
