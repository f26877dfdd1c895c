package org.sympasmime.mime;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/**
 * The header of a MIME entity, read from its raw bytes without building a MIME tree, so that the
 * body can be handed on byte for byte. As lenient as OpenSSL's {@code mime_parse_hdr}, which
 * decided what Crypt::SMIME accepted: LF, CRLF or a mix, folded fields, names in any case,
 * lines without a colon skipped.
 *
 * <p>Bytes are read as ISO-8859-1, which maps every byte to one char: nothing is lost, and the
 * ASCII parts that matter (field names, media types, parameters) compare as text.
 *
 * @param fields every field in order, values unfolded and trimmed
 * @param bodyOffset the index of the first byte after the empty line; the input length when
 *     there is no empty line (then everything is header, as for OpenSSL)
 */
public record MimeHeader(List<Field> fields, int bodyOffset) {

  /** One header field: its name as written and its unfolded value, trimmed. */
  public record Field(String name, String value) {}

  /** A parsed {@code Content-Type}: lower-case type and subtype, parameters by lower-case name. */
  public record MediaType(String type, String subtype, Map<String, String> parameters) {
    public MediaType {
      parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    /** {@code type/subtype}, lower case. */
    public String mimeType() {
      return type + "/" + subtype;
    }

    /** The first parameter of that name, any case. */
    public Optional<String> parameter(String name) {
      return Optional.ofNullable(parameters.get(name.toLowerCase(Locale.ROOT)));
    }
  }

  public MimeHeader {
    fields = List.copyOf(fields);
  }

  public static MimeHeader parse(byte[] bytes) {
    List<String> names = new ArrayList<>();
    // Builders, not string concatenation: a header of a million continuation lines must not
    // cost a million copies of itself.
    List<StringBuilder> values = new ArrayList<>();
    int pos = 0;
    while (pos < bytes.length) {
      Line raw = Line.at(bytes, pos);
      if (raw.isEmpty()) {
        return build(names, values, raw.next());
      }
      String line = new String(bytes, pos, raw.contentEnd() - pos, StandardCharsets.ISO_8859_1);
      char first = line.charAt(0);
      if ((first == ' ' || first == '\t') && !values.isEmpty()) {
        // A continuation belongs to the last field, even across a skipped line, as in
        // OpenSSL. Unfolding removes the line break only; the leading white space stays.
        values.get(values.size() - 1).append(line);
      } else {
        int colon = line.indexOf(':');
        if (colon > 0) {
          names.add(line.substring(0, colon).strip());
          values.add(new StringBuilder(line.substring(colon + 1)));
        }
      }
      pos = raw.next();
    }
    return build(names, values, bytes.length);
  }

  private static MimeHeader build(List<String> names, List<StringBuilder> values, int bodyOffset) {
    List<Field> fields = new ArrayList<>(names.size());
    for (int i = 0; i < names.size(); i++) {
      fields.add(new Field(names.get(i), values.get(i).toString().strip()));
    }
    return new MimeHeader(fields, bodyOffset);
  }

  /** The value of the first field with this name, any case. */
  public Optional<String> field(String name) {
    for (Field f : fields) {
      if (f.name().equalsIgnoreCase(name)) {
        return Optional.of(f.value());
      }
    }
    return Optional.empty();
  }

  /** The parsed {@code Content-Type}, when the field is present and names a type/subtype. */
  public Optional<MediaType> contentType() {
    return field("Content-Type").flatMap(MimeHeader::parseMediaType);
  }

  /**
   * The value of the only field of this name, any case; refused when there are two, because
   * MIME parsers disagree on which one counts.
   */
  public Optional<String> singleField(String name) throws SmimeException {
    Optional<String> found = Optional.empty();
    for (Field f : fields) {
      if (f.name().equalsIgnoreCase(name)) {
        if (found.isPresent()) {
          throw ambiguous("two " + name + " fields");
        }
        found = Optional.of(f.value());
      }
    }
    return found;
  }

  /**
   * The {@code Content-Type} of an entity whose signature we vouch for, read only when every
   * MIME parser reads it as we do. The signature covers the bytes we split at the boundary,
   * while Sympa acts on what MIME-tools ({@code MIME::Field::ParamVal}) splits them into: a
   * header the two read differently lets a valid signature authorize text it never covered.
   * MIME-tools lets the last of two equal parameters win (we take the first), decodes RFC 2231
   * {@code name*0=} continuations (we do not), ends an unquoted value at the first tspecial (we
   * at the semicolon, as OpenSSL), and stops reading parameters at the first segment that is
   * not {@code name=value}. So the parameters must be RFC 2045 {@code name=token} or
   * {@code name="quoted string"}, each name once in any case and without {@code *}, and
   * comments (which MIME-tools only skips where they hold no semicolon or parenthesis) only
   * after a value or a semicolon. Empty when there is no {@code Content-Type}.
   *
   * @throws SmimeException {@code malformed_input} when the field is there twice or its
   *     parameters could be read another way
   */
  public Optional<MediaType> unambiguousContentType() throws SmimeException {
    Optional<String> value = singleField("Content-Type");
    if (value.isEmpty()) {
      return Optional.empty();
    }
    Optional<MediaType> type = parseMediaType(value.get());
    if (type.isPresent()) {
      new StrictParameters(value.get()).check();
    }
    return type;
  }

