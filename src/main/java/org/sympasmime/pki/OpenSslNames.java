package org.sympasmime.pki;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Time;

/**
 * Names, distinguished names and times printed exactly as OpenSSL prints them, because Sympa
 * shows and stores the strings that Crypt::OpenSSL::X509 produced: {@code X509_NAME_print_ex}
 * with {@code XN_FLAG_SEP_CPLUS_SPC | ASN1_STRFLGS_UTF8_CONVERT}, and {@code ASN1_TIME_print}.
 */
public final class OpenSslNames {
  private static final String TABLE = "openssl-objects.tsv";
  private static final String[] MONTHS = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
  };

  private record Names(String shortName, String longName) {}

  private static final Map<String, Names> OBJECTS = load();

  private OpenSslNames() {}

  /** OpenSSL's short name for an OID (its long name when it has none), if OpenSSL knows it. */
  public static Optional<String> shortName(String oid) {
    return Optional.ofNullable(OBJECTS.get(oid)).map(Names::shortName);
  }

  /** The short name, or the dotted OID as {@code OBJ_obj2txt} prints unknown objects. */
  public static String shortNameOrOid(String oid) {
    return shortName(oid).orElse(oid);
  }

  /**
   * A name as {@code X509_NAME_print_ex(XN_FLAG_SEP_CPLUS_SPC | ASN1_STRFLGS_UTF8_CONVERT)}
   * writes it: entries in encoding order, {@code ", "} between RDNs, {@code " + "} inside one,
   * short names, no escaping. The result is the UTF-8 text OpenSSL emits.
   */
  public static String formatName(X500Name name) {
    StringBuilder out = new StringBuilder();
    boolean firstRdn = true;
    for (RDN rdn : name.getRDNs()) {
      boolean firstInRdn = true;
      for (AttributeTypeAndValue atv : rdn.getTypesAndValues()) {
        if (!firstInRdn) {
          out.append(" + ");
        } else if (!firstRdn) {
          out.append(", ");
        }
        firstInRdn = false;
        out.append(shortNameOrOid(atv.getType().getId())).append('=');
        out.append(printValue(atv.getValue()));
      }
      firstRdn = false;
    }
    return out.toString();
  }

  public static String formatName(javax.security.auth.x500.X500Principal principal) {
    return formatName(X500Name.getInstance(principal.getEncoded()));
  }

  /**
   * {@code do_print_ex} without escaping: UTF8String bytes go out as they are; BMPString and
   * UniversalString are converted to UTF-8; every other string type is read one byte per
   * character (Latin-1) and converted to UTF-8.
   */
  static String printValue(ASN1Encodable value) {
    byte[] der;
    try {
      der = value.toASN1Primitive().getEncoded();
    } catch (IOException e) {
      return "";
    }
    int tag = der[0] & 0x1f;
    byte[] content = contentOctets(der);
    StringBuilder out = new StringBuilder();
    switch (tag) {
      case 12 -> {
        return new String(content, StandardCharsets.UTF_8);
      }
      case 30 -> {
        for (int i = 0; i + 1 < content.length; i += 2) {
          out.appendCodePoint(((content[i] & 0xff) << 8) | (content[i + 1] & 0xff));
        }
      }
      case 28 -> {
        for (int i = 0; i + 3 < content.length; i += 4) {
          int c = ((content[i] & 0xff) << 24) | ((content[i + 1] & 0xff) << 16)
              | ((content[i + 2] & 0xff) << 8) | (content[i + 3] & 0xff);
          if (Character.isValidCodePoint(c)) {
            out.appendCodePoint(c);
          }
        }
      }
      default -> {
        for (byte b : content) {
          out.append((char) (b & 0xff));
        }
      }
    }
    return out.toString();
  }

  /** The content octets of a DER TLV (definite length; our input is re-encoded DER). */
  private static byte[] contentOctets(byte[] der) {
    int pos = 1;
    int len = der[pos++] & 0xff;
    if (len > 0x7f) {
      int n = len & 0x7f;
      len = 0;
      for (int i = 0; i < n; i++) {
        len = (len << 8) | (der[pos++] & 0xff);
      }
    }
    byte[] out = new byte[Math.min(len, der.length - pos)];
    System.arraycopy(der, pos, out, 0, out.length);
    return out;
  }

  /**
   * {@code ASN1_TIME_print}: {@code Mon DD HH:MM:SS YYYY GMT}, the day padded with a space,
   * a fraction of a second kept as written in a GeneralizedTime.
   */
  public static String formatTime(Time time) {
    String raw;
    try {
      raw = new String(contentOctets(time.toASN1Primitive().getEncoded()),
          StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      raw = "";
    }
    ZonedDateTime t = time.getDate().toInstant().atZone(ZoneOffset.UTC);
    String fraction = "";
    if (time.toASN1Primitive() instanceof ASN1GeneralizedTime
        && raw.length() > 15 && raw.charAt(14) == '.') {
      int end = 15;
      while (end < raw.length() && Character.isDigit(raw.charAt(end))) {
        end++;
      }
      fraction = raw.substring(14, end);
    }
    boolean gmt = raw.endsWith("Z");
    return String.format(Locale.ROOT, "%s %2d %02d:%02d:%02d%s %d%s",
        MONTHS[t.getMonthValue() - 1], t.getDayOfMonth(), t.getHour(), t.getMinute(),
        t.getSecond(), fraction, t.getYear(), gmt ? " GMT" : "");
  }

  private static Map<String, Names> load() {
    Map<String, Names> map = new HashMap<>();
    try (InputStream in = OpenSslNames.class.getResourceAsStream(TABLE)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + TABLE);
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.startsWith("#") || line.isBlank()) {
          continue;
        }
        String[] f = line.split("\t");
        map.putIfAbsent(f[0], new Names(f[1], f[2]));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Map.copyOf(map);
  }
}
