package org.sympasmime.smime;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The top-level header of a message, read from its raw bytes without building a MIME tree, so
 * that the body can be handed on byte for byte. Lenient as mail readers are: LF or CRLF, folded
 * fields, any case in names, lines without a colon skipped.
 *
 * <p>Bytes are read as ISO-8859-1, which maps every byte to one char: nothing is lost, and the
 * ASCII parts that matter (field names, media types, parameters) compare as text.
 */
public final class RawHeader {
  /** One header field: its name as written and its unfolded value, trimmed. */
  public record Field(String name, String value) {}

  /** A parsed {@code Content-Type}: lower-case type and subtype, parameters by lower-case name. */
  public record MediaType(String type, String subtype, Map<String, String> parameters) {
    /** {@code type/subtype}, lower case. */
    public String mimeType() {
      return type + "/" + subtype;
    }

    public Optional<String> parameter(String name) {
      return Optional.ofNullable(parameters.get(name.toLowerCase(Locale.ROOT)));
    }
  }

  private final List<Field> fields;
  private final int bodyOffset;

  private RawHeader(List<Field> fields, int bodyOffset) {
    this.fields = fields;
    this.bodyOffset = bodyOffset;
  }

  /**
   * Reads the header up to the first empty line. Without an empty line the whole input is
   * header and the body is empty, as for Crypt::SMIME.
   */
  public static RawHeader parse(byte[] message) {
    List<Field> fields = new ArrayList<>();
    StringBuilder name = null;
    StringBuilder value = null;
    int pos = 0;
    int n = message.length;
    while (pos < n) {
      int lf = indexOf(message, (byte) '\n', pos);
      int lineEnd = lf < 0 ? n : lf;
      int next = lf < 0 ? n : lf + 1;
      int contentEnd = lineEnd > pos && message[lineEnd - 1] == '\r' ? lineEnd - 1 : lineEnd;
      if (contentEnd == pos) {
        // The empty line: the body starts after it.
        flush(fields, name, value);
        return new RawHeader(Collections.unmodifiableList(fields), next);
      }
      String line = new String(message, pos, contentEnd - pos, StandardCharsets.ISO_8859_1);
      char first = line.charAt(0);
      if (first == ' ' || first == '\t') {
        if (value != null) {
          // Unfolding removes the line break only; the leading white space stays.
          value.append(line);
        }
      } else {
        flush(fields, name, value);
        name = null;
        value = null;
        int colon = line.indexOf(':');
        if (colon > 0) {
          name = new StringBuilder(line.substring(0, colon).trim());
          value = new StringBuilder(line.substring(colon + 1));
        }
      }
      pos = next;
    }
    flush(fields, name, value);
    return new RawHeader(Collections.unmodifiableList(fields), n);
  }

  /** Every field in order. */
  public List<Field> fields() {
    return fields;
  }

  /** Offset of the first body byte (the input length when there is no body). */
  public int bodyOffset() {
    return bodyOffset;
  }

  /** The value of the first field with this name, any case. */
  public Optional<String> field(String fieldName) {
    for (Field f : fields) {
      if (f.name().equalsIgnoreCase(fieldName)) {
        return Optional.of(f.value());
      }
    }
    return Optional.empty();
  }

  /** The parsed {@code Content-Type}, when the field is present and has a type/subtype. */
  public Optional<MediaType> contentType() {
    return field("Content-Type").flatMap(RawHeader::parseMediaType);
  }

  /**
   * Parses a Content-Type value: {@code type/subtype *(; name=value)}, values as tokens or
   * quoted strings, RFC 822 comments skipped. Returns empty when no type/subtype is found.
   */
  public static Optional<MediaType> parseMediaType(String text) {
    Tokenizer t = new Tokenizer(text);
    String type = t.token();
    if (type.isEmpty() || !t.consume('/')) {
      return Optional.empty();
    }
    String subtype = t.token();
    if (subtype.isEmpty()) {
      return Optional.empty();
    }
    Map<String, String> params = new LinkedHashMap<>();
    while (t.skipTo(';')) {
      String name = t.token().toLowerCase(Locale.ROOT);
      if (name.isEmpty() || !t.consume('=')) {
        continue;
      }
      String value = t.value();
      params.putIfAbsent(name, value);
    }
    return Optional.of(new MediaType(type.toLowerCase(Locale.ROOT),
        subtype.toLowerCase(Locale.ROOT), Collections.unmodifiableMap(params)));
  }

  private static void flush(List<Field> fields, StringBuilder name, StringBuilder value) {
    if (name != null) {
      fields.add(new Field(name.toString(), value.toString().trim()));
    }
  }

  private static int indexOf(byte[] bytes, byte b, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }

  /** RFC 2045 lexical rules, just enough for a Content-Type value. */
  private static final class Tokenizer {
    private static final String TSPECIALS = "()<>@,;:\\\"/[]?=";
    private final String s;
    private int i;

    Tokenizer(String s) {
      this.s = s;
    }

    /** Skips white space and comments. */
    private void skipBlank() {
      while (i < s.length()) {
        char c = s.charAt(i);
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
          i++;
        } else if (c == '(') {
          int depth = 0;
          while (i < s.length()) {
            char d = s.charAt(i++);
            if (d == '\\') {
              i++;
            } else if (d == '(') {
              depth++;
            } else if (d == ')' && --depth == 0) {
              break;
            }
          }
        } else {
          return;
        }
      }
    }

    String token() {
      skipBlank();
      int start = i;
      while (i < s.length()) {
        char c = s.charAt(i);
        if (c <= ' ' || c >= 127 || TSPECIALS.indexOf(c) >= 0) {
          break;
        }
        i++;
      }
      return s.substring(start, i);
    }

    boolean consume(char c) {
      skipBlank();
      if (i < s.length() && s.charAt(i) == c) {
        i++;
        return true;
      }
      return false;
    }

    /** Moves past the next {@code c} outside quoted strings; false at the end. */
    boolean skipTo(char c) {
      boolean quoted = false;
      while (i < s.length()) {
        char d = s.charAt(i++);
        if (quoted) {
          if (d == '\\') {
            i++;
          } else if (d == '"') {
            quoted = false;
          }
        } else if (d == '"') {
          quoted = true;
        } else if (d == c) {
          return true;
        }
      }
      return false;
    }

    /** A parameter value: a quoted string (unescaped) or a token. */
    String value() {
      skipBlank();
      if (i < s.length() && s.charAt(i) == '"') {
        StringBuilder out = new StringBuilder();
        i++;
        while (i < s.length()) {
          char c = s.charAt(i++);
          if (c == '\\' && i < s.length()) {
            out.append(s.charAt(i++));
          } else if (c == '"') {
            break;
          } else {
            out.append(c);
          }
        }
        return out.toString();
      }
      return token();
    }
  }
}
