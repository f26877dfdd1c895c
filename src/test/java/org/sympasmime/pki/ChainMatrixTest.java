package org.sympasmime.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.ChainShape.Chain;
import org.sympasmime.smime.Verify;
import org.sympasmime.testutil.Openssl;
import org.sympasmime.testutil.SignedMessages;
import org.sympasmime.testutil.TempDirs;
import org.sympasmime.testutil.TestCert;

/**
 * The chain matrix: every {@link ChainShapes} shape is signed into a multipart/signed message
 * and verified twice against the shape's root as cafile, by {@code Verify} and by
 * {@code openssl cms -verify -purpose smimesign} (OpenSSL 3.0, what Crypt::SMIME used).
 * {@code smime.verify} decides who may post, so it must refuse whatever OpenSSL refuses; it may
 * refuse more only where {@link #KNOWN} says why (docs/differences.md, "Certificate path
 * validation compared with OpenSSL").
 *
 * <p>Fails with a table of the disagreements, and also when a shape's valid twin is refused by
 * OpenSSL (the shape is broken, not the validator). Prints the whole matrix and the verdict
 * counts; writes them to {@code target/chain-matrix.txt}.
 */
class ChainMatrixTest {
  /**
   * A documented difference: {@code weRefuse} where we are stricter than OpenSSL (policy or an
   * RFC clause), or, only where an RFC clause decides, where we accept what OpenSSL 3.0 cannot.
   */
  record Known(boolean weRefuse, String why) {}

  /**
   * Shape name → documented difference. An entry whose shape agrees today is reported as
   * "not observed" (the validator does not implement it yet) but does not fail; a disagreement
   * in the other direction than the entry's does.
   */
  static final Map<String, Known> KNOWN = known();

  private static Map<String, Known> known() {
    Map<String, Known> k = new LinkedHashMap<>();
    String md5 = "algorithm policy: MD5 is refused anywhere on the path (RFC 6151: collisions"
        + " forge certificates); OpenSSL 3.0 at its default security level accepts it";
    k.put("alg.md5.leaf:md5-with-rsa", refuse(md5));
    k.put("alg.md5.intermediate:md5-with-rsa", refuse(md5));
    k.put("alg.md5.root:md5-with-rsa", refuse(md5 + " (OpenSSL does not check the root's"
        + " self-signature at all)"));
    String rsa = "algorithm policy: RSA keys under 1024 bits are refused (factorable);"
        + " OpenSSL checks key sizes only with a security level, which cms -verify does not set";
    k.put("alg.rsa-size.leaf:rsa-512", refuse(rsa));
    k.put("alg.rsa-size.intermediate:rsa-512", refuse(rsa));
    k.put("alg.rsa-size.root:rsa-512", refuse(rsa));
    String ec = "algorithm policy: EC curves under 224 bits are refused (NIST SP 800-57,"
        + " 80-bit security); OpenSSL accepts P-192";
    k.put("alg.ec-curve.leaf:p-192", refuse(ec));
    k.put("alg.ec-curve.intermediate:p-192", refuse(ec));
    k.put("alg.ec-curve.root:p-192", refuse(ec));
    String policy = "RFC 5280 6.1.3 (d)-(f), 6.1.4 (i), 6.1.5: policy processing is part of"
        + " path validation; OpenSSL skips it unless asked (-policy_check), so it ignores"
        + " requireExplicitPolicy, inhibitPolicyMapping and inhibitAnyPolicy";
    k.put("policy.require-explicit.leaf-without-policy:no-policy", refuse(policy));
    k.put("policy.require-explicit.other-policy:other-policy", refuse(policy));
    k.put("policy.inhibit-mapping:mapping-inhibited", refuse(policy));
    k.put("policy.inhibit-any:any-inhibited", refuse(policy));
    k.put("malformed.certificate-policies.leaf:not-a-sequence", refuse("RFC 5280 4.2 and"
        + " X.690: an extension that does not decode makes the certificate unusable; OpenSSL"
        + " decodes certificatePolicies only when it checks policies, which cms -verify does not"));
    k.put("bc.root.missing:no-basic-constraints-keycertsign", refuse("RFC 5280 4.2.1.3 and"
        + " 4.2.1.9: keyCertSign only with basicConstraints cA, so a v3 root that signs"
        + " certificates has basicConstraints; OpenSSL takes the keyUsage as enough (x509-limbo"
        + " rfc5280::root-missing-basic-constraints)"));
    k.put("alg.ed25519.leaf:ed25519", accept("RFC 8419 defines Ed25519 SignerInfos; OpenSSL"
        + " 3.0 cannot verify any (\"invalid digest\"; it cannot make one either), while"
        + " openssl verify accepts the same path"));
    String builder = "RFC 5280 6.1 (a path is valid if one valid path exists) and RFC 4158"
        + " (path building): the message carries a valid path; OpenSSL follows only the first"
        + " issuer it finds and gives up";
    k.put("issuer.loop:loop-with-exit-to-root", accept(builder));
    k.put("cross.alternate-path:both-paths", accept(builder));
    return k;
  }

