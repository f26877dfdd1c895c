package org.sympasmime;

/**
 * Why an operation failed: the one table of reasons. The snake_case code is part of the
 * protocol ({@code error.data.reason} and {@code result.reason}) and of the log line, so it never
 * changes once published. The protocol layer's own reasons ({@code rpc.ProtocolReason}) are a
 * subset, and clients keep no copy: every error carries its reason.
 */
public enum Reason {
  MALFORMED_INPUT(1000),
  TOO_LARGE(1001),
  UNSUPPORTED_ALGORITHM(1002),
  NOT_SMIME(1003),
  FILE_UNREADABLE(1004),
  BAD_CERTIFICATE(1005),

  BAD_SIGNATURE(1100),
  UNTRUSTED_CHAIN(1101),
  EXPIRED(1102),
  NOT_YET_VALID(1103),
  WRONG_USAGE(1104),
  NO_SIGNER_CERT(1105),
  TRUST_STORE_UNREADABLE(1106),
  REVOKED(1107),
  REVOCATION_UNKNOWN(1108),

  NO_MATCHING_KEY(1200),
  BAD_PASSWORD(1201),
  KEY_MISMATCH(1202),

  NO_RECIPIENTS(1300),

  /** A method the sidecar does not have (JSON-RPC's own code). */
  UNKNOWN_METHOD(-32601),

  INTERNAL(1900);

  private final int code;

  Reason(int code) {
    this.code = code;
  }

  /** The JSON-RPC error code that carries this reason. */
  public int code() {
    return code;
  }

  /** The stable snake_case name, e.g. {@code untrusted_chain}. */
  public String id() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
