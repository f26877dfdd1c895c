package org.sympasmime;

import java.util.Objects;
import org.sympasmime.rpc.RpcError;

/**
 * A failure of an S/MIME or X.509 operation. Checked, so that every caller decides how to report
 * it. The message must never contain key material or passwords: it goes to the log and to the
 * client as it is.
 */
public final class SmimeException extends Exception implements RpcError {
  private static final long serialVersionUID = 1L;

  private final Reason reason;

  public SmimeException(Reason reason, String message) {
    super(Objects.requireNonNull(message), null, false, false);
    this.reason = Objects.requireNonNull(reason);
  }

  public SmimeException(Reason reason, String message, Throwable cause) {
    super(Objects.requireNonNull(message), cause, false, false);
    this.reason = Objects.requireNonNull(reason);
  }

  public Reason reason() {
    return reason;
  }

  @Override
  public int errorCode() {
    return reason.code();
  }

  @Override
  public String reasonId() {
    return reason.id();
  }
}
