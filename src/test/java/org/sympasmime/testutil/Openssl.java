package org.sympasmime.testutil;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs the {@code openssl} command line (OpenSSL 3.0) to make fixtures and to check output. */
public final class Openssl {
  /** What a run produced; {@code command} is for messages. */
  public record Run(int exit, byte[] stdout, String stderr, String command) {
    /** This run, or an AssertionError naming the command and quoting openssl's stderr. */
    public Run check() {
      if (exit != 0) {
        throw new AssertionError(command + " failed (" + exit + "): " + stderr);
      }
      return this;
    }

    public String text() {
      return new String(stdout, StandardCharsets.ISO_8859_1);
    }
  }

  private Openssl() {}

  public static boolean available() {
    try {
      return run(null, (byte[]) null, "version").exit() == 0;
    } catch (UncheckedIOException e) {
      return false;
    }
  }

  /** Runs {@code openssl args...} in {@code dir} (or the current directory) with {@code stdin}. */
  public static Run run(Path dir, byte[] stdin, String... args) {
    List<String> command = new ArrayList<>();
    command.add("openssl");
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    try {
      Process p = pb.start();
      Thread feeder = new Thread(() -> {
        try (OutputStream in = p.getOutputStream()) {
          if (stdin != null) {
            in.write(stdin);
          }
        } catch (IOException e) {
          // openssl may exit before reading everything; its exit code tells.
        }
      });
      feeder.start();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread errReader = new Thread(() -> copy(p.getErrorStream(), err));
      errReader.start();
      byte[] out = p.getInputStream().readAllBytes();
      int exit = p.waitFor();
      feeder.join();
      errReader.join();
      return new Run(exit, out, err.toString(StandardCharsets.UTF_8), String.join(" ", command));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public static Run run(Path dir, String... args) {
    return run(dir, null, args);
  }

  /**
   * {@code openssl cms -verify -purpose smimesign} of an S/MIME message against a cafile
   * alone, as Crypt::SMIME checks list mail; the content goes nowhere.
   */
  public static Run cmsVerify(Path message, Path cafile) {
    return run(null, "cms", "-verify", "-purpose", "smimesign", "-in", message.toString(),
        "-CAfile", cafile.toString(), "-out", "/dev/null");
  }

  /** As {@link #cmsVerify(Path, Path)}, at a validation time ({@code -attime}, seconds). */
  public static Run cmsVerify(Path message, Path cafile, java.time.Instant at) {
    return run(null, "cms", "-verify", "-purpose", "smimesign", "-in", message.toString(),
        "-CAfile", cafile.toString(), "-attime", Long.toString(at.getEpochSecond()),
        "-out", "/dev/null");
  }

  /**
   * {@code openssl verify -purpose smimesign}: the certificate path alone, without CMS.
   *
   * @param untrusted PEM bundle of intermediates, or null
   */
  public static Run pathVerify(Path leaf, Path untrusted, Path cafile) {
    List<String> args = new ArrayList<>(List.of("verify", "-purpose", "smimesign",
        "-CAfile", cafile.toString()));
    if (untrusted != null) {
      args.addAll(List.of("-untrusted", untrusted.toString()));
    }
    args.add(leaf.toString());
    return run(null, args.toArray(String[]::new));
  }

  /**
   * The reason in openssl's stderr, shortest form first: the certificate verify error
   * ({@code unsuitable certificate purpose}), else the last OpenSSL error's text.
   */
  public static String failureText(String stderr) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(
        "(?:Verify error:|error \\d+ at \\d+ depth lookup: ?)([^\\n]*)").matcher(stderr);
    if (m.find()) {
      return m.group(1).trim();
    }
    String last = "";
    for (String line : stderr.split("\\n")) {
      int at = line.lastIndexOf(":error:");
      if (at >= 0) {
        String[] parts = line.substring(at + 7).split(":", 5);
        last = parts.length >= 4 ? parts[3] : line.substring(at + 7);
      }
    }
    return last.isEmpty() ? stderr.strip() : last;
  }

  private static void copy(InputStream in, ByteArrayOutputStream out) {
    try {
      in.transferTo(out);
    } catch (IOException e) {
      // ignored: stderr is diagnostics only
    }
  }
}
