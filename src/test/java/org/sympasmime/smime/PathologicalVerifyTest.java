package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.sympasmime.pki.BcProvider;
import org.sympasmime.pki.ChainValidator;
import org.sympasmime.pki.Pem;
import org.sympasmime.pki.TrustStore;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
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
 * abandoned call keeps its (daemon) thread busy until the JVM exits (nothing can stop it), so
 * the cases most likely to be abandoned run last.
 */
class PathologicalVerifyTest {
  private static final long CPU_BOUND_NANOS = Duration.ofSeconds(10).toNanos();
  /** Generous: two cores are shared with other builds, so wall time is a multiple of CPU. */
  private static final Duration WALL_BOUND = Duration.ofSeconds(40);
  private static final int MAX_MESSAGE = 1 << 20;
  private static final Verify VERIFY = new Verify(new TrustStores());

  /**
   * Built lazily, one at a time; in this order, so that the cases most likely to be abandoned
   * (the small lattices, which fit under Verify's certificate limit) come last.
   */
  static Stream<Arguments> cases() {
    return Stream.of(
        arguments("5000 same-named certificates",
            (Supplier<Case>) () -> PathologicalMessages.sameNamedCertificates(5000)),
        arguments("1000 SignerInfos",
            (Supplier<Case>) () -> PathologicalMessages.manySignerInfos(1000)),
        lattice(20, 20, Top.UNREACHABLE), lattice(20, 20, Top.REACHABLE_FAILING),
        lattice(12, 12, Top.UNREACHABLE), lattice(12, 12, Top.REACHABLE_FAILING),
        lattice(9, 7, Top.REACHABLE_FAILING), lattice(9, 7, Top.UNREACHABLE));
  }

  private static Arguments lattice(int width, int depth, Top top) {
    return arguments("lattice " + width + "x" + depth + " " + top,
        (Supplier<Case>) () -> PathologicalMessages.lattice(width, depth, top));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void boundedAndNeverValid(String name, Supplier<Case> make) throws IOException {
    assertBounded(make.get());
  }

  /**
   * The lattices above 64 certificates never reach the path search through {@code Verify},
   * which refuses them as {@code too_large} first. Here their certificates go to the
   * validator directly, so that the search's own budget is what bounds the work.
   */
  @ParameterizedTest(name = "path search alone: {0}")
  @MethodSource("cases")
  void thePathSearchAloneIsBounded(String name, Supplier<Case> make) throws Exception {
    Case c = make.get();
    SignedEntity.Detached d = (SignedEntity.Detached) SignedEntity.parse(c.message());
    CMSSignedData sd = new CMSSignedData(new CMSProcessableByteArray(d.content()),
        d.signature());
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter()
        .setProvider(BcProvider.get());
    List<X509Certificate> carried = new ArrayList<>();
    for (X509CertificateHolder h : sd.getCertificates().getMatches(null)) {
      carried.add(converter.getCertificate(h));
    }
    SignerInformation si = sd.getSignerInfos().getSigners().iterator().next();
    X509Certificate leaf = carried.stream().filter(x -> {
      try {
        return si.getSID().match(new X509CertificateHolder(x.getEncoded()));
      } catch (Exception e) {
        return false;
      }
    }).findFirst().orElseThrow();
    TrustStore store = new TrustStore(Pem.certificates(
        c.cafile().getBytes(StandardCharsets.US_ASCII)));
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Optional<ChainValidator.Failure> f = assertTimeoutPreemptively(WALL_BOUND, () -> {
      long start = mx.getCurrentThreadCpuTime();
      Optional<ChainValidator.Failure> failure =
          ChainValidator.validate(leaf, carried, store, new Date());
      long cpu = mx.getCurrentThreadCpuTime() - start;
      System.out.printf("path search %-28s %4d certificates %-16s %6d ms CPU%n", c.name(),
          carried.size(), failure.map(x -> x.reason().id()).orElse("valid"), cpu / 1_000_000);
      assertTrue(cpu <= CPU_BOUND_NANOS, c.name() + ": the path search took " + cpu / 1_000_000
          + " ms of CPU");
      return failure;
    });
    if (!c.mayBeValid()) {
      assertTrue(f.isPresent(), c.name() + ": no valid path exists, but the validator found one");
    }
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