  /**
   * {@code type/subtype; name=value; name="quoted value"}. As in OpenSSL, an unquoted value runs
   * to the next semicolon (so an unquoted boundary may hold {@code =} or {@code /}); a quoted
   * one may hold semicolons and backslash escapes (RFC 2045). Comments in parentheses are
   * dropped, parameter names are lower-cased, and the first of two equal names wins. Empty when
   * the value does not start with a type/subtype.
   */
  public static Optional<MediaType> parseMediaType(String value) {
    List<String> segments = segments(value);
    String media = segments.get(0);
    int slash = media.indexOf('/');
    if (slash < 0) {
      return Optional.empty();
    }
    String type = media.substring(0, slash).strip().toLowerCase(Locale.ROOT);
    String subtype = media.substring(slash + 1).strip().toLowerCase(Locale.ROOT);
    if (!isToken(type) || !isToken(subtype)) {
      return Optional.empty();
    }
    Map<String, String> params = new LinkedHashMap<>();
    for (String s : segments.subList(1, segments.size())) {
      int eq = s.indexOf('=');
      String name = eq < 0 ? "" : s.substring(0, eq).strip().toLowerCase(Locale.ROOT);
      if (isToken(name)) {
        params.putIfAbsent(name, unquote(s.substring(eq + 1).strip()));
      }
    }
    return Optional.of(new MediaType(type, subtype, params));
  }

  /** Splits at semicolons outside quoted strings, dropping comments; segments are trimmed. */
  private static List<String> segments(String value) {
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
        if (c == '\\') {
          i++;
        } else if (c == '(') {
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
        segments.add(current.toString().strip());
        current.setLength(0);
      } else {
        current.append(c);
      }
    }
    segments.add(current.toString().strip());
    return segments;
  }

  /** A quoted string without its quotes and escapes; anything else as it is. */
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

  /** RFC 2045 token: printable ASCII without spaces and tspecials. */
  private static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (!isTokenChar(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isTokenChar(char c) {
    return c > ' ' && c < 127 && "()<>@,;:\\\"/[]?=".indexOf(c) < 0;
  }

  private static SmimeException ambiguous(String what) {
    return new SmimeException(Reason.MALFORMED_INPUT,
        what + ": MIME parsers disagree on how to read it");
  }

  /**
   * One pass over a {@code Content-Type} value in the strict grammar of
   * {@link #unambiguousContentType}: {@code type/subtype *(";" [name "=" value])}, white space
   * around the separators, comments only after a value or a semicolon.
   */
  private static final class StrictParameters {
    private final String value;
    private final List<String> names = new ArrayList<>();
    private int pos;

    StrictParameters(String value) {
      this.value = value;
    }

    void check() throws SmimeException {
      space(false);
      token("the media type");
      expect('/');
      token("the media subtype");
      if (pos < value.length() && value.charAt(pos) == '(') {
        // MIME-tools reads a comment glued to the subtype as part of the type.
        throw ambiguous("Content-Type with a comment right after its media type");
      }
      space(true);
      while (pos < value.length()) {
        expect(';');
        space(true);
        if (pos == value.length() || value.charAt(pos) == ';') {
          continue;
        }
        String name = token("a parameter name");
        space(false);
        expect('=');
        space(false);
        if (pos < value.length() && value.charAt(pos) == '"') {
          quoted(name);
        } else {
          token("the unquoted value of " + name);
        }
        space(true);
        if (pos < value.length() && value.charAt(pos) != ';') {
          throw ambiguous("Content-Type parameter " + name + " whose value goes on with "
              + rest() + " (MIME-tools ends it before)");
        }
        parameter(name);
      }
    }

    private void parameter(String name) throws SmimeException {
      if (name.indexOf('*') >= 0) {
        throw ambiguous("Content-Type parameter " + name + " in RFC 2231 form");
      }
      for (String seen : names) {
        if (seen.equalsIgnoreCase(name)) {
          throw ambiguous("Content-Type parameter " + name.toLowerCase(Locale.ROOT)
              + " given twice (" + seen + ", " + name + ")");
        }
      }
      names.add(name);
    }

    /** White space, and comments when {@code comments}. */
    private void space(boolean comments) throws SmimeException {
      while (pos < value.length()) {
        char c = value.charAt(pos);
        if (c == ' ' || c == '\t') {
          pos++;
        } else if (c == '(' && comments) {
          comment();
        } else {
          return;
        }
      }
    }

    private void comment() throws SmimeException {
      int close = value.indexOf(')', pos);
      String text = close < 0 ? value.substring(pos) : value.substring(pos + 1, close);
      if (close < 0 || text.chars().anyMatch(c -> c == '(' || c == ';' || c == '\\')) {
        throw ambiguous("Content-Type with the comment " + rest());
      }
      pos = close + 1;
    }

    private String token(String what) throws SmimeException {
      int start = pos;
      while (pos < value.length() && isTokenChar(value.charAt(pos))) {
        pos++;
      }
      if (pos == start) {
        throw ambiguous("Content-Type where " + what + " should be, at: " + rest());
      }
      return value.substring(start, pos);
    }

    private void quoted(String name) throws SmimeException {
      int start = pos++;
      while (pos < value.length()) {
        char c = value.charAt(pos++);
        if (c == '"') {
          return;
        }
        if (c == '\\' && pos < value.length()) {
          c = value.charAt(pos++);
        }
        if (c < ' ' && c != '\t' || c == 127) {
          break;
        }
      }
      pos = start;
      throw ambiguous("Content-Type parameter " + name + " with the quoted value " + rest());
    }

    /** What is left from here, short enough for a log line. */
    private String rest() {
      String rest = value.substring(Math.min(pos, value.length()));
      return rest.length() <= 40 ? "'" + rest + "'" : "'" + rest.substring(0, 40) + "...'";
    }

    private void expect(char c) throws SmimeException {
      if (pos >= value.length() || value.charAt(pos) != c) {
        throw ambiguous("Content-Type where '" + c + "' should be, at: " + rest());
      }
      pos++;
    }
  }
}
