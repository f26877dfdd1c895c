package org.sympasmime.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** In-flight memory is bounded in bytes: big requests wait their turn, impossible ones fail. */
class MemoryBudgetTest {
  private static final ObjectMapper JSON = Server.jsonFor(64 << 20);
  private static final int MIB = 1 << 20;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger mostRunning = new AtomicInteger();

  /** {@code test.size}: answers the length of {@code data}, counting how many run at once. */
  private final MethodTable table = MethodTable.builder().add("test.size", params -> {
    mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
    try {
      ObjectNode result = JsonNodeFactory.instance.objectNode();
      result.put("length", params.path("data").asText().length());
      return result;
    } finally {
      running.decrementAndGet();
    }
  }).build();

  private Server server(MethodTable methods, MemoryBudget budget) {
    return new Server(methods, JSON, 64 << 20, budget, 4,
        new PrintStream(log, true, StandardCharsets.UTF_8), new Stats());
  }

  /** A request with {@code id} first, as the Perl client sends it, and {@code size} bytes. */
  private static String request(int id, int size) {
    return "{\"id\":" + id + ",\"jsonrpc\":\"2.0\",\"method\":\"test.size\",\"params\":{\"data\":\""
        + "x".repeat(size) + "\"}}\n";
  }

  /** Every line of {@code out}, each of which must be a JSON-RPC answer. */
  private static List<JsonNode> answers(ByteArrayOutputStream out) throws Exception {
    List<JsonNode> answers = new ArrayList<>();
    String text = out.toString(StandardCharsets.UTF_8);
    assertTrue(text.isEmpty() || text.endsWith("\n"), "every answer ends with LF");
    for (String line : text.split("\n")) {
      if (!line.isEmpty()) {
        JsonNode answer = JSON.readTree(line);
        assertEquals("2.0", answer.path("jsonrpc").asText(), line);
        answers.add(answer);
      }
    }
    return answers;
  }

  private static Map<Integer, JsonNode> byId(List<JsonNode> answers) {
    Map<Integer, JsonNode> byId = new HashMap<>();
    answers.forEach(a -> byId.put(a.path("id").asInt(-1), a));
    return byId;
  }

