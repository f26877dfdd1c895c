package org.sympasmime.rpc;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Splits a byte stream into LF-terminated lines, reserving each line's expected cost in the
 * {@link MemoryBudget} before buffering it: while the budget is spent, it stops reading, so the
 * client is held back by the pipe instead of the heap filling up. A line longer than {@code
 * maxBytes}, or whose cost exceeds the whole budget, is consumed to its end and returned as
 * refused, so a runaway client cannot exhaust memory and the stream stays in sync.
 */
final class LineReader {
  /** How much of a refused line is kept: enough to find the {@code id} a client sends first. */
  static final int HEAD_BYTES = 256;

  private final InputStream in;
  private final int maxBytes;
  private final MemoryBudget budget;
  private final byte[] buffer = new byte[64 * 1024];
  private int pos;
  private int limit;

  LineReader(InputStream in, int maxBytes, MemoryBudget budget) {
    this.in = in;
    this.maxBytes = maxBytes;
    this.budget = budget;
  }

  enum Status {
    OK,
    /** Longer than the line limit. */
    TOO_LONG,
    /** Within the line limit, but costlier than the whole memory budget. */
    OVER_BUDGET
  }

  /**
   * One line without its terminator, or for a refused line its first {@link #HEAD_BYTES} bytes;
   * {@code length} is the whole line's; {@code reserved} is what the caller must release once
   * the line and its answer are gone.
   */
  record Line(Status status, byte[] bytes, long length, long reserved) {}

  /** The next line; empty at end of stream. A final unterminated line is returned. */
  Optional<Line> next() throws IOException, InterruptedException {
    // Pieces rather than a growing array: a doubling buffer would briefly hold three times the
    // line, which the budget would have to count.
    List<byte[]> pieces = new ArrayList<>();
    byte[] head = new byte[HEAD_BYTES];
    int headLength = 0;
    long size = 0;
    long reserved = 0;
    Status status = Status.OK;
    boolean sawAny = false;
    while (true) {
      if (pos == limit) {
        limit = in.read(buffer);
        pos = 0;
        if (limit <= 0) {
          limit = 0;
          if (!sawAny) {
            return Optional.empty();
          }
          return Optional.of(finish(status, pieces, size, reserved, head, headLength));
        }
      }
      sawAny = true;
      int start = pos;
      while (pos < limit && buffer[pos] != '\n') {
        pos++;
      }
      int length = pos - start;
      int toHead = Math.min(length, HEAD_BYTES - headLength);
      System.arraycopy(buffer, start, head, headLength, toHead);
      headLength += toHead;
      if (status == Status.OK && length > 0) {
        long cost = budget.costOf(length);
        if (size + length > maxBytes) {
          status = Status.TOO_LONG;
        } else if (reserved + cost > budget.capacity()) {
          status = Status.OVER_BUDGET;
        }
        if (status == Status.OK) {
          budget.reserve(cost);
          reserved += cost;
          pieces.add(Arrays.copyOfRange(buffer, start, pos));
        } else {
          budget.release(reserved);
          reserved = 0;
          pieces.clear();
        }
      }
      size += length;
      if (pos < limit) {
        pos++; // the LF
        return Optional.of(finish(status, pieces, size, reserved, head, headLength));
      }
    }
  }

  private static Line finish(
      Status status, List<byte[]> pieces, long size, long reserved, byte[] head, int headLength) {
    if (status != Status.OK) {
      return new Line(status, Arrays.copyOf(head, headLength), size, 0);
    }
    byte[] line = new byte[Math.toIntExact(size)];
    int at = 0;
    for (byte[] piece : pieces) {
      System.arraycopy(piece, 0, line, at, piece.length);
      at += piece.length;
    }
    return new Line(status, line, size, reserved);
  }
}
