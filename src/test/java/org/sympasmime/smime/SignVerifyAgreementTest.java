package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.testutil.Openssl;

/**
 * Sign and verify apply one usage rule and one algorithm policy: for every signer certificate
 * shape, the list signs with it exactly when a message signed with it (by us, or by OpenSSL
 * for the shapes we refuse) verifies. Before the rule was shared, nsCertType=server signed but
 * did not verify, and anyExtendedKeyUsage verified but did not sign.
 */
class SignVerifyAgreementTest {
  private static final List<String> KEY_USAGES = List.of("", "digitalSignature",
      "nonRepudiation", "keyEncipherment", "digitalSignature,keyEncipherment");
  private static final List<String> EXTENDED_KEY_USAGES = List.of("", "emailProtection",
      "serverAuth", "clientAuth", "anyExtendedKeyUsage", "anyExtendedKeyUsage,emailProtection");
  private static final List<String> NS_CERT_TYPES = List.of("", "server", "client", "email",
      "objsign", "server,email");
  /** name, key generation arguments, digest the root signs the certificate with. */
  private static final List<List<String>> KEYS = List.of(
      List.of("rsa2048", "-newkey rsa:2048", "sha256"),
      List.of("rsa1024", "-newkey rsa:1024", "sha256"),
      List.of("rsa512", "-newkey rsa:512", "sha256"),
      List.of("p256", "-newkey ec -pkeyopt ec_paramgen_curve:P-256", "sha256"),
      List.of("p192", "-newkey ec -pkeyopt ec_paramgen_curve:prime192v1", "sha256"),
      List.of("ed25519", "-newkey ed25519", "sha256"),
      List.of("md5cert", "-newkey rsa:2048", "md5"),
      List.of("sha1cert", "-newkey rsa:2048", "sha1"));
  private static final byte[] ENTITY =
      "Content-Type: text/plain\r\n\r\nAgreement.\r\n".getBytes(StandardCharsets.US_ASCII);

  @TempDir static Path dir;
  static Verify verify;

  @BeforeAll
  static void root() throws Exception {
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out",
        "root.pem", "-days", "30", "-subj", "/CN=Agreement Root",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    verify = new Verify(new TrustStores());
  }

  @Test
  void whateverSignAcceptsVerifyAcceptsAndNothingElse() throws Exception {
    List<String> disagreements = new ArrayList<>();
    int signed = 0;
    int shapes = 0;
    for (List<String> key : KEYS) {
      String name = key.get(0);
      List<String> req = new ArrayList<>(List.of("req", "-new", "-nodes", "-keyout",
          name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name
              + "/emailAddress=" + name + "@example.org"));
      req.addAll(List.of(key.get(1).split(" ")));
      openssl(req.toArray(String[]::new));
      // The usage matrix on the default RSA key; one usual usage on every other key.
      List<String> kus = name.equals("rsa2048") ? KEY_USAGES : List.of("digitalSignature");
      List<String> ekus = name.equals("rsa2048") ? EXTENDED_KEY_USAGES
          : List.of("emailProtection");
      List<String> nss = name.equals("rsa2048") ? NS_CERT_TYPES : List.of("");
      for (String ku : kus) {
        for (String eku : ekus) {
          for (String ns : nss) {
            String shape = name + " ku=" + ku + " eku=" + eku + " ns=" + ns;
            String cert = "c" + (shapes++);
            StringBuilder ext = new StringBuilder("basicConstraints=CA:FALSE\n");
            if (!ku.isEmpty()) {
              ext.append("keyUsage=").append(ku).append('\n');
            }
            if (!eku.isEmpty()) {
              ext.append("extendedKeyUsage=").append(eku).append('\n');
            }
            if (!ns.isEmpty()) {
              ext.append("nsCertType=").append(ns).append('\n');
            }
            Files.writeString(dir.resolve(cert + ".ext"), ext);
            openssl("x509", "-req", "-in", name + ".csr", "-CA", "root.pem", "-CAkey",
                "root.key", "-set_serial", Integer.toString(shapes), "-days", "10",
                "-" + key.get(2), "-extfile", cert + ".ext", "-out", cert + ".pem");
            Optional<byte[]> ours = signWithUs(cert + ".pem", name + ".key");
            byte[] message = ours.isPresent() ? ours.get() : signWithOpenssl(cert, name);
            Verify.Result r = verify.verify(new Verify.Request(message,
                Optional.of(dir.resolve("root.pem")), Optional.empty(), Optional.empty()));
            if (ours.isPresent()) {
              signed++;
            }
            if (ours.isPresent() != r.valid()) {
              disagreements.add(shape + ": sign " + (ours.isPresent() ? "accepts" : "refuses")
                  + ", verify says " + r.failure().map(f -> f.id()).orElse("ok") + " ("
                  + r.detail() + ")");
            }
          }
        }
      }
    }
    assertEquals(List.of(), disagreements);
    // The matrix holds both kinds, or it proves nothing.
    assertTrue(signed > 10 && signed < shapes - 10, signed + " of " + shapes + " signed");
  }

  private static Optional<byte[]> signWithUs(String cert, String key) throws Exception {
    try {
      return Optional.of(new Sign(new KeyMaterial()).sign(new Sign.Request(ENTITY,
          dir.resolve(cert), dir.resolve(key), Optional.empty(), Optional.empty(), false))
          .message());
    } catch (SmimeException e) {
      return Optional.empty();
    }
  }

  private static byte[] signWithOpenssl(String cert, String key) throws Exception {
    Files.write(dir.resolve("entity"), ENTITY);
    openssl("cms", "-sign", "-binary", "-signer", cert + ".pem", "-inkey", key + ".key",
        "-in", "entity", "-out", cert + ".eml");
    return Files.readAllBytes(dir.resolve(cert + ".eml"));
  }

  private static void openssl(String... args) {
    Openssl.run(dir, args).check();
  }
}
