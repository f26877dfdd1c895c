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
  // One entry holds both counters of a method: with two maps, service.stats could see a
  // method's call count before its time counter exists.
  private final Map<String, MethodCounters> methods = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();

  private record MethodCounters(LongAdder calls, LongAdder nanos) {
    MethodCounters() {
      this(new LongAdder(), new LongAdder());
    }
  }

  void countCall(String method, long elapsedNanos) {
    MethodCounters c = methods.computeIfAbsent(method, k -> new MethodCounters());
    c.calls().increment();
    c.nanos().add(elapsedNanos);
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
    ObjectNode byMethod = out.putObject("methods");
    new TreeMap<>(methods).forEach((name, c) -> {
      ObjectNode m = byMethod.putObject(name);
      m.put("calls", c.calls().sum());
      m.put("total_ms", c.nanos().sum() / 1_000_000);
    });
    ObjectNode failures = out.putObject("errors");
    new TreeMap<>(errors).forEach((reason, count) -> failures.put(reason, count.sum()));
    return out;
  }
}
