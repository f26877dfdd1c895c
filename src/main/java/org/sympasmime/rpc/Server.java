package org.sympasmime.rpc;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.sympasmime.SmimeException;

/**
 * Line-delimited JSON-RPC 2.0 over a pair of streams. One thread reads lines, a pool runs the
 * handlers (answers may leave out of order), and one thread writes answers, so a slow request
 * never blocks the reading of the next one. The server never exits on bad input; on end of input
 * it finishes what is in flight and returns.
 */
public final class Server {
  private static final byte[] POISON = new byte[0];

  private final MethodTable methods;
  private final ObjectMapper json;
  private final int maxLineBytes;
  private final int workers;
  private final PrintStream log;
  private final Stats stats;

  public Server(
      MethodTable methods, ObjectMapper json, int maxLineBytes, int workers, PrintStream log,
      Stats stats) {
    this.methods = methods;
    this.json = json;
    this.maxLineBytes = maxLineBytes;
    this.workers = workers;
    this.log = log;
    this.stats = stats;
  }

  /**
   * The JSON mapper for a given line limit. Jackson caps strings at 20 MB by default; a message
   * as large as a request line may be must pass, and the line limit is what bounds memory.
   */
  public static ObjectMapper jsonFor(int maxLineBytes) {
    JsonFactory factory = JsonFactory.builder()
        .streamReadConstraints(
            StreamReadConstraints.builder().maxStringLength(maxLineBytes).build())
        .build();
    return new ObjectMapper(factory);
  }

  /** Serves until {@code in} ends; returns once every answer has been written. */
  public void serve(InputStream in, OutputStream out) throws IOException, InterruptedException {
    LinkedBlockingQueue<byte[]> outbox = new LinkedBlockingQueue<>();
    Thread writer = new Thread(() -> writeLoop(outbox, out), "rpc-writer");
    writer.start();
    // Bounded queue + caller-runs: a client that pipelines faster than we work is slowed
    // down instead of making us buffer without limit.
    ExecutorService pool =
        new ThreadPoolExecutor(
            workers, workers, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(workers * 64),
            r -> {
              Thread t = new Thread(r, "rpc-worker");
              t.setDaemon(true);
              return t;
            },
            new ThreadPoolExecutor.CallerRunsPolicy());
    LineReader reader = new LineReader(in, maxLineBytes);
    try {
      LineReader.Line line;
      while ((line = reader.next()) != null) {
        if (line.tooLong()) {
          stats.countError("too_large");
          log("error", "-", "-", "too_large",
              "request line longer than " + maxLineBytes + " bytes");
          outbox.put(
              encode(error(NullNode.getInstance(), RpcException.INVALID_REQUEST,
                  "request line longer than " + maxLineBytes + " bytes", "too_large")));
          continue;
        }
        byte[] bytes = line.bytes();
        if (isBlank(bytes)) {
          continue;
        }
        pool.execute(() -> {
          answer(bytes).ifPresent(response -> outbox.add(encode(response)));
        });
      }
    } finally {
      pool.shutdown();
      pool.awaitTermination(Long.MAX_VALUE, TimeUnit.DAYS);
      outbox.put(POISON);
      writer.join();
    }
  }

