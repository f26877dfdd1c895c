package org.sympasmime.testutil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A throwaway PKI made with the openssl command line, once per test JVM, in a temporary
 * directory removed at exit. One RSA CA; RSA leaves {@code alice} and {@code bob}; EC leaves
 * {@code ec256} (P-256) and {@code ec384} (P-384); certificates on alice's key that are expired,
 * not yet valid, signing-only and without keyUsage; an EC signing-only certificate; an Ed25519
 * leaf; alice's key encrypted as PKCS#8 and as traditional PEM with {@link #PASSWORD}.
 */
public final class TestPki {
  public static final String PASSWORD = "s3cret pass";

  private static TestPki instance;

  private final Path dir;

  private TestPki(Path dir) {
    this.dir = dir;
  }

  public static synchronized TestPki get() {
    if (instance == null) {
      try {
        TestPki pki = new TestPki(TempDirs.deletedAtExit("sympa-smime-pki"));
        pki.build();
        instance = pki;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return instance;
  }

  public Path dir() {
    return dir;
  }

  public Path path(String name) {
    return dir.resolve(name);
  }

  /** {@code name.crt}. */
  public Path cert(String name) {
    return dir.resolve(name + ".crt");
  }

  /** {@code name.key} (unencrypted PKCS#8). */
  public Path key(String name) {
    return dir.resolve(name + ".key");
  }

  public String pem(String name) {
    try {
      return Files.readString(cert(name), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void build() throws IOException {
    Files.writeString(dir.resolve("ca.cnf"), """
        [ ca ]
        default_ca = test_ca
        [ test_ca ]
        dir = .
        database = ./index.txt
        new_certs_dir = ./newcerts
        serial = ./serial
        certificate = ./ca.crt
        private_key = ./ca.key
        default_md = sha256
        policy = any
        email_in_dn = yes
        unique_subject = no
        default_days = 3650
        [ any ]
        commonName = supplied
        emailAddress = optional
        [ enc_rsa ]
        basicConstraints = CA:FALSE
        keyUsage = critical, digitalSignature, keyEncipherment
        extendedKeyUsage = emailProtection
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        subjectAltName = email:copy
        [ sign_only ]
        basicConstraints = CA:FALSE
        keyUsage = critical, digitalSignature
        subjectKeyIdentifier = hash
        [ no_ku ]
        basicConstraints = CA:FALSE
        subjectKeyIdentifier = hash
        [ enc_ec ]
        basicConstraints = CA:FALSE
        keyUsage = critical, digitalSignature, keyAgreement
        subjectKeyIdentifier = hash
        subjectAltName = email:copy
        """);
    Files.createDirectories(dir.resolve("newcerts"));
    Files.writeString(dir.resolve("index.txt"), "");
    Files.writeString(dir.resolve("serial"), "1000\n");
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-subj", "/CN=Test CA", "-days", "3650", "-sha256");
    rsaKey("alice");
    rsaKey("bob");
    ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec256.key");
    ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "ec384.key");
    ossl("genpkey", "-algorithm", "ED25519", "-out", "ed25519.key");

    leaf("alice", "alice", "enc_rsa", null, null);
    leaf("bob", "bob", "enc_rsa", null, null);
    leaf("ec256", "ec256", "enc_ec", null, null);
    leaf("ec384", "ec384", "enc_ec", null, null);
    leaf("expired", "alice", "enc_rsa", "20200101000000Z", "20210101000000Z");
    leaf("future", "alice", "enc_rsa", "20400101000000Z", "20410101000000Z");
    leaf("sigonly", "alice", "sign_only", null, null);
    leaf("noku", "alice", "no_ku", null, null);
    leaf("ec-sigonly", "ec256", "sign_only", null, null);
    leaf("ed25519", "ed25519", "sign_only", null, null);

    ossl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "alice.key", "-out", "alice.p8enc.key",
        "-passout", "pass:" + PASSWORD);
    ossl("rsa", "-aes128", "-traditional", "-in", "alice.key", "-out", "alice.trad.key",
        "-passout", "pass:" + PASSWORD);
  }

  private void rsaKey(String name) {
    ossl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", name + ".key");
  }

  private void leaf(String name, String key, String ext, String start, String end) {
    ossl("req", "-new", "-key", key + ".key", "-out", name + ".csr",
        "-subj", "/CN=" + name + "/emailAddress=" + name + "@example.org");
    if (start == null) {
      ossl("ca", "-batch", "-config", "ca.cnf", "-notext", "-in", name + ".csr", "-out",
          name + ".crt", "-extensions", ext);
    } else {
      ossl("ca", "-batch", "-config", "ca.cnf", "-notext", "-in", name + ".csr", "-out",
          name + ".crt", "-extensions", ext, "-startdate", start, "-enddate", end);
    }
  }

  private void ossl(String... args) {
    Openssl.run(dir, args).check();
  }
}