  static Known refuse(String why) {
    return new Known(true, why);
  }

  static Known accept(String why) {
    return new Known(false, why);
  }

  /** One side's answer. */
  record Verdict(boolean accepted, String why) {
    String word() {
      return accepted ? "accept" : "REJECT";
    }
  }

  /** {@code path} is {@code openssl verify} of the certificates alone, for the reader. */
  record Row(ChainShape shape, Verdict ours, Verdict openssl, Verdict path) {
    boolean agree() {
      return ours.accepted() == openssl.accepted();
    }

    /** A disagreement in the direction {@link #KNOWN} documents for this shape. */
    boolean excused() {
      Known k = KNOWN.get(shape.name());
      return k != null && !agree() && k.weRefuse() == !ours.accepted();
    }
  }

  private static final Verify VERIFY = new Verify(new TrustStores());

  @Test
  void shapesArePairedAndNamedOnce() {
    List<ChainShape> shapes = ChainShapes.all();
    assertTrue(shapes.size() >= 150, "only " + shapes.size() + " shapes");
    Set<String> names = new HashSet<>();
    Set<String> rulesWithReject = new TreeSet<>();
    Set<String> rulesWithAccept = new HashSet<>();
    for (ChainShape s : shapes) {
      assertTrue(names.add(s.name()), "shape named twice: " + s.name());
      (s.intended() ? rulesWithAccept : rulesWithReject).add(s.rule());
    }
    rulesWithReject.removeAll(rulesWithAccept);
    assertEquals(Set.of(), rulesWithReject, "rules with an invalid case but no valid twin");
    for (String known : KNOWN.keySet()) {
      assertTrue(names.contains(known), "KNOWN names no shape: " + known);
    }
  }

  @Test
  void oursRefusesWhateverOpensslRefuses() throws IOException {
    Assumptions.assumeTrue(Openssl.available(), "no openssl command");
    Path dir = TempDirs.deletedAtExit("chain-matrix");
    List<Row> rows = new ArrayList<>();
    int n = 0;
    for (ChainShape shape : ChainShapes.all()) {
      Path sub = Files.createDirectories(dir.resolve(Integer.toString(n++)));
      rows.add(run(shape, sub));
    }
    Report report = new Report(rows);
    String text = report.render();
    System.out.println(text);
    if (Files.isDirectory(Path.of("target"))) {
      Files.writeString(Path.of("target", "chain-matrix.txt"), text);
    }
    if (!report.problems().isEmpty()) {
      fail(report.problems().size() + " problems in the chain matrix:\n"
          + Report.table(report.problems()) + "\n" + report.counts());
    }
  }

  private static Row run(ChainShape shape, Path dir) throws IOException {
    Chain chain;
    byte[] message;
    try {
      chain = shape.build().get();
      message = SignedMessages.multipartSigned(chain.signer(), chain.carried(),
          chain.cmsAlgorithm(), 1);
    } catch (RuntimeException e) {
      Verdict broken = new Verdict(false, "shape does not build: " + e);
      Verdict notRun = new Verdict(true, "not run");
      return new Row(shape, broken, notRun, notRun);
    }
    Path cafile = dir.resolve("root.pem");
    Files.writeString(cafile, TestCert.pems(chain.anchors()));
    Path eml = dir.resolve("message.eml");
    Files.write(eml, message);
    Path leaf = dir.resolve("leaf.pem");
    Files.writeString(leaf, chain.signer().pem());
    Path untrusted = null;
    if (!chain.carried().isEmpty()) {
      untrusted = dir.resolve("untrusted.pem");
      StringBuilder pems = new StringBuilder();
      for (X509CertificateHolder c : chain.carried()) {
        pems.append(Pem.encode("CERTIFICATE", c.getEncoded()));
      }
      Files.writeString(untrusted, pems);
    }
    Openssl.Run path = Openssl.pathVerify(leaf, untrusted, cafile);
    return new Row(shape, ours(message, cafile), openssl(eml, cafile), new Verdict(
        path.exit() == 0, path.exit() == 0 ? "ok" : Openssl.failureText(path.stderr())));
  }

