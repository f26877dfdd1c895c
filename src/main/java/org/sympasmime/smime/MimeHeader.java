package org.sympasmime.smime;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The header of a MIME entity as received, parsed as leniently as OpenSSL's
 * {@code mime_parse_hdr}: LF or CRLF (or a mix), folded fields, field names in any case.
 * Parsing never changes the bytes; it only finds where the body starts.
 *
 * @param bodyOffset the index in the input of the first byte after the empty line (the end of
 *     the input when there is no empty line)
 */
record MimeHeader(List<Field> fields, int bodyOffset) {

  record Field(String name, String value) {}

  /** A parsed Content-Type: lower-case media type, parameters by lower-case name. */
  record ContentType(String mediaType, Map<String, String> parameters) {
    Optional<String> parameter(String name) {
      return Optional.ofNullable(parameters.get(name));
    }
  }

  MimeHeader {
    fields = List.copyOf(fields);
  }

  static MimeHeader parse(byte[] bytes, int start, int end) {
    List<String[]> fields = new ArrayList<>();
    int pos = start;
    while (pos < end) {
      int lf = indexOf(bytes, (byte) '\n', pos, end);
      int lineEnd = lf < 0 ? end : lf;
      int next = lf < 0 ? end : lf + 1;
      int contentEnd = lineEnd;
      while (contentEnd > pos && bytes[contentEnd - 1] == '\r') {
        contentEnd--;
      }
      if (contentEnd == pos) {
        return build(fields, next);
      }
      String line = new String(bytes, pos, contentEnd - pos, StandardCharsets.ISO_8859_1);
      if ((line.charAt(0) == ' ' || line.charAt(0) == '\t') && !fields.isEmpty()) {
        String[] last = fields.get(fields.size() - 1);
        last[1] = last[1] + line;
      } else {
        int colon = line.indexOf(':');
        if (colon > 0) {
          fields.add(new String[] {line.substring(0, colon).strip(), line.substring(colon + 1)});
        }
      }
      pos = next;
    }
    return build(fields, end);
  }

  private static MimeHeader build(List<String[]> raw, int bodyOffset) {
    List<Field> fields = new ArrayList<>();
    for (String[] f : raw) {
      fields.add(new Field(f[0], f[1].strip()));
    }
    return new MimeHeader(fields, bodyOffset);
  }

  Optional<String> first(String name) {
    for (Field f : fields) {
      if (f.name().equalsIgnoreCase(name)) {
        return Optional.of(f.value());
      }
    }
    return Optional.empty();
  }

  Optional<ContentType> contentType() {
    return first("Content-Type").map(MimeHeader::parseContentType);
  }

  /**
   * {@code type/subtype; name=value; name="quoted value"}: values may be quoted or not (an
   * unquoted boundary runs to the next semicolon), comments in parentheses are dropped.
   */
  static ContentType parseContentType(String value) {
    List<String> segments = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    boolean quoted = false;
    int comment = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (quoted) {
        current.append(c);
        if (c == '\\' && i + 1 < value.length()) {
          current.append(value.charAt(++i));
        } else if (c == '"') {
          quoted = false;
        }
      } else if (comment > 0) {
        if (c == '(') {
          comment++;
        } else if (c == ')') {
          comment--;
        }
      } else if (c == '"') {
        quoted = true;
        current.append(c);
      } else if (c == '(') {
        comment++;
      } else if (c == ';') {
        segments.add(current.toString());
        current.setLength(0);
      } else {
        current.append(c);
      }
    }
    segments.add(current.toString());
    String media = segments.get(0).strip().toLowerCase(Locale.ROOT);
    Map<String, String> params = new LinkedHashMap<>();
    for (int i = 1; i < segments.size(); i++) {
      String s = segments.get(i);
      int eq = s.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      String name = s.substring(0, eq).strip().toLowerCase(Locale.ROOT);
      params.putIfAbsent(name, unquote(s.substring(eq + 1).strip()));
    }
    return new ContentType(media, params);
  }

  private static String unquote(String v) {
    if (!v.startsWith("\"")) {
      return v;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 1; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c == '\\' && i + 1 < v.length()) {
        out.append(v.charAt(++i));
      } else if (c == '"') {
        break;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  static int indexOf(byte[] bytes, byte b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }
}
