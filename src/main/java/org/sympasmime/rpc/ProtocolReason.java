package org.sympasmime.rpc;

import java.util.Locale;

/**
 * The reasons this package gives on its own, for failures of the protocol rather than of an
 * operation. Each is also in {@code org.sympasmime.Reason}, the one table of reasons, which a
 * test checks.
 */
public enum ProtocolReason {
  /** Not JSON, not a request, or params that do not fit the method. */
  MALFORMED_INPUT,
  /** A request larger than the line limit or the memory budget. */
  TOO_LARGE,
  UNKNOWN_METHOD,
  /** A bug, answered without its details. */
  INTERNAL;

  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }
}