  static Verdict ours(byte[] message, Path cafile) {
    return ours(message, cafile, Optional.empty());
  }

  /** {@code Verify}'s verdict at {@code at} (now when empty). */
  static Verdict ours(byte[] message, Path cafile, Optional<java.time.Instant> at) {
    try {
      Verify.Result r = VERIFY.verify(new Verify.Request(message, Optional.of(cafile),
          Optional.empty(), at));
      return new Verdict(r.valid(),
          r.failure().map(f -> f.id() + ": ").orElse("") + r.detail());
    } catch (SmimeException e) {
      return new Verdict(false, e.reason().id() + ": " + e.getMessage());
    } catch (RuntimeException e) {
      // A bug, but for the matrix still a refusal: the table shows it.
      return new Verdict(false, "exception: " + e);
    }
  }

  static Verdict openssl(Path message, Path cafile) {
    Openssl.Run run = Openssl.cmsVerify(message, cafile);
    return new Verdict(run.exit() == 0,
        run.exit() == 0 ? "ok" : Openssl.failureText(run.stderr()));
  }

  /** The matrix, its counts, and what is wrong with it. */
  static final class Report {
    private final List<Row> rows;

    Report(List<Row> rows) {
      this.rows = List.copyOf(rows);
    }

    /**
     * Disagreements not excused by {@link #KNOWN}, and valid twins OpenSSL refuses (a shape
     * that is refused for a reason other than the one it tests proves nothing).
     */
    List<Row> problems() {
      List<Row> out = new ArrayList<>();
      for (Row r : rows) {
        boolean brokenTwin = r.shape().intended() && !r.openssl().accepted()
            && !KNOWN.containsKey(r.shape().name());
        if ((!r.agree() && !r.excused()) || brokenTwin) {
          out.add(r);
        }
      }
      return out;
    }

    String counts() {
      int ourAccepts = 0;
      int theirAccepts = 0;
      int agree = 0;
      for (Row r : rows) {
        ourAccepts += r.ours().accepted() ? 1 : 0;
        theirAccepts += r.openssl().accepted() ? 1 : 0;
        agree += r.agree() ? 1 : 0;
      }
      int stricter = 0;
      int laxer = 0;
      for (Row r : rows) {
        if (!r.agree()) {
          if (r.ours().accepted()) {
            laxer++;
          } else {
            stricter++;
          }
        }
      }
      return String.format("%d shapes; ours: %d accepted, %d refused; openssl: %d accepted,"
          + " %d refused; agree on %d; we accept what openssl refuses: %d; we refuse what"
          + " openssl accepts: %d; documented: %d", rows.size(), ourAccepts,
          rows.size() - ourAccepts, theirAccepts, rows.size() - theirAccepts, agree, laxer,
          stricter, rows.stream().filter(Row::excused).count());
    }

    String render() {
      StringBuilder s = new StringBuilder("Chain matrix: ours against openssl cms -verify"
          + " -purpose smimesign (cms) and openssl verify -purpose smimesign (verify)\n");
      s.append(table(rows)).append('\n').append(counts()).append('\n');
      List<String> stale = new ArrayList<>();
      for (Row r : rows) {
        if (KNOWN.containsKey(r.shape().name()) && r.agree()) {
          stale.add(r.shape().name());
        }
      }
      if (!stale.isEmpty()) {
        s.append("Known differences not observed (ours agrees with OpenSSL): ")
            .append(String.join(", ", stale)).append('\n');
      }
      return s.toString();
    }

    static String table(List<Row> rows) {
      int width = rows.stream().mapToInt(r -> r.shape().name().length()).max().orElse(5);
      StringBuilder s = new StringBuilder();
      s.append(String.format("%-" + width + "s  %-8s  %-6s  %-6s  %-6s  %-5s  %s%n", "shape",
          "intended", "ours", "cms", "verify", "known",
          "ours: reason / detail  |  openssl cms  |  openssl verify"));
      for (Row r : rows) {
        s.append(String.format("%-" + width + "s  %-8s  %-6s  %-6s  %-6s  %-5s  %s  |  %s  |  %s%n",
            r.shape().name(), r.shape().intended() ? "accept" : "REJECT", r.ours().word(),
            r.openssl().word(), r.path().word(), KNOWN.containsKey(r.shape().name()) ? "yes" : "",
            oneLine(r.ours().why()), oneLine(r.openssl().why()), oneLine(r.path().why())));
      }
      return s.toString();
    }

    private static String oneLine(String s) {
      String t = s.replaceAll("\\s+", " ").strip();
      return t.length() > 160 ? t.substring(0, 157) + "..." : t;
    }
  }
}
