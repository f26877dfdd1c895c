package org.sympasmime.mime;

import java.util.Arrays;
import java.util.Base64;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/**
 * Base64 as S/MIME bodies and PEM carry it: 64-column lines on the way out, line breaks and
 * blanks skipped on the way in.
 */
public final class MimeBase64 {
  private static final int COLUMNS = 64;

  private MimeBase64() {}

  /**
   * Decodes {@code bytes[offset..]}. Line breaks and blanks are skipped, as OpenSSL's decoder
   * skips them; any other character outside the base64 alphabet, or data after the padding, is
   * an error: a body that is not clean base64 is not what the sender wrote. Missing final
   * padding is tolerated.
   *
   * @param what names the input in the error, e.g. {@code body}
   */
  public static byte[] decode(byte[] bytes, int offset, String what) throws SmimeException {
    byte[] compact = new byte[bytes.length - offset];
    int n = 0;
    for (int i = offset; i < bytes.length; i++) {
      byte b = bytes[i];
      if (b != '\r' && b != '\n' && b != ' ' && b != '\t') {
        compact[n++] = b;
      }
    }
    if (n == 0) {
      throw new SmimeException(Reason.MALFORMED_INPUT, "the " + what + " is empty");
    }
    try {
      return Base64.getDecoder().decode(n == compact.length ? compact : Arrays.copyOf(compact, n));
    } catch (IllegalArgumentException e) {
      throw new SmimeException(Reason.MALFORMED_INPUT, "the " + what + " is not valid base64");
    }
  }

  /**
   * Base64 in lines of 64 characters, each ended by {@code lineEnd}: CRLF in S/MIME bodies
   * (as OpenSSL writes them), LF in PEM (as {@code openssl x509} writes it).
   */
  public static String encode(byte[] data, String lineEnd) {
    String b64 = Base64.getEncoder().encodeToString(data);
    int lines = (b64.length() + COLUMNS - 1) / COLUMNS;
    StringBuilder out = new StringBuilder(b64.length() + lines * lineEnd.length());
    for (int i = 0; i < b64.length(); i += COLUMNS) {
      out.append(b64, i, Math.min(b64.length(), i + COLUMNS)).append(lineEnd);
    }
    return out.toString();
  }
}
