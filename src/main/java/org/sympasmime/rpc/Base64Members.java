package org.sympasmime.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BinaryNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The large base64 members of a request line (names ending in {@code _b64}), decoded straight
 * from the line's bytes. Read by Jackson, a 3.7 MB member became a String, then bytes again for
 * the decoder: about 6 ms of a 2 MB decryption. Here each is cut out of the line before Jackson
 * reads it, a token of this process standing in its place, and put back into the tree already
 * decoded, as a binary node ({@code Params.requireBytes} reads both kinds).
 *
 * <p>In JSON text a quote always opens or closes a string, so {@code _b64":"} is a name ending in
 * {@code _b64} followed by its string value. A value that the JDK's base64 decoder refuses (an
 * escape, a line break, bad padding) is left in the line, to be read and refused as before.
 */
final class Base64Members {
  /** Shorter values are not worth the detour. */
  static final int MIN_LENGTH = 1024;

  private static final byte[] MARK = "_b64\":\"".getBytes(StandardCharsets.US_ASCII);

  /**
   * Unique to this process, so that no value a client writes by chance passes for one. Not a
   * secret: the client is the one writing the line either way. Not from SecureRandom, whose
   * first use costs about 20 ms of a cold start.
   */
  private static final String TOKEN_PREFIX = "sympa-smime-b64:"
      + Long.toHexString(ProcessHandle.current().pid()) + "."
      + Long.toHexString(System.nanoTime()) + ":";

  /** The line with tokens in place of the large members, and their bytes by token. */
  record Split(byte[] line, Map<String, byte[]> decoded) {}

  private Base64Members() {}

  static Split split(byte[] line) {
    Map<String, byte[]> decoded = new HashMap<>();
    ByteArrayOutputStream rest = null;
    int copied = 0;
    int from = 0;
    for (int at = indexOf(line, from); at >= 0; at = indexOf(line, from)) {
      int start = at + MARK.length;
      int end = start;
      while (end < line.length && line[end] != '"') {
        end++;
      }
      if (end == line.length) {
        break;
      }
      from = end + 1;
      if (end - start < MIN_LENGTH) {
        continue;
      }
      ByteBuffer bytes;
      try {
        bytes = Base64.getDecoder().decode(ByteBuffer.wrap(line, start, end - start));
      } catch (IllegalArgumentException e) {
        continue;
      }
      String token = TOKEN_PREFIX + decoded.size();
      decoded.put(token, toArray(bytes));
      if (rest == null) {
        rest = new ByteArrayOutputStream();
      }
      rest.write(line, copied, start - copied);
      rest.writeBytes(token.getBytes(StandardCharsets.US_ASCII));
      copied = end;
    }
    if (rest == null) {
      return new Split(line, Map.of());
    }
    rest.write(line, copied, line.length - copied);
    return new Split(rest.toByteArray(), decoded);
  }

  /** Replaces, anywhere in {@code node}, each text that is a token by a binary node of it. */
  static void restore(JsonNode node, Map<String, byte[]> decoded) {
    if (decoded.isEmpty()) {
      return;
    }
    if (node instanceof ObjectNode object) {
      Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        JsonNode value = field.getValue();
        if (value.isTextual() && decoded.containsKey(value.textValue())) {
          field.setValue(BinaryNode.valueOf(decoded.get(value.textValue())));
        } else {
          restore(value, decoded);
        }
      }
    } else if (node instanceof ArrayNode array) {
      for (int i = 0; i < array.size(); i++) {
        JsonNode value = array.get(i);
        if (value.isTextual() && decoded.containsKey(value.textValue())) {
          array.set(i, BinaryNode.valueOf(decoded.get(value.textValue())));
        } else {
          restore(value, decoded);
        }
      }
    }
  }

  private static byte[] toArray(ByteBuffer buffer) {
    if (buffer.hasArray() && buffer.arrayOffset() == 0 && buffer.position() == 0
        && buffer.remaining() == buffer.array().length) {
      return buffer.array();
    }
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }

  private static int indexOf(byte[] line, int from) {
    outer:
    for (int i = from; i <= line.length - MARK.length; i++) {
      for (int j = 0; j < MARK.length; j++) {
        if (line[i + j] != MARK[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
