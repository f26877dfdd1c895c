package org.sympasmime.rpc;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Splits a byte stream into LF-terminated lines without ever holding more than {@code maxBytes}
 * of one line. A longer line is consumed to its end and reported as {@link Line#tooLong()}, so a
 * runaway client cannot exhaust memory and the stream stays in sync.
 */
final class LineReader {
  private final InputStream in;
  private final int maxBytes;
  private final byte[] buffer = new byte[64 * 1024];
  private int pos;
  private int limit;

  LineReader(InputStream in, int maxBytes) {
    this.in = in;
    this.maxBytes = maxBytes;
  }

  /** One line without its terminator, or the marker of a line that was too long. */
  record Line(byte[] bytes, boolean tooLong) {}

  /** Returns the next line, or null at end of stream. A final unterminated line is returned. */
  Line next() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    boolean overflow = false;
    boolean sawAny = false;
    while (true) {
      if (pos == limit) {
        limit = in.read(buffer);
        pos = 0;
        if (limit <= 0) {
          limit = 0;
          if (!sawAny) {
            return null;
          }
          return overflow ? new Line(new byte[0], true) : new Line(line.toByteArray(), false);
        }
      }
      sawAny = true;
      int start = pos;
      while (pos < limit && buffer[pos] != '\n') {
        pos++;
      }
      int len = pos - start;
      if (!overflow) {
        if (line.size() + len > maxBytes) {
          overflow = true;
          line = new ByteArrayOutputStream();
        } else {
          line.write(buffer, start, len);
        }
      }
      if (pos < limit) {
        pos++; // the LF
        return overflow ? new Line(new byte[0], true) : new Line(line.toByteArray(), false);
      }
    }
  }
}
