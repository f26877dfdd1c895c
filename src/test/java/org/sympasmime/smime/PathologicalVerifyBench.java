package org.sympasmime.smime;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.testutil.PathologicalMessages;
import org.sympasmime.testutil.PathologicalMessages.Case;
import org.sympasmime.testutil.PathologicalMessages.Top;
import org.sympasmime.testutil.TempDirs;

/**
 * One row of {@code bench/pathological-verify.sh}: the CPU time of our verify of one
 * pathological message (after a warm-up, in a thread of its own) and the wall time of
 * {@code openssl cms -verify} on the same bytes. One case per JVM, because a search we must
 * abandon cannot be stopped and would slow every later case.
 *
 * <p>Usage: {@code PathologicalVerifyBench CASE LIMIT_SECONDS}, CASE one of {@link #CASES}.
 */
public final class PathologicalVerifyBench {
  static final Map<String, Supplier<Case>> CASES = Map.of(
      "lattice-9x7-unreachable", () -> PathologicalMessages.lattice(9, 7, Top.UNREACHABLE),
      "lattice-9x7-failing", () -> PathologicalMessages.lattice(9, 7, Top.REACHABLE_FAILING),
      "lattice-12x12-unreachable", () -> PathologicalMessages.lattice(12, 12, Top.UNREACHABLE),
      "lattice-12x12-failing",
      () -> PathologicalMessages.lattice(12, 12, Top.REACHABLE_FAILING),
      "lattice-20x20-unreachable", () -> PathologicalMessages.lattice(20, 20, Top.UNREACHABLE),
      "lattice-20x20-failing",
      () -> PathologicalMessages.lattice(20, 20, Top.REACHABLE_FAILING),
      "certs-5000", () -> PathologicalMessages.sameNamedCertificates(5000),
      "signers-1000", () -> PathologicalMessages.manySignerInfos(1000));

  private PathologicalVerifyBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2 || !CASES.containsKey(args[0])) {
      System.err.println("usage: PathologicalVerifyBench CASE LIMIT_SECONDS; cases: "
          + String.join(" ", new java.util.TreeSet<>(CASES.keySet())));
      System.exit(2);
    }
    long limitMs = Long.parseLong(args[1]) * 1000;
    Verify verify = new Verify(new TrustStores());
    Path dir = TempDirs.deletedAtExit("pathological-bench");
    // Warm-up: class loading and JIT of an ordinary verification are not the case's cost.
    Case small = PathologicalMessages.manySignerInfos(1);
    Path smallCa = dir.resolve("small.pem");
    Files.writeString(smallCa, small.cafile());
    for (int i = 0; i < 20; i++) {
      run(verify, small, smallCa);
    }

    Case c = CASES.get(args[0]).get();
    Path cafile = dir.resolve("ca.pem");
    Files.writeString(cafile, c.cafile());
    Path eml = dir.resolve("message.eml");
    Files.write(eml, c.message());

    String[] ours = new String[2];
    Thread t = new Thread(() -> {
      ThreadMXBean mx = ManagementFactory.getThreadMXBean();
      long start = mx.getCurrentThreadCpuTime();
      ours[0] = run(verify, c, cafile);
      ours[1] = Long.toString((mx.getCurrentThreadCpuTime() - start) / 1_000_000);
    });
    t.setDaemon(true);
    t.start();
    t.join(limitMs);
    String oursVerdict = ours[1] != null ? ours[0] : "(abandoned)";
    String oursMs = ours[1] != null ? ours[1] : ">" + limitMs;

    long t0 = System.nanoTime();
    Process p = new ProcessBuilder("openssl", "cms", "-verify", "-purpose", "smimesign",
        "-in", eml.toString(), "-CAfile", cafile.toString(), "-out", "/dev/null")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    boolean done = p.waitFor(limitMs, TimeUnit.MILLISECONDS);
    long opensslMs = (System.nanoTime() - t0) / 1_000_000;
    String opensslVerdict = done ? (p.exitValue() == 0 ? "valid" : "refused") : "(killed)";
    if (!done) {
      p.destroyForcibly();
    }
    String ratio = ours[1] != null
        ? String.format("%.1f", Long.parseLong(ours[1]) / (double) Math.max(1, opensslMs)) : "-";
    System.out.printf("%-28s %8d  %-16s %10s  %-9s %10s  %6s%n", args[0], c.message().length,
        oursVerdict, oursMs, opensslVerdict, done ? Long.toString(opensslMs) : ">" + limitMs,
        ratio);
    System.exit(0);
  }

  private static String run(Verify verify, Case c, Path cafile) {
    try {
      Verify.Result r = verify.verify(new Verify.Request(c.message(), Optional.of(cafile),
          Optional.empty(), Optional.empty()));
      return r.failure().map(f -> f.id()).orElse("valid");
    } catch (SmimeException e) {
      return e.reason().id();
    }
  }
}
