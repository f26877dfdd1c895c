package org.sympasmime.smime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.sympasmime.testutil.Openssl;

/**
 * A throwaway PKI made with the {@code openssl} CLI, so that what we sign is checked against an
 * independent implementation:
 *
 * <pre>
 * root (RSA, self-signed)
 *  +- int      "CN=Test Intermediate"   (RSA key A)
 *  |   +- rsa  list certificate, RSA, chained through int
 *  |   +- ec   list certificate, P-256
 *  +- intB     "CN=Test Intermediate"   (same DN, RSA key B: a re-keyed intermediate)
 *  |   +- viaB leaf issued by intB
 *  +- direct   leaf issued by the root
 *  +- encOnly  leaf whose keyUsage is keyEncipherment only
 *  +- server   leaf whose extendedKeyUsage is serverAuth
 * ed25519      leaf (Ed25519) issued by int
 * </pre>
 */
public final class SignTestPki {
  public static final String PASSWORD = "s3cret pass";

  public final Path dir;

  public SignTestPki(Path dir) throws IOException {
    this.dir = dir;
    write("ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
        + "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
    write("leaf.ext", "basicConstraints=CA:FALSE\n"
        + "keyUsage=critical,digitalSignature,keyEncipherment\n"
        + "extendedKeyUsage=emailProtection\nsubjectAltName=email:copy\n");
    write("ecleaf.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n"
        + "extendedKeyUsage=emailProtection\nsubjectAltName=email:copy\n");
    write("edleaf.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        + "extendedKeyUsage=emailProtection\nsubjectAltName=email:copy\n");
    write("enconly.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,keyEncipherment\n"
        + "extendedKeyUsage=emailProtection\n");
    write("server.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        + "extendedKeyUsage=serverAuth\n");

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key",
        "-out", "root.pem", "-days", "3650", "-subj", "/O=Sign Test/CN=Test Root",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    issue("int", "rsa:2048", "/O=Sign Test/CN=Test Intermediate", "root", "ca.ext", 1800);
    issue("intB", "rsa:2048", "/O=Sign Test/CN=Test Intermediate", "root", "ca.ext", 1800);
    issue("rsa", "rsa:2048", "/O=Sign Test/CN=List RSA/emailAddress=list@example.org", "int",
        "leaf.ext", 365);
    issue("ec", "ec", "/O=Sign Test/CN=List EC/emailAddress=ec@example.org", "int",
        "ecleaf.ext", 365);
    issue("ed25519", "ed25519", "/O=Sign Test/CN=List Ed25519/emailAddress=ed@example.org",
        "int", "edleaf.ext", 365);
    issue("viaB", "rsa:2048", "/O=Sign Test/CN=Via B/emailAddress=b@example.org", "intB",
        "leaf.ext", 365);
    issue("direct", "rsa:2048", "/O=Sign Test/CN=Direct/emailAddress=direct@example.org",
        "root", "leaf.ext", 365);
    issue("encOnly", "rsa:2048", "/O=Sign Test/CN=Enc Only/emailAddress=enc@example.org",
        "root", "enconly.ext", 365);
    issue("server", "rsa:2048", "/O=Sign Test/CN=Server/emailAddress=srv@example.org",
        "root", "server.ext", 365);

    // The list's cert.pem as admins make it: leaf, then the chain, root included.
    concat("rsa-chain.pem", "rsa.pem", "int.pem", "root.pem");
    // A cafile with noise: the re-keyed intermediate first, so a DN-only match picks wrongly.
    concat("cafile.pem", "direct.pem", "intB.pem", "int.pem", "root.pem");
    concat("cafileB.pem", "int.pem", "intB.pem", "root.pem");
    openssl("pkey", "-in", "rsa.key", "-aes256", "-passout", "pass:" + PASSWORD,
        "-out", "rsa-pkcs8-enc.key");
    openssl("rsa", "-in", "rsa.key", "-aes128", "-traditional", "-passout", "pass:" + PASSWORD,
        "-out", "rsa-trad-enc.key");
  }

  public Path path(String name) {
    return dir.resolve(name);
  }

  private void issue(String name, String keySpec, String subject, String issuer, String ext,
      int days) {
    List<String> req = new ArrayList<>(List.of("req", "-new", "-nodes", "-keyout", name + ".key",
        "-out", name + ".csr", "-subj", subject));
    if (keySpec.equals("ec")) {
      req.addAll(List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"));
    } else {
      req.addAll(List.of("-newkey", keySpec));
    }
    openssl(req.toArray(String[]::new));
    openssl("x509", "-req", "-in", name + ".csr", "-CA", issuer + ".pem", "-CAkey",
        issuer + ".key", "-set_serial", "0x" + Long.toHexString(System.nanoTime()),
        "-days", Integer.toString(days), "-extfile", ext, "-out", name + ".pem");
  }

  private void concat(String target, String... parts) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String part : parts) {
      out.writeBytes(Files.readAllBytes(dir.resolve(part)));
    }
    Files.write(dir.resolve(target), out.toByteArray());
  }

  private void write(String name, String text) throws IOException {
    Files.writeString(dir.resolve(name), text);
  }

  /** Runs openssl in {@link #dir}; fails the test with openssl's stderr when it fails. */
  public byte[] openssl(String... args) {
    return Openssl.run(dir, args).check().stdout();
  }
}
