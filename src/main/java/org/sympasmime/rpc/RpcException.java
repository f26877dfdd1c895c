package org.sympasmime.rpc;

/** A protocol-level failure: a JSON-RPC error code, a message, and its reason. */
public final class RpcException extends Exception implements RpcError {
  private static final long serialVersionUID = 1L;

  public static final int PARSE_ERROR = -32700;
  public static final int INVALID_REQUEST = -32600;
  public static final int METHOD_NOT_FOUND = -32601;
  public static final int INVALID_PARAMS = -32602;
  public static final int INTERNAL_ERROR = -32603;

  private final int code;
  private final ProtocolReason reason;

  public RpcException(int code, String message, ProtocolReason reason) {
    super(message, null, false, false);
    this.code = code;
    this.reason = reason;
  }

  public static RpcException invalidParams(String message) {
    return new RpcException(INVALID_PARAMS, message, ProtocolReason.MALFORMED_INPUT);
  }

  static RpcException invalidRequest(String message) {
    return new RpcException(INVALID_REQUEST, message, ProtocolReason.MALFORMED_INPUT);
  }

  @Override
  public int errorCode() {
    return code;
  }

  @Override
  public String reasonId() {
    return reason.id();
  }
}
