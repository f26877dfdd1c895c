package org.sympasmime.mime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class LineEndsTest {
  @Test
  void loneCrAndCrlfAreKeptBareLfBecomesCrlf() {
    byte[] in = {'a', '\n', 'b', '\r', '\n', 'c', '\r', 'd', '\n', '\n', 0, '\r'};
    byte[] out = {'a', '\r', '\n', 'b', '\r', '\n', 'c', '\r', 'd', '\r', '\n', '\r', '\n', 0,
        '\r'};
    assertArrayEquals(out, LineEnds.bareLfToCrlf(in));
    assertArrayEquals(new byte[] {'\r', '\n'}, LineEnds.bareLfToCrlf(new byte[] {'\n'}));
  }

  @Test
  void inputWithoutBareLfIsReturnedAsItIs() {
    byte[] in = {'a', '\r', '\n', '\r', 'b'};
    assertSame(in, LineEnds.bareLfToCrlf(in));
  }
}
