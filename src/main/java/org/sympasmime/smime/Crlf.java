package org.sympasmime.smime;

/** Line-end canonicalization for what we sign or encrypt. */
public final class Crlf {
  private Crlf() {}

  /**
   * Turns every bare LF into CRLF. An existing CRLF is kept, and so is a lone CR: unlike
   * Crypt::SMIME, we do not invent line breaks inside content.
   */
  public static byte[] fromLf(byte[] in) {
    int bare = 0;
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) {
        bare++;
      }
    }
    if (bare == 0) {
      return in;
    }
    byte[] out = new byte[in.length + bare];
    int o = 0;
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) {
        out[o++] = '\r';
      }
      out[o++] = in[i];
    }
    return out;
  }
}