  @Test
  void bigRequestsThatFitOneAtATimeAreAllAnsweredOneAtATime() throws Exception {
    // Each 1 MiB request costs 2 MiB of a 3 MiB budget: with four workers, still one at a time.
    MemoryBudget budget = new MemoryBudget(3L * MIB, 2);
    StringBuilder input = new StringBuilder();
    for (int id = 1; id <= 6; id++) {
      input.append(request(id, MIB));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    server(table, budget).serve(
        new ByteArrayInputStream(input.toString().getBytes(StandardCharsets.UTF_8)), out);

    Map<Integer, JsonNode> byId = byId(answers(out));
    assertEquals(6, byId.size(), out.toString(StandardCharsets.UTF_8));
    for (int id = 1; id <= 6; id++) {
      assertEquals(MIB, byId.get(id).path("result").path("length").asInt(), "answer " + id);
    }
    assertEquals(1, mostRunning.get(), "never two big requests in memory at once");
    assertEquals(0, budget.inFlight(), "everything released once written");
  }

  @Test
  void theReaderStopsReadingWhileTheBudgetIsSpent() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    MethodTable blocking = MethodTable.builder().add("test.size", params -> {
      try {
        // Held until the reader has stopped for want of budget.
        assertTrue(release.await(30, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      return JsonNodeFactory.instance.objectNode().put("length",
          params.path("data").asText().length());
    }).build();
    MemoryBudget budget = new MemoryBudget(3L * MIB, 2);
    byte[] input = (request(1, MIB) + request(2, MIB) + request(3, 10))
        .getBytes(StandardCharsets.UTF_8);
    CountingInput in = new CountingInput(input);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread serving = serveInBackground(server(blocking, budget), in, out);
    assertTrue(in.position() < input.length, "and has not read the rest of stdin: "
        + in.position() + " of " + input.length);
    release.countDown();
    serving.join(30_000);

    Map<Integer, JsonNode> byId = byId(answers(out));
    assertEquals(3, byId.size());
    assertEquals(MIB, byId.get(2).path("result").path("length").asInt());
    assertEquals(10, byId.get(3).path("result").path("length").asInt());
    assertEquals(input.length, in.position());
    assertEquals(0, budget.inFlight());
  }

  @Test
  void anAnswerHoldsItsMemoryUntilWritten() throws Exception {
    // test.big: a small request with a 2.5 MiB answer. While stdout does not take it, a 0.5 MiB
    // request (1 MiB of cost) does not fit in the 3 MiB budget.
    MethodTable big = MethodTable.builder().add("test.big", params ->
        JsonNodeFactory.instance.objectNode().put("data",
            "y".repeat(params.path("size").asInt()))).build();
    MemoryBudget budget = new MemoryBudget(3L * MIB, 2);
    byte[] first = ("{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"test.big\",\"params\":{\"size\":"
        + (5 * MIB / 2) + "}}\n").getBytes(StandardCharsets.UTF_8);
    byte[] rest = request(2, MIB / 2).replace("test.size", "test.big")
        .getBytes(StandardCharsets.UTF_8);
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch stdoutFree = new CountDownLatch(1);
    ByteArrayOutputStream written = new ByteArrayOutputStream();
    OutputStream stdout = new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        writing.countDown();
        try {
          assertTrue(stdoutFree.await(30, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
          throw new IOException(e);
        }
        written.write(b, off, len);
      }
    };
    // The second request only comes once the writer holds the first answer.
    CountingInput in = new CountingInput(concat(first, rest)) {
      @Override
      public int read(byte[] b, int off, int len) {
        if (position() == first.length) {
          try {
            assertTrue(writing.await(30, TimeUnit.SECONDS));
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        }
        int before = first.length - position();
        return super.read(b, off, before > 0 ? Math.min(len, before) : len);
      }
    };
    Thread serving = serveInBackground(server(big, budget), in, stdout);
    assertTrue(in.position() < first.length + rest.length, "stdin not read to its end");
    assertTrue(budget.inFlight() >= 5 * MIB / 2, "the unwritten answer counts");
    stdoutFree.countDown();
    serving.join(30_000);

    Map<Integer, JsonNode> byId = byId(answers(written));
    assertEquals(5 * MIB / 2, byId.get(1).path("result").path("data").asText().length());
    assertTrue(byId.get(2).has("result"), "request 2 answered: " + byId.get(2));
    assertEquals(0, budget.inFlight());
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] both = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }

  /** Starts {@code server} on its own thread and returns once its reader waits for budget. */
  private static Thread serveInBackground(Server server, InputStream in, OutputStream out)
      throws InterruptedException {
    Thread serving = new Thread(() -> {
      try {
        server.serve(in, out);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    serving.start();
    awaitWaiting(serving);
    return serving;
  }

  /** Waits until {@code thread} waits: the reader, for budget (nothing else makes it wait). */
  private static void awaitWaiting(Thread thread) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (thread.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(Thread.State.WAITING, thread.getState(), "the reader waits for budget");
  }

  @Test
  void aRequestThatCouldNeverFitIsTooLargeAndNamesTheHeapSetting() throws Exception {
    // 300 KiB at 4 bytes of heap each is more than the 1 MiB budget.
    MemoryBudget budget = new MemoryBudget(MIB, 4);
    String input = request(1, 300 << 10) + request(2, 1000) + request(3, 300 << 10);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    server(table, budget).serve(
        new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)), out);

    Map<Integer, JsonNode> byId = byId(answers(out));
    assertEquals(3, byId.size(), out.toString(StandardCharsets.UTF_8));
    for (int id : new int[] {1, 3}) {
      JsonNode error = byId.get(id).path("error");
      assertEquals("too_large", error.path("data").path("reason").asText(), error.toString());
      assertEquals(RpcException.INVALID_REQUEST, error.path("code").asInt());
      String message = error.path("message").asText();
      assertTrue(message.contains("request of " + input.indexOf('\n') + " bytes"), message);
      assertTrue(message.contains("-Xmx in java_opts"), message);
      assertTrue(message.contains("largest request 262144 bytes"), message);
    }
    assertEquals(1000, byId.get(2).path("result").path("length").asInt(),
        "the stream stays in sync");
    assertEquals(0, budget.inFlight());
    String logged = log.toString(StandardCharsets.UTF_8);
    assertTrue(logged.contains("sympa-smime: error method=- id=1 reason=too_large: request of "),
        logged);
    assertEquals(2, logged.lines().count(), "one log line per refusal: " + logged);
  }

  @Test
  void aRefusedRequestWhoseIdComesLateOrCutShortIsAnsweredWithANullId() throws Exception {
    MemoryBudget budget = new MemoryBudget(MIB, 4);
    String late = "{\"jsonrpc\":\"2.0\",\"method\":\"test.size\",\"params\":{\"data\":\""
        + "x".repeat(300 << 10) + "\"},\"id\":7}\n";
    // The id's digits straddle the 256 bytes kept of a refused line: 12 must not pass for 1234.
    String prefix = "{\"jsonrpc\":\"2.0\",\"method\":\"test.size\",\"pad\":\"";
    String cut = prefix + "p".repeat(LineReader.HEAD_BYTES - prefix.length() - 8)
        + "\",\"id\":1234,\"params\":{\"data\":\"" + "x".repeat(300 << 10) + "\"}}\n";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    server(table, budget).serve(
        new ByteArrayInputStream((late + cut).getBytes(StandardCharsets.UTF_8)), out);

    List<JsonNode> answers = answers(out);
    assertEquals(2, answers.size());
    for (JsonNode answer : answers) {
      assertTrue(answer.get("id").isNull(), answer.toString());
      assertEquals("too_large", answer.path("error").path("data").path("reason").asText());
    }
  }

  @Test
  void theDefaultBudgetLeavesAReserveButNeverLessThanHalfTheHeap() {
    MemoryBudget big = MemoryBudget.forHeap(512L * MIB, 8);
    assertEquals(512L * MIB - MemoryBudget.RESERVE_BYTES, big.capacity());
    assertEquals((512L * MIB - MemoryBudget.RESERVE_BYTES) / 8, big.largestRequest());
    assertEquals(16L * MIB, MemoryBudget.forHeap(32L * MIB, 8).capacity());
  }

  /** A byte array input that tells how far it has been read. */
  private static class CountingInput extends ByteArrayInputStream {
    CountingInput(byte[] bytes) {
      super(bytes);
    }

    synchronized int position() {
      return pos;
    }
  }
}
