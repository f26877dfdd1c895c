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

  private static void copy(InputStream in, ByteArrayOutputStream out) {
    try {
      in.transferTo(out);
    } catch (IOException e) {
      // ignored: stderr is diagnostics only
    }
  }
}
