package org.sympasmime.pki;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/**
 * Reads the first certificate of a text the way {@code PEM_read_bio_X509} does, as
 * Crypt::OpenSSL::X509's {@code new_from_string}/{@code new_from_file} do: the first
 * {@code CERTIFICATE} (or legacy {@code X509 CERTIFICATE}) block, any text around it
 * ignored; no DER, no {@code TRUSTED CERTIFICATE}.
 */
public final class X509Reader {
  private X509Reader() {}

  /** The first certificate of a file, which must be readable ({@code file_unreadable}). */
  public static X509Certificate first(Path path) throws SmimeException {
    return first(KeyMaterial.read(path));
  }

  public static X509Certificate first(byte[] bytes) throws SmimeException {
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    String[] lines = text.split("\r?\n|\r", -1);
    for (int i = 0; i < lines.length; i++) {
      String label = beginLabel(lines[i]);
      if (label == null) {
        continue;
      }
      if (!label.equals("CERTIFICATE") && !label.equals("X509 CERTIFICATE")) {
        continue;
      }
      StringBuilder b64 = new StringBuilder();
      for (int j = i + 1; j < lines.length; j++) {
        String line = lines[j].strip();
        if (line.equals("-----END " + label + "-----")) {
          return decode(b64.toString());
        }
        if (line.contains(":")) {
          continue; // RFC 1421 header line such as Proc-Type
        }
        b64.append(line);
      }
      break;
    }
    throw new SmimeException(Reason.BAD_CERTIFICATE, "no PEM CERTIFICATE block found");
  }

  private static String beginLabel(String line) {
    String s = line.stripTrailing();
    if (s.startsWith("-----BEGIN ") && s.endsWith("-----") && s.length() > 16) {
      return s.substring(11, s.length() - 5);
    }
    return null;
  }

  private static X509Certificate decode(String b64) throws SmimeException {
    byte[] der;
    try {
      der = Base64.getDecoder().decode(b64);
    } catch (IllegalArgumentException e) {
      throw new SmimeException(Reason.BAD_CERTIFICATE, "the CERTIFICATE block is not base64");
    }
    List<X509Certificate> certs;
    try {
      certs = Pem.certificates(der);
    } catch (SmimeException e) {
      throw new SmimeException(Reason.BAD_CERTIFICATE, "the CERTIFICATE block does not decode");
    }
    if (certs.isEmpty()) {
      throw new SmimeException(Reason.BAD_CERTIFICATE, "the CERTIFICATE block does not decode");
    }
    return certs.get(0);
  }
}
