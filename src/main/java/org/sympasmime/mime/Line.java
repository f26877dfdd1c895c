package org.sympasmime.mime;

/**
 * One line of raw bytes, found without decoding them. Its line break is the LF and every CR
 * before it, as in OpenSSL's {@code strip_eol}: the content of {@code a\r\r\n} is {@code a}.
 *
 * @param start the first byte of the line
 * @param contentEnd the end of the content: before the CRs that precede the LF
 * @param end the index of the LF, or the input length for a last line without one
 * @param next where the next line starts
 */
public record Line(int start, int contentEnd, int end, int next) {

  /** The line that starts at {@code pos}, which must be inside {@code bytes}. */
  public static Line at(byte[] bytes, int pos) {
    int end = pos;
    while (end < bytes.length && bytes[end] != '\n') {
      end++;
    }
    int contentEnd = end;
    while (contentEnd > pos && bytes[contentEnd - 1] == '\r') {
      contentEnd--;
    }
    return new Line(pos, contentEnd, end, end < bytes.length ? end + 1 : end);
  }

  /** True when nothing but a line break is on the line. */
  public boolean isEmpty() {
    return contentEnd == start;
  }

  /** False only for a last line that the input ends without an LF. */
  public boolean endsWithLf() {
    return next > end;
  }

  /** Whether the bytes of the line, up to its LF, start with {@code prefix}. */
  public boolean startsWith(byte[] bytes, byte[] prefix) {
    if (end - start < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (bytes[start + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
