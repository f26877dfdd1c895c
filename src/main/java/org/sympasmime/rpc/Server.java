package org.sympasmime.rpc;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
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

/**
 * Line-delimited JSON-RPC 2.0 over a pair of streams. One thread reads lines, a pool runs the
 * handlers (answers may leave out of order), and one thread writes answers, so a slow request
 * never blocks the reading of the next one. The server never exits on bad input; on end of input
 * it finishes what is in flight and returns.
 *
 * <p>Memory in flight is bounded in bytes by a {@link MemoryBudget}: the reader reserves each
 * request's expected cost before buffering it and stops reading while the budget is spent; an
 * answer holds its size until the writer has written it. A request that could never fit is
 * answered {@code too_large}. So the client must read answers while it writes requests.
 */
public final class Server {
  /** An answer on its way out, holding {@code held} bytes of the budget until written. */
  private record Outgoing(byte[] line, long held) {}

  private static final Outgoing POISON = new Outgoing(new byte[0], 0);

  private final MethodTable methods;
  private final ObjectMapper json;
  private final int maxLineBytes;
  private final MemoryBudget budget;
  private final int workers;
  private final PrintStream log;
  private final Stats stats;

  public Server(
      MethodTable methods, ObjectMapper json, int maxLineBytes, MemoryBudget budget, int workers,
      PrintStream log, Stats stats) {
    this.methods = methods;
    this.json = json;
    this.maxLineBytes = maxLineBytes;
    this.budget = budget;
    this.workers = workers;
    this.log = log;
    this.stats = stats;
  }

  /** A server whose budget is derived from this JVM's maximum heap. */
  public Server(
      MethodTable methods, ObjectMapper json, int maxLineBytes, int workers, PrintStream log,
      Stats stats) {
    this(methods, json, maxLineBytes,
        MemoryBudget.forHeap(Runtime.getRuntime().maxMemory(), MemoryBudget.DEFAULT_COST_PER_BYTE),
        workers, log, stats);
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
    serve(in, out, IdleExit.NEVER);
  }

  /**
   * Serves until {@code in} ends or {@code idle} ends the process. {@code in} must not lock on
   * reads (a plain {@code FileInputStream}, not {@code System.in}): {@code idle} asks it, while
   * the reader waits on it, whether bytes are waiting.
   */
  public void serve(InputStream in, OutputStream out, IdleExit idle)
      throws IOException, InterruptedException {
    LinkedBlockingQueue<Outgoing> outbox = new LinkedBlockingQueue<>();
    Thread writer = new Thread(() -> writeLoop(outbox, out, idle), "rpc-writer");
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
    LineReader reader = new LineReader(idle.watch(in), maxLineBytes, budget);
    idle.start(in, budget, log);
    try {
      for (Optional<LineReader.Line> next = reader.next(); next.isPresent();
          next = reader.next()) {
        LineReader.Line line = next.get();
        // Pending until its answer is written (writeLoop), or at once when it has none.
        idle.begin();
        switch (line.status()) {
          case TOO_LONG -> refuse(line, "request line longer than " + maxLineBytes + " bytes",
              outbox);
          case OVER_BUDGET -> refuse(line, overBudget(line.length()), outbox);
          case OK -> {
            if (isBlank(line.bytes())) {
              budget.release(line.reserved());
              idle.end();
            } else {
              pool.execute(() -> respond(line, outbox, idle));
            }
          }
        }
      }
    } finally {
      pool.shutdown();
      pool.awaitTermination(Long.MAX_VALUE, TimeUnit.DAYS);
      outbox.put(POISON);
      writer.join();
    }
  }

  private String overBudget(long length) {
    return "request of " + length + " bytes needs about " + mebibytes(budget.costOf(length))
        + " MiB of heap, more than the sidecar's budget of " + mebibytes(budget.capacity())
        + " MiB (largest request " + budget.largestRequest() + " bytes); give the JVM a larger"
        + " heap: -Xmx in java_opts (docs/configuration.md), or keep Sympa's max_size below"
        + " the largest message it allows";
  }

  private static long mebibytes(long bytes) {
    return (bytes + (1 << 20) - 1) >> 20;
  }

  private void refuse(LineReader.Line line, String why, LinkedBlockingQueue<Outgoing> outbox)
      throws InterruptedException {
    JsonNode id = idFromHead(line.bytes());
    RpcException error =
        new RpcException(RpcException.INVALID_REQUEST, why, ProtocolReason.TOO_LARGE);
    logFailure("-", id.asText("-"), error);
    outbox.put(new Outgoing(encode(Response.failure(id, error).toJson()), 0));
  }

