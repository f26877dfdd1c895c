package org.sympasmime.rpc;

/**
 * What a failed call tells the client: the JSON-RPC error code, a stable snake_case reason
 * ({@code error.data.reason}) and a message. The exceptions handlers throw implement it, so this
 * package answers failures of operations it knows nothing about.
 */
public interface RpcError {
  int errorCode();

  String reasonId();

  /** Goes to the client and the log as it is: never key material or a password. */
  String getMessage();
}
