package org.sympasmime.rpc;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The only seam between the protocol and the operations: method name to handler. */
public final class MethodTable {
  private final Map<String, Handler> handlers;

  private MethodTable(Map<String, Handler> handlers) {
    this.handlers = Collections.unmodifiableMap(new LinkedHashMap<>(handlers));
  }

  public static Builder builder() {
    return new Builder();
  }

  public Optional<Handler> find(String method) {
    return Optional.ofNullable(handlers.get(method));
  }

  /** Collects handlers; a name registered twice is a programming error. */
  public static final class Builder {
    private final Map<String, Handler> handlers = new LinkedHashMap<>();

    private Builder() {}

    public Builder add(String name, Handler handler) {
      if (handlers.putIfAbsent(name, handler) != null) {
        throw new IllegalStateException("method registered twice: " + name);
      }
      return this;
    }

    public MethodTable build() {
      return new MethodTable(handlers);
    }
  }
}