  private static boolean isBlank(byte[] bytes) {
    for (byte b : bytes) {
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }

  /**
   * Turns one request line into its answer; none for a well-formed notification (a request
   * without {@code id}), which JSON-RPC 2.0 says must not be answered. Never throws.
   */
  Optional<JsonNode> answer(byte[] line) {
    JsonNode request;
    try {
      request = json.readTree(line);
    } catch (IOException e) {
      stats.countError("parse_error");
      log("error", "-", "-", "malformed_input", "line is not JSON");
      return Optional.of(error(NullNode.getInstance(), RpcException.PARSE_ERROR,
          "parse error: line is not JSON", "malformed_input"));
    }
    JsonNode id = request != null && request.isObject() && request.has("id")
        ? request.get("id") : NullNode.getInstance();
    if (!id.isNull() && !id.isTextual() && !id.isIntegralNumber()) {
      id = NullNode.getInstance();
    }
    String method = "-";
    long started = System.nanoTime();
    try {
      if (request == null || !request.isObject()) {
        throw new RpcException(RpcException.INVALID_REQUEST, "request must be a JSON object",
            "malformed_input");
      }
      if (!"2.0".equals(request.path("jsonrpc").asText(null))) {
        throw new RpcException(RpcException.INVALID_REQUEST, "jsonrpc must be \"2.0\"",
            "malformed_input");
      }
      JsonNode methodNode = request.get("method");
      if (methodNode == null || !methodNode.isTextual()) {
        throw new RpcException(RpcException.INVALID_REQUEST, "method must be a string",
            "malformed_input");
      }
      method = methodNode.asText();
      JsonNode params = request.get("params");
      if (params == null || params.isNull()) {
        params = JsonNodeFactory.instance.objectNode();
      } else if (!params.isObject()) {
        throw RpcException.invalidParams("params must be an object");
      }
      String name = method;
      Handler handler = methods.find(method).orElseThrow(
          () -> new RpcException(RpcException.METHOD_NOT_FOUND, "unknown method: " + name));
      JsonNode result = handler.handle(params);
      stats.countCall(method, System.nanoTime() - started);
      if (!request.has("id")) {
        return Optional.empty();
      }
      ObjectNode response = JsonNodeFactory.instance.objectNode();
      response.put("jsonrpc", "2.0");
      response.set("result", result);
      response.set("id", id);
      return Optional.of(response);
    } catch (SmimeException e) {
      stats.countCall(method, System.nanoTime() - started);
      stats.countError(e.reason().id());
      log("error", method, id.asText("-"), e.reason().id(), e.getMessage());
      return Optional.of(error(id, e.reason().code(), e.getMessage(), e.reason().id()));
    } catch (RpcException e) {
      String reason = e.reason().orElse(null);
      stats.countError(reason != null ? reason : "rpc_" + (-e.code()));
      log("error", method, id.asText("-"), reason != null ? reason : "rpc", e.getMessage());
      return Optional.of(error(id, e.code(), e.getMessage(), reason));
    } catch (RuntimeException | Error e) {
      // A bug must not take the sidecar down, nor leak internals beyond the class name.
      stats.countError("internal");
      log("error", method, id.asText("-"), "internal", e.getClass().getName());
      logTrace(e);
      return Optional.of(error(id, RpcException.INTERNAL_ERROR,
          "internal error: " + e.getClass().getSimpleName(), "internal"));
    }
  }

  private static ObjectNode error(JsonNode id, int code, String message, String reason) {
    ObjectNode error = JsonNodeFactory.instance.objectNode();
    error.put("code", code);
    error.put("message", message);
    if (reason != null) {
      error.putObject("data").put("reason", reason);
    }
    ObjectNode response = JsonNodeFactory.instance.objectNode();
    response.put("jsonrpc", "2.0");
    response.set("error", error);
    response.set("id", id);
    return response;
  }

  private byte[] encode(JsonNode response) {
    try {
      return json.writeValueAsBytes(response);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize a JSON tree", e);
    }
  }

  private void writeLoop(LinkedBlockingQueue<byte[]> outbox, OutputStream out) {
    try {
      while (true) {
        byte[] line = outbox.take();
        if (line == POISON) {
          out.flush();
          return;
        }
        out.write(line);
        out.write('\n');
        if (outbox.isEmpty()) {
          out.flush();
        }
      }
    } catch (IOException e) {
      log("error", "-", "-", "internal", "cannot write to stdout: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The stack trace of a bug: class names and frames, but no exception messages, because a
   * message from deep inside a crypto library may quote the bytes it was working on.
   */
  private void logTrace(Throwable e) {
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
      log.println((t == e ? "" : "Caused by: ") + t.getClass().getName());
      for (StackTraceElement frame : t.getStackTrace()) {
        log.println("\tat " + frame);
      }
    }
  }

  /** One line per failure, so Sympa's log relay can carry it as one log entry. */
  private void log(String level, String method, String id, String reason, String detail) {
    String clean = detail == null ? "" : detail.replaceAll("[\\r\\n]+", " ");
    log.println("sympa-smime: " + level + " method=" + method + " id=" + id + " reason=" + reason
        + ": " + clean);
  }
}
