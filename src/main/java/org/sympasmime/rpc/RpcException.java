package org.sympasmime.rpc;

import java.util.Optional;

/** A protocol-level failure: a JSON-RPC error code, a message, and an optional reason code. */
public final class RpcException extends Exception {
  private static final long serialVersionUID = 1L;

  public static final int PARSE_ERROR = -32700;
  public static final int INVALID_REQUEST = -32600;
  public static final int METHOD_NOT_FOUND = -32601;
  public static final int INVALID_PARAMS = -32602;
  public static final int INTERNAL_ERROR = -32603;

  private final int code;
  private final String reason;

  public RpcException(int code, String message, String reason) {
    super(message, null, false, false);
    this.code = code;
    this.reason = reason;
  }

  public RpcException(int code, String message) {
    this(code, message, null);
  }

  public static RpcException invalidParams(String message) {
    return new RpcException(INVALID_PARAMS, message, "malformed_input");
  }

  public int code() {
    return code;
  }

  public Optional<String> reason() {
    return Optional.ofNullable(reason);
  }
}
