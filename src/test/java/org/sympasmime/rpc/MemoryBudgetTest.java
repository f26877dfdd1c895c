package org.sympasmime.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
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
    AtomicReference<Thread> reader = new AtomicReference<>();
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
    Thread serving = new Thread(() -> {
      reader.set(Thread.currentThread());
      try {
        server(blocking, budget).serve(in, out);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    serving.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (serving.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(Thread.State.WAITING, serving.getState(), "the reader waits for budget");
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
  private static final class CountingInput extends ByteArrayInputStream {
    CountingInput(byte[] bytes) {
      super(bytes);
    }

    synchronized int position() {
      return pos;
    }
  }
}
