package org.sympasmime.rpc;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.time.Duration;

/**
 * Ends a server that has had nothing to do for a while, so that a Sympa process which has not
 * done S/MIME for minutes (a web child between logins) does not keep a JVM resident.
 *
 * <p>Idle means: no byte read from the client for the whole period, every line read answered
 * and written, nothing held in the {@link MemoryBudget}, and nothing waiting in the input
 * pipe. A client may still write a request just as the decision is taken: once it is taken,
 * the reader never hands on another byte, so the request is neither half-served nor answered
 * in part; the process ends with status 0 and the line below on stderr, and the client, seeing
 * its stdout end without an answer, sends the request again to a new sidecar (the Perl client
 * does; see Sidecar.pm).
 */
public final class IdleExit {
  /** Never exits. */
  public static final IdleExit NEVER = new IdleExit(Duration.ZERO, Duration.ZERO, () -> {});

  private final long limitNanos;
  private final long graceMillis;
  private final Runnable exit;

  private long lastActivity;
  private int pending;
  private boolean exiting;

  private IdleExit(Duration limit, Duration grace, Runnable exit) {
    this.limitNanos = limit.toNanos();
    this.graceMillis = grace.toMillis();
    this.exit = exit;
  }

  /**
   * Exits, by running {@code exit}, after {@code limit} without work; {@code grace} is a pause
   * between the decision and {@code exit} (zero but in tests, which widen the race with it).
   */
  public static IdleExit after(Duration limit, Duration grace, Runnable exit) {
    if (limit.isNegative() || limit.isZero() || grace.isNegative()) {
      throw new IllegalArgumentException("the limit must be positive and the grace not negative");
    }
    return new IdleExit(limit, grace, exit);
  }

  boolean enabled() {
    return limitNanos > 0;
  }

  /** The client's input, noting when bytes arrive; blocks them for good once exiting. */
  InputStream watch(InputStream in) {
    if (!enabled()) {
      return in;
    }
    return new FilterInputStream(in) {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        arrived();
        return n;
      }

      @Override
      public int read() throws IOException {
        int n = super.read();
        arrived();
        return n;
      }
    };
  }

  private synchronized void arrived() {
    // The decision is taken: these bytes belong to a request the client will send again.
    while (exiting) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    lastActivity = System.nanoTime();
  }

  /** A line was read: it is pending until its answer is written, or it needs none. */
  synchronized void begin() {
    pending++;
  }

  synchronized void end() {
    pending--;
    lastActivity = System.nanoTime();
    notifyAll();
  }

  /** Starts the watching thread; {@code in} is asked whether bytes wait in the pipe. */
  void start(InputStream in, MemoryBudget budget, PrintStream log) {
    if (!enabled()) {
      return;
    }
    synchronized (this) {
      lastActivity = System.nanoTime();
    }
    Thread watcher = new Thread(() -> watch(in, budget, log), "rpc-idle");
    watcher.setDaemon(true);
    watcher.start();
  }

  private void watch(InputStream in, MemoryBudget budget, PrintStream log) {
    try {
      synchronized (this) {
        while (true) {
          long idleFor = System.nanoTime() - lastActivity;
          if (pending == 0 && idleFor >= limitNanos && budget.inFlight() == 0
              && nothingWaiting(in)) {
            exiting = true;
            break;
          }
          long left = pending > 0 ? limitNanos : limitNanos - idleFor;
          wait(Math.max(1, left / 1_000_000));
        }
      }
      log.println("sympa-smime: info idle exit: no request for "
          + Duration.ofNanos(limitNanos).toSeconds() + " s; exiting");
      if (graceMillis > 0) {
        Thread.sleep(graceMillis);
      }
      exit.run();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static boolean nothingWaiting(InputStream in) {
    try {
      return in.available() == 0;
    } catch (IOException e) {
      // Not knowing, go on with the other conditions: the client resends a request lost here.
      return true;
    }
  }
}
