package org.sympasmime.mime;

/**
 * Line-end canonicalization of what we sign or encrypt.
 *
 * <p>Verification canonicalizes differently, on purpose: it must reproduce the bytes other
 * signers hashed, so {@code smime.SignedEntity} follows OpenSSL's {@code multi_split} and
 * {@code strip_eol} (every CR before an LF goes with it, a lone CR inside a line stays). For our
 * own output there is no other signer to agree with, and we change as little as the MIME line
 * rule requires.
 */
public final class LineEnds {
  private LineEnds() {}

  /**
   * Turns every bare LF into CRLF. An existing CRLF is kept, and so is a lone CR: unlike
   * Crypt::SMIME, we do not invent line breaks inside content. Returns {@code in} itself when
   * there is nothing to change.
   */
  public static byte[] bareLfToCrlf(byte[] in) {
    int bare = 0;
    for (int i = 0; i < in.length; i++) {
      if (isBareLf(in, i)) {
        bare++;
      }
    }
    if (bare == 0) {
      return in;
    }
    byte[] out = new byte[in.length + bare];
    int o = 0;
    for (int i = 0; i < in.length; i++) {
      if (isBareLf(in, i)) {
        out[o++] = '\r';
      }
      out[o++] = in[i];
    }
    return out;
  }

  private static boolean isBareLf(byte[] in, int i) {
    return in[i] == '\n' && (i == 0 || in[i - 1] != '\r');
  }
}
