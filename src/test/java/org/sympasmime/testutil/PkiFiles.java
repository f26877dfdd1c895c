package org.sympasmime.testutil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.sympasmime.pki.BcProvider;
import org.sympasmime.pki.Pem;

/**
 * The JUnit suite's test PKI on disk: certificates made in process by {@link CertSpec} (on
 * {@link TestKeys}), written to a directory as the files Sympa and openssl read, with the
 * key files, encrypted keys, bundles and CRLs around them. Every fixture directory of the
 * suite ({@link TestPki}, {@link SignedMailPki}, the signing and CRL tests' own) is one of
 * these; a new certificate shape is a {@link CertSpec} and one {@link #issue} call.
 *
 * <p>What Sympa's admins feed the sidecar comes from openssl, so the key files here are
 * re-encoded by the {@code openssl} command line: plain keys as {@code openssl pkey} writes
 * PKCS#8, encrypted keys in the two forms {@code openssl} writes with a password
 * ({@link KeyForm}). The tests that read them thus read keys openssl wrote.
 */
public final class PkiFiles {
  /** The password of every encrypted key here. Nothing here is secret. */
  public static final String PASSWORD = "s3cret pass";

  /** Encrypted private key files as openssl writes them, with {@link #PASSWORD}. */
  public enum KeyForm {
    /** {@code BEGIN ENCRYPTED PRIVATE KEY}: PKCS#8, PBES2 with AES-256-CBC. */
    PKCS8_AES256("pkcs8", "-topk8", "-v2", "aes-256-cbc"),
    /** {@code BEGIN RSA PRIVATE KEY} with {@code DEK-Info: AES-128-CBC}: OpenSSL's own. */
    TRADITIONAL_AES128("rsa", "-aes128", "-traditional");

    private final String[] args;

    KeyForm(String... args) {
      this.args = args;
    }
  }

  /** One entry of a CRL; {@code reason} is a {@link CRLReason} value, or none at all. */
  public record Revoked(BigInteger serial, Instant date, Optional<Integer> reason) {
    public static Revoked of(TestCert cert, Instant date, int reason) {
      return new Revoked(cert.holder().getSerialNumber(), date, Optional.of(reason));
    }

    public static Revoked of(TestCert cert, Instant date) {
      return new Revoked(cert.holder().getSerialNumber(), date, Optional.empty());
    }
  }

  private final Path dir;
  private final String certSuffix;
  private final Map<String, TestCert> certs = new ConcurrentHashMap<>();

  /**
   * @param certSuffix the certificate files' ending ({@code .crt}, {@code .pem}); keys are
   *     always {@code name.key}
   */
  public PkiFiles(Path dir, String certSuffix) {
    this.dir = dir;
    this.certSuffix = certSuffix;
  }

  /** In a new directory removed when the test JVM exits. */
  public static PkiFiles temporary(String prefix, String certSuffix) {
    return new PkiFiles(TempDirs.deletedAtExit(prefix), certSuffix);
  }

  public Path dir() {
    return dir;
  }

  public Path path(String file) {
    return dir.resolve(file);
  }

  /** The certificate file of {@code name}. */
  public Path cert(String name) {
    return dir.resolve(name + certSuffix);
  }

  /** The unencrypted PKCS#8 key file of {@code name}. */
  public Path key(String name) {
    return dir.resolve(name + ".key");
  }

  /** The certificate made under {@code name}. */
  public TestCert get(String name) {
    TestCert c = certs.get(name);
    if (c == null) {
      throw new IllegalArgumentException("no certificate " + name + " in " + dir);
    }
    return c;
  }

  public String pem(String name) {
    return get(name).pem();
  }

  public TestCert selfSigned(String name, CertSpec spec) {
    return add(name, spec.selfSigned());
  }

  public TestCert issue(String name, CertSpec spec, String issuer) {
    return add(name, spec.issuedBy(get(issuer)));
  }

  /** Writes {@code cert} and its key under {@code name}. */
  public TestCert add(String name, TestCert cert) {
    writeCert(name, cert);
    writeKey(name, cert.keys());
    certs.put(name, cert);
    return cert;
  }

  /**
   * Writes {@code cert} alone as {@code name}'s certificate file: for many certificates on one
   * key, written once by {@link #writeKey}. It cannot issue others.
   */
  public Path writeCert(String name, TestCert cert) {
    write(cert(name), cert.pem().getBytes(StandardCharsets.US_ASCII));
    return cert(name);
  }

  /** Writes {@code keys}' private key as {@code name.key}, as {@code openssl pkey} writes it. */
  public Path writeKey(String name, KeyPair keys) {
    try {
      // Bouncy Castle writes Ed25519 keys as PKCS#8 v2 (with the public key), which openssl
      // 3.0 cannot read: hand it v1, the form openssl itself writes.
      PrivateKeyInfo info = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
      byte[] v1 = new PrivateKeyInfo(info.getPrivateKeyAlgorithm(), info.parsePrivateKey())
          .getEncoded();
      write(key(name), Openssl.run(dir, Pem.encode("PRIVATE KEY", v1)
          .getBytes(StandardCharsets.US_ASCII), "pkey").check().stdout());
      return key(name);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code name}'s key, encrypted with {@link #PASSWORD} by openssl, as {@code file}. */
  public Path encryptedKey(String name, KeyForm form, String file) {
    List<String> args = new ArrayList<>(List.of(form.args));
    args.addAll(List.of("-in", key(name).toString(), "-out", file, "-passout",
        "pass:" + PASSWORD));
    openssl(args.toArray(String[]::new));
    return path(file);
  }

  /** The certificates of {@code names}, in that order, as one PEM file. */
  public Path bundle(String file, String... names) {
    StringBuilder s = new StringBuilder();
    for (String n : names) {
      s.append(pem(n));
    }
    Path out = path(file);
    write(out, s.toString().getBytes(StandardCharsets.US_ASCII));
    return out;
  }

  /** A CRL of {@code issuer} listing {@code revoked}, signed with the issuer's key. */
  public X509CRLHolder crl(String issuer, Instant thisUpdate, Instant nextUpdate,
      List<Revoked> revoked) {
    TestCert ca = get(issuer);
    X509v2CRLBuilder b = new X509v2CRLBuilder(ca.subject(), Date.from(thisUpdate));
    b.setNextUpdate(Date.from(nextUpdate));
    for (Revoked r : revoked) {
      if (r.reason().isPresent()) {
        b.addCRLEntry(r.serial(), Date.from(r.date()), r.reason().get());
      } else {
        b.addCRLEntry(r.serial(), Date.from(r.date()), (Extensions) null);
      }
    }
    try {
      return b.build(new JcaContentSignerBuilder(CertSpec.defaultAlgorithm(
          ca.keys().getPrivate())).setProvider(BcProvider.get()).build(ca.keys().getPrivate()));
    } catch (OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code crl} as {@code file}: DER if its name ends with {@code .der}, PEM otherwise. */
  public Path write(String file, X509CRLHolder crl) {
    try {
      Path out = dir.resolve(file);
      write(out, file.endsWith(".der") ? crl.getEncoded()
          : Pem.encode("X509 CRL", crl.getEncoded()).getBytes(StandardCharsets.US_ASCII));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs openssl in {@link #dir}; fails the test with openssl's stderr when it fails. */
  public byte[] openssl(String... args) {
    return Openssl.run(dir, args).check().stdout();
  }

  private static void write(Path file, byte[] bytes) {
    try {
      Files.write(file, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