  /**
   * The id of a request that was not read whole, when it comes before anything large (the Perl
   * client sorts keys, so {@code id} comes first); null otherwise. An id cut off by the end of
   * the head is not trusted: a wrong id would be worse than none.
   */
  private JsonNode idFromHead(byte[] head) {
    try (JsonParser parser = json.getFactory().createParser(head)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return NullNode.getInstance();
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String name = parser.getCurrentName();
        JsonToken value = parser.nextToken();
        if ("id".equals(name)) {
          if (value != JsonToken.VALUE_STRING && value != JsonToken.VALUE_NUMBER_INT) {
            return NullNode.getInstance();
          }
          JsonNode id = json.readTree(parser);
          // The token after the id proves the id was not cut short.
          JsonToken next = parser.nextToken();
          return next == JsonToken.FIELD_NAME || next == JsonToken.END_OBJECT
              ? id : NullNode.getInstance();
        }
        parser.skipChildren();
      }
    } catch (IOException e) {
      // The head ended inside a member before the id: no id.
    }
    return NullNode.getInstance();
  }

  /** Runs one request; its reservation shrinks to its answer's size, released once written. */
  private void respond(
      LineReader.Line request, LinkedBlockingQueue<Outgoing> outbox, IdleExit idle) {
    long held = request.reserved();
    boolean answered = false;
    try {
      Optional<JsonNode> response = answer(request.bytes());
      if (response.isPresent()) {
        byte[] line = encode(response.get());
        if (line.length > held) {
          budget.reserveNow(line.length - held);
        } else {
          budget.release(held - line.length);
        }
        held = line.length;
        outbox.add(new Outgoing(line, held));
        answered = true;
        held = 0;
      }
    } finally {
      budget.release(held);
      if (!answered) {
        idle.end();
      }
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
   * Turns one request line into its answer; none for a notification (a request without {@code
   * id}), which JSON-RPC 2.0 says must not be answered, not even when it fails: its failures go
   * to the log only. Never throws.
   */
  Optional<JsonNode> answer(byte[] line) {
    JsonNode message;
    try {
      Base64Members.Split split = Base64Members.split(line);
      message = json.readTree(split.line());
      Base64Members.restore(message, split.decoded());
    } catch (IOException e) {
      RpcException error = new RpcException(RpcException.PARSE_ERROR,
          "parse error: line is not JSON", ProtocolReason.MALFORMED_INPUT);
      logFailure("-", "-", error);
      return Optional.of(Response.failure(NullNode.getInstance(), error).toJson());
    }
    Incoming incoming = Incoming.of(message);
    if (incoming instanceof Incoming.Request request) {
      return Optional.of(run(request.id(), request.method(), request.params()).toJson());
    }
    if (incoming instanceof Incoming.Notification notification) {
      run(NullNode.getInstance(), notification.method(), notification.params());
      return Optional.empty();
    }
    Incoming.Invalid invalid = (Incoming.Invalid) incoming;
    logFailure("-", invalid.id().asText("-"), invalid.error());
    return Optional.of(Response.failure(invalid.id(), invalid.error()).toJson());
  }

  /** Runs one call and counts it; a failure is logged here, once, answered or not. */
  private Response run(JsonNode id, String method, JsonNode params) {
    long started = System.nanoTime();
    try {
      Optional<Handler> handler = methods.find(method);
      if (handler.isEmpty()) {
        throw new RpcException(RpcException.METHOD_NOT_FOUND, "unknown method: " + method,
            ProtocolReason.UNKNOWN_METHOD);
      }
      if (!params.isObject()) {
        throw RpcException.invalidParams("params must be an object");
      }
      JsonNode result = handler.get().handle(params);
      stats.countCall(method, System.nanoTime() - started);
      return Response.success(id, result);
    } catch (Exception e) {
      stats.countCall(method, System.nanoTime() - started);
      if (e instanceof RpcError error && !(e instanceof RuntimeException)) {
        logFailure(method, id.asText("-"), error);
        return Response.failure(id, error);
      }
      return bug(id, method, e);
    } catch (Error e) {
      stats.countCall(method, System.nanoTime() - started);
      return bug(id, method, e);
    }
  }

  /** A bug must not take the sidecar down, nor leak internals beyond the class name. */
  private Response bug(JsonNode id, String method, Throwable e) {
    RpcException error = new RpcException(RpcException.INTERNAL_ERROR,
        "internal error: " + e.getClass().getSimpleName(), ProtocolReason.INTERNAL);
    stats.countError(error.reasonId());
    log("error", method, id.asText("-"), error.reasonId(), e.getClass().getName());
    logTrace(e);
    return Response.failure(id, error);
  }

  private void logFailure(String method, String id, RpcError error) {
    stats.countError(error.reasonId());
    log("error", method, id, error.reasonId(), error.getMessage());
  }

  private byte[] encode(JsonNode response) {
    try {
      return json.writeValueAsBytes(response);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize a JSON tree", e);
    }
  }

  private void writeLoop(LinkedBlockingQueue<Outgoing> outbox, OutputStream out, IdleExit idle) {
    boolean broken = false;
    try {
      while (true) {
        Outgoing answer = outbox.take();
        if (answer == POISON) {
          if (!broken) {
            out.flush();
          }
          return;
        }
        // Once stdout is gone, answers are still taken off the queue so that their memory is
        // released and the reader is never left waiting for it.
        if (!broken) {
          try {
            out.write(answer.line());
            out.write('\n');
            if (outbox.isEmpty()) {
              out.flush();
            }
          } catch (IOException e) {
            broken = true;
            log("error", "-", "-", "internal", "cannot write to stdout: " + e.getMessage());
          }
        }
        budget.release(answer.held());
        idle.end();
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
