package org.sympasmime.testutil;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/**
 * The throwaway PKI and messages of {@code testpki.sh}, made once per test JVM with the openssl
 * CLI in a temporary directory that is removed at exit.
 */
public final class SignedMailPki {
  private static Path dir;

  private SignedMailPki() {}

  public static synchronized Path dir() {
    if (dir == null) {
      try {
        Path d = TempDirs.deletedAtExit("sympa-smime-pki");
        Path script = d.resolve("testpki.sh");
        try (InputStream in = SignedMailPki.class.getResourceAsStream("/org/sympasmime/testpki.sh")) {
          Files.copy(in, script);
        }
        Process p = new ProcessBuilder("bash", script.toString(), d.toString())
            .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0 || !Files.exists(d.resolve("done"))) {
          String log = Files.exists(d.resolve("openssl.log"))
              ? Files.readString(d.resolve("openssl.log"), StandardCharsets.ISO_8859_1) : "";
          throw new IllegalStateException("testpki.sh failed: " + out + log);
        }
        dir = d;
      } catch (IOException e) {
        throw new IllegalStateException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    return dir;
  }

  public static Path path(String name) {
    return dir().resolve(name);
  }

  public static byte[] bytes(String name) {
    try {
      return Files.readAllBytes(path(name));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String text(String name) {
    return new String(bytes(name), StandardCharsets.ISO_8859_1);
  }

  /** A DER CMS object as an {@code application/pkcs7-mime} message. */
  public static byte[] opaque(byte[] der) {
    String head = "MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime;"
        + " smime-type=signed-data; name=\"smime.p7m\"\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    return (head + base64Lines(der)).getBytes(StandardCharsets.ISO_8859_1);
  }

  /** A detached DER signature and its content as a {@code multipart/signed} message. */
  public static byte[] multipartSigned(byte[] content, byte[] der) {
    String b = "----TESTBOUNDARY0123";
    StringBuilder s = new StringBuilder();
    s.append("MIME-Version: 1.0\r\nContent-Type: multipart/signed;"
        + " protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"")
        .append(b).append("\"\r\n\r\nThis is an S/MIME signed message\r\n\r\n--").append(b)
        .append("\r\n").append(new String(content, StandardCharsets.ISO_8859_1))
        .append("\r\n--").append(b).append("\r\nContent-Type: application/pkcs7-signature;"
            + " name=\"smime.p7s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
        .append(base64Lines(der)).append("\r\n--").append(b).append("--\r\n");
    return s.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private static String base64Lines(byte[] der) {
    return Base64.getMimeEncoder(64, "\r\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der) + "\r\n";
  }
}
