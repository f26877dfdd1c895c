package org.sympasmime.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.ByteArrayOutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The idle exit in process: when it fires, and that work in flight holds it off. */
class IdleExitTest {
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final CountDownLatch exited = new CountDownLatch(1);
  private final CountDownLatch answering = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);

  /** A server over a pipe, with a method that works until released; its input end. */
  private PipedOutputStream start(Duration limit) throws Exception {
    MethodTable table = MethodTable.builder().add("test.slow", params -> {
      answering.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return JsonNodeFactory.instance.textNode("done");
    }).build();
    Server server = new Server(table, Server.jsonFor(1 << 20), 1 << 20, 2,
        new PrintStream(log, true, StandardCharsets.UTF_8), new Stats());
    PipedOutputStream client = new PipedOutputStream();
    PipedInputStream in = new PipedInputStream(client, 1 << 16);
    Thread serving = new Thread(() -> {
      try {
        server.serve(in, out, IdleExit.after(limit, Duration.ZERO, exited::countDown));
      } catch (Exception e) {
        // The test looks at what was answered and whether the exit ran.
      }
    });
    // Once it has decided to exit, the server never reads on: the thread is left to the JVM.
    serving.setDaemon(true);
    serving.start();
    return client;
  }

  @Test
  void exitsAfterTheLimitWithoutRequestsAndSaysSo() throws Exception {
    start(Duration.ofMillis(300));
    assertTrue(exited.await(10, TimeUnit.SECONDS), "exit ran");
    assertTrue(log.toString(StandardCharsets.UTF_8)
        .startsWith("sympa-smime: info idle exit: no request for 0 s; exiting"), log::toString);
  }

  @Test
  void aRequestInFlightHoldsItOffUntilItsAnswerIsWritten() throws Exception {
    PipedOutputStream client = start(Duration.ofMillis(300));
    client.write("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.slow\"}\n"
        .getBytes(StandardCharsets.UTF_8));
    client.flush();
    assertTrue(answering.await(10, TimeUnit.SECONDS));
    // Three times the limit with the request in the works: no exit.
    assertFalse(exited.await(900, TimeUnit.MILLISECONDS), "no exit while a request runs");
    release.countDown();
    assertTrue(exited.await(10, TimeUnit.SECONDS), "exit once answered and idle again");
    assertEquals("{\"jsonrpc\":\"2.0\",\"result\":\"done\",\"id\":1}\n",
        out.toString(StandardCharsets.UTF_8), "the answer was written before");
  }

  @Test
  void aLimitMustBePositive() {
    assertThrows(IllegalArgumentException.class,
        () -> IdleExit.after(Duration.ZERO, Duration.ZERO, () -> {}));
  }
}
