package org.sympasmime;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.sympasmime.methods.Registry;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.rpc.IdleExit;
import org.sympasmime.rpc.MemoryBudget;
import org.sympasmime.rpc.Server;
import org.sympasmime.rpc.Stats;

/**
 * Entry point. {@code serve} (the default) speaks JSON-RPC on stdin/stdout; stdout carries
 * protocol lines only, so everything else, including stray library output, goes to stderr.
 */
public final class Main {
  private static final int DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

  private Main() {}

  public static void main(String[] args) throws Exception {
    String command = args.length > 0 ? args[0] : "serve";
    switch (command) {
      case "serve" -> System.exit(serve());
      case "demo" -> System.exit(Demo.run(System.out));
      case "--version", "version" -> System.out.println("sympa-smime " + Version.VERSION);
      default -> {
        System.err.println("usage: java -jar sympa-smime.jar [serve|demo|version]");
        System.exit(2);
      }
    }
  }

  private static int serve() throws Exception {
    // The protocol writer owns the real stdout; System.out goes to stderr before any library
    // is loaded, so that no stray println, however early, can corrupt the protocol stream.
    OutputStream protocolOut = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out),
        1 << 16);
    PrintStream log = new PrintStream(new FileOutputStream(FileDescriptor.err), true,
        StandardCharsets.UTF_8);
    System.setOut(log);
    KeyMaterial keys = new KeyMaterial();
    Stats stats = new Stats();
    int workers = Integer.getInteger("sympa.smime.workers",
        Math.max(2, Runtime.getRuntime().availableProcessors()));
    int maxLine = Integer.getInteger("sympa.smime.maxLineBytes", DEFAULT_MAX_LINE_BYTES);
    int cost = Integer.getInteger("sympa.smime.heapCostPerByte",
        MemoryBudget.DEFAULT_COST_PER_BYTE);
    MemoryBudget budget = MemoryBudget.forHeap(Runtime.getRuntime().maxMemory(), Math.max(1, cost));
    Server server = new Server(Registry.build(keys, stats), Server.jsonFor(maxLine), maxLine,
        budget, workers, log, stats);
    // Not System.in: its reads hold a lock that the idle exit's check of the pipe would wait on.
    server.serve(new FileInputStream(FileDescriptor.in), protocolOut, idleExit());
    return 0;
  }

  /**
   * {@code -Dsympa.smime.idleExitSeconds=N}, which the Perl client passes from its
   * {@code idle_timeout} setting: exit after N seconds without a request (0 or unset: never).
   */
  private static IdleExit idleExit() {
    long seconds = Long.getLong("sympa.smime.idleExitSeconds", 0);
    if (seconds <= 0) {
      return IdleExit.NEVER;
    }
    // For tests only: a pause between deciding to exit and exiting, to race a request with it.
    long graceMillis = Math.max(0, Long.getLong("sympa.smime.idleExitGraceMillis", 0));
    return IdleExit.after(Duration.ofSeconds(seconds), Duration.ofMillis(graceMillis),
        () -> System.exit(0));
  }
}
