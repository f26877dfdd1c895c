package org.sympasmime.smime;

import java.util.Arrays;
import java.util.Base64;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/** Base64 as S/MIME bodies carry it: 64-column lines on the way out, strict on the way in. */
public final class MimeBase64 {
  private static final byte[] CRLF = {'\r', '\n'};

  private MimeBase64() {}

  /**
   * Decodes {@code bytes[offset..]}. Line breaks and blanks are skipped; any other character
   * outside the base64 alphabet, or data after the padding, is an error: a body that is not
   * clean base64 is not what the sender encrypted. Missing final padding is tolerated.
   */
  public static byte[] decode(byte[] bytes, int offset) throws SmimeException {
    byte[] compact = new byte[bytes.length - offset];
    int n = 0;
    for (int i = offset; i < bytes.length; i++) {
      byte b = bytes[i];
      if (b != '\r' && b != '\n' && b != ' ' && b != '\t') {
        compact[n++] = b;
      }
    }
    if (n == 0) {
      throw new SmimeException(Reason.MALFORMED_INPUT, "the body is empty");
    }
    try {
      return Base64.getDecoder().decode(n == compact.length ? compact : Arrays.copyOf(compact, n));
    } catch (IllegalArgumentException e) {
      throw new SmimeException(Reason.MALFORMED_INPUT, "the body is not valid base64");
    }
  }

  /** Base64 in lines of 64 characters, each ended by CRLF, as OpenSSL writes S/MIME bodies. */
  public static byte[] encodeLines(byte[] data) {
    byte[] b64 = Base64.getEncoder().encode(data);
    int lines = (b64.length + 63) / 64;
    byte[] out = new byte[b64.length + lines * 2];
    int o = 0;
    for (int i = 0; i < b64.length; i += 64) {
      int len = Math.min(64, b64.length - i);
      System.arraycopy(b64, i, out, o, len);
      o += len;
      out[o++] = CRLF[0];
      out[o++] = CRLF[1];
    }
    return out;
  }
}
