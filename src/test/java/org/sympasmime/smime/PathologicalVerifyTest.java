package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.testutil.PathologicalMessages;
import org.sympasmime.testutil.PathologicalMessages.Case;
import org.sympasmime.testutil.PathologicalMessages.Top;
import org.sympasmime.testutil.TempDirs;

/**
 * A message made to exhaust the verifier must cost a bounded amount of CPU, whatever the
 * verdict (too_large is a fine answer), and no such message may be called valid.
 *
 * <p>The bounds are regression bounds, far above the 1 s target that
 * {@code bench/pathological-verify.sh} measures: 10 s of the verifying thread's CPU time, and a
 * wall-clock limit after which the call is abandoned so that CI fails instead of hanging. An
 * abandoned call keeps its (daemon) thread busy until the JVM exits, so the cases most likely
 * to be abandoned run last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PathologicalVerifyTest {
  private static final long CPU_BOUND_NANOS = Duration.ofSeconds(10).toNanos();
  /** Generous: two cores are shared with other builds, so wall time is a multiple of CPU. */
  private static final Duration WALL_BOUND = Duration.ofSeconds(40);
  private static final int MAX_MESSAGE = 1 << 20;
  private static final Verify VERIFY = new Verify(new TrustStores());

  @Test
  @Order(1)
  void fiveThousandSameNamedCertificates() throws Exception {
    assertBounded(PathologicalMessages.sameNamedCertificates(5000));
  }

  @Test
  @Order(2)
  void aThousandSignerInfos() throws Exception {
    assertBounded(PathologicalMessages.manySignerInfos(1000));
  }

  @Test
  @Order(3)
  void lattice20x20Unreachable() throws Exception {
    assertBounded(PathologicalMessages.lattice(20, 20, Top.UNREACHABLE));
  }

  @Test
  @Order(4)
  void lattice20x20Failing() throws Exception {
    assertBounded(PathologicalMessages.lattice(20, 20, Top.REACHABLE_FAILING));
  }

  @Test
  @Order(5)
  void lattice12x12Unreachable() throws Exception {
    assertBounded(PathologicalMessages.lattice(12, 12, Top.UNREACHABLE));
  }

  @Test
  @Order(6)
  void lattice12x12Failing() throws Exception {
    assertBounded(PathologicalMessages.lattice(12, 12, Top.REACHABLE_FAILING));
  }

  @Test
  @Order(7)
  void lattice9x7Failing() throws Exception {
    assertBounded(PathologicalMessages.lattice(9, 7, Top.REACHABLE_FAILING));
  }

  @Test
  @Order(8)
  void lattice9x7Unreachable() throws Exception {
    assertBounded(PathologicalMessages.lattice(9, 7, Top.UNREACHABLE));
  }

  /** What one call answered and the CPU time its thread spent. */
  record Outcome(boolean valid, String verdict, long cpuNanos) {}

  private static void assertBounded(Case c) throws IOException {
    assertTrue(c.message().length <= MAX_MESSAGE,
        c.name() + ": the message has " + c.message().length + " bytes, more than 1 MB");
    Path dir = TempDirs.deletedAtExit("pathological");
    Path cafile = dir.resolve("ca.pem");
    Files.writeString(cafile, c.cafile());
    Outcome o = assertTimeoutPreemptively(WALL_BOUND, () -> verify(c, cafile),
        () -> c.name() + ": verify did not finish within " + WALL_BOUND.toSeconds()
            + " s of wall-clock time (abandoned)");
    System.out.printf("%-40s %-60s %6d ms CPU%n", c.name(), o.verdict(), o.cpuNanos() / 1_000_000);
    assertTrue(o.cpuNanos() <= CPU_BOUND_NANOS, c.name() + ": verify took "
        + o.cpuNanos() / 1_000_000 + " ms of CPU, more than " + CPU_BOUND_NANOS / 1_000_000);
    if (!c.mayBeValid()) {
      assertFalse(o.valid(), c.name() + ": no valid path exists, but verify said " + o.verdict());
    }
  }

  /** Runs in JUnit's timeout thread, so the thread CPU time is that of this call alone. */
  private static Outcome verify(Case c, Path cafile) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long start = mx.getCurrentThreadCpuTime();
    boolean valid;
    String verdict;
    try {
      Verify.Result r = VERIFY.verify(new Verify.Request(c.message(), Optional.of(cafile),
          Optional.empty(), Optional.empty()));
      valid = r.valid();
      verdict = r.failure().map(f -> f.id()).orElse("valid");
    } catch (SmimeException e) {
      valid = false;
      verdict = e.reason().id();
    }
    return new Outcome(valid, verdict, mx.getCurrentThreadCpuTime() - start);
  }
}
