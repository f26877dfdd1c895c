package org.sympasmime.rpc;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counters for {@code service.stats}: calls and time per method, failures per reason. */
public final class Stats {
  private final long startedMillis = System.currentTimeMillis();
  private final Map<String, LongAdder> calls = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> nanos = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();

  void countCall(String method, long elapsedNanos) {
    calls.computeIfAbsent(method, k -> new LongAdder()).increment();
    nanos.computeIfAbsent(method, k -> new LongAdder()).add(elapsedNanos);
  }

  void countError(String reason) {
    errors.computeIfAbsent(reason, k -> new LongAdder()).increment();
  }

  public long uptimeMillis() {
    return System.currentTimeMillis() - startedMillis;
  }

  public ObjectNode toJson() {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("uptime_ms", uptimeMillis());
    ObjectNode methods = out.putObject("methods");
    new TreeMap<>(calls).forEach((name, count) -> {
      ObjectNode m = methods.putObject(name);
      m.put("calls", count.sum());
      m.put("total_ms", nanos.get(name).sum() / 1_000_000);
    });
    ObjectNode failures = out.putObject("errors");
    new TreeMap<>(errors).forEach((reason, count) -> failures.put(reason, count.sum()));
    return out;
  }
}
