package org.sympasmime.testutil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERBMPString;
import org.bouncycastle.asn1.DERPrintableString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERT61String;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * The verifier's PKI and the messages signed on it, made once per test JVM in a temporary
 * directory removed at exit. The certificates come from {@link PkiFiles}; the messages are
 * signed by {@code openssl cms}, the independent implementation whose output we must verify.
 *
 * <pre>
 * root "Test CA" (2019 to 2046, so that expired certificates can be checked inside it)
 *  +- int        intermediate, pathlen 0
 *  |   +- chained
 *  +- alice, bob                     S/MIME leaves (RSA)
 *  +- ec (P-256), ed (Ed25519)
 *  +- nronly, anyeku, serverauth, enconly, noku, noext (v1)   usages
 *  +- multi, uni, attrs, order, order2, mbox, latin, emptysubj names and addresses
 *  +- expired (2020 to 2021), future (2040 to 2041)
 * other "Other CA"
 *  +- untrusted
 * </pre>
 *
 * Certificates are {@code name.crt}, keys {@code name.key}; trust stores
 * {@code cafile-with-int.pem}, {@code capath-plain}, {@code capath-hashed} (with
 * {@code openssl rehash} links) and {@code capath-int}; signed entities {@code entity.txt} (CRLF,
 * a trailing space, 8-bit) and {@code binary.txt}; messages {@code name.eml}.
 */
public final class SignedMailPki {
  private static PkiFiles files;

  private SignedMailPki() {}

  /** The PKI itself, to issue more or make CRLs of its CAs. */
  public static synchronized PkiFiles files() {
    if (files == null) {
      PkiFiles f = PkiFiles.temporary("sympa-smime-pki", ".crt");
      build(f);
      files = f;
    }
    return files;
  }

  public static Path dir() {
    return files().dir();
  }

  private static void build(PkiFiles pki) {
    X500Name rootName = CertSpec.dn("/C=FR/O=Test Org/CN=Test CA/emailAddress=ca@example.org");
    pki.selfSigned("root", CertSpec.ca(rootName, rsa("root"))
        .validity(Instant.parse("2019-01-01T00:00:00Z"), Instant.parse("2046-01-01T00:00:00Z")));
    pki.selfSigned("other", CertSpec.ca(CertSpec.dn("/C=FR/O=Other Org/CN=Other CA"),
        rsa("other")));
    pki.issue("int", CertSpec.ca(CertSpec.dn("/C=FR/O=Test Org/CN=Test Intermediate CA"),
        rsa("int")).with(Extension.basicConstraints, true, new BasicConstraints(0)), "root");

    leaf(pki, "alice", "/CN=Alice User/emailAddress=Alice@Example.org", rsa("alice"), s -> s);
    leaf(pki, "bob", "/CN=Bob User/emailAddress=bob@example.org", rsa("bob"), s -> s);
    leaf(pki, "ec", "/CN=EC User/emailAddress=ec@example.org",
        TestKeys.ec("SignedMailPki/ec", "P-256"), s -> usage(s, true,
            KeyUsage.digitalSignature | KeyUsage.keyAgreement).with(Extension.extendedKeyUsage,
            false, new ExtendedKeyUsage(KeyPurposeId.id_kp_emailProtection)));
    leaf(pki, "ed", "/CN=Ed User/emailAddress=ed@example.org",
        TestKeys.ed25519("SignedMailPki/ed"), s -> usage(s, true, KeyUsage.digitalSignature));
    leaf(pki, "nronly", "/CN=NR Only/emailAddress=nr@example.org", rsa("nronly"),
        s -> usage(s, false, KeyUsage.nonRepudiation));
    leaf(pki, "anyeku", "/CN=Any EKU/emailAddress=any@example.org", rsa("anyeku"),
        s -> usage(s, false, KeyUsage.digitalSignature).without(Extension.subjectAlternativeName)
            .with(Extension.extendedKeyUsage, false,
                new ExtendedKeyUsage(KeyPurposeId.anyExtendedKeyUsage)));
    leaf(pki, "serverauth", "/CN=Server Auth/emailAddress=server@example.org", rsa("serverauth"),
        s -> usage(s, false, KeyUsage.digitalSignature | KeyUsage.keyEncipherment)
            .without(Extension.subjectAlternativeName).with(Extension.extendedKeyUsage, false,
                new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth)));
    leaf(pki, "enconly", "/CN=Enc Only/emailAddress=enc@example.org", rsa("enconly"),
        s -> usage(s, false, KeyUsage.keyEncipherment).without(Extension.subjectAlternativeName));
    leaf(pki, "noku", "/CN=No KU/emailAddress=noku@example.org", rsa("noku"),
        s -> s.without(Extension.keyUsage).without(Extension.extendedKeyUsage));
    leaf(pki, "noext", "/CN=No Ext/emailAddress=noext@example.org", rsa("noext"), CertSpec::v1);
    pki.issue("untrusted", CertSpec.leaf(CertSpec.dn(
        "/C=FR/O=Other Org/CN=Untrusted User/emailAddress=untrusted@example.org"),
        rsa("untrusted")), "other");
    pki.issue("chained", CertSpec.leaf(CertSpec.dn(
        "/C=FR/O=Test Org/CN=Chained User/emailAddress=chained@example.org"), rsa("chained")),
        "int");
    leaf(pki, "multi", "/CN=Multi/emailAddress=multi@example.org/emailAddress=Multi@Example.org",
        rsa("multi"), s -> usage(s, false, KeyUsage.digitalSignature | KeyUsage.keyEncipherment)
            .with(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                email("Second@Example.org"), email("third@example.org"),
                email("multi@example.org"), new GeneralName(GeneralName.dNSName,
                    "www.example.org"), email("not-an-email")})));
    pki.issue("uni", CertSpec.leaf(CertSpec.dn("/C=FR/OU=D\u00e9pt+O=Universit\u00e9, Test"
        + "/CN=Zo\u00eb \u00dcnicode/emailAddress=zoe@example.org"), rsa("uni")), "root");
    pki.issue("attrs", signing(CertSpec.leaf(CertSpec.dn("/DC=org/DC=example/C=FR"
        + "/ST=Ile-de-France/L=Paris/street=1 rue X/postalCode=75001/O=Org, Inc./OU=Unit A"
        + "/OU=Unit B/title=Dr/GN=Jean/SN=Dupont/serialNumber=12345/UID=jdupont"
        + "/CN=Jean \"JD\" Dupont/emailAddress=jd@example.org"), rsa("attrs")),
        email("JD@example.org")), "root");
    pki.issue("order", signing(CertSpec.leaf(CertSpec.dn(
        "/C=FR/CN=Order/emailAddress=zed@example.org"), rsa("order")), email("bob@example.org"),
        email("alice@example.org"), email("carol@example.org")), "root");
    pki.issue("order2", signing(CertSpec.leaf(CertSpec.dn(
        "/C=FR/CN=Order Two/emailAddress=zed@example.org"), rsa("order2")),
        email("bob@example.org")), "root");
    pki.issue("mbox", signing(CertSpec.leaf(CertSpec.dn(
        "/C=FR/CN=Mailbox/emailAddress=ascii@example.org"), rsa("mbox")),
        email("ascii@example.org"), new GeneralName(GeneralName.otherName, new DERSequence(
            new ASN1Encodable[] {new ASN1ObjectIdentifier("1.3.6.1.5.5.7.8.9"),
                new DERTaggedObject(true, 0, new DERUTF8String("j\u00f6e@ex\u00e4mple.org"))}))),
        "root");
    // The types openssl picks with string_mask = default: T61String for Latin-1, BMPString
    // beyond.
    X500Name latin = new X500NameBuilder().addRDN(BCStyle.C, new DERPrintableString("FR"))
        .addRDN(BCStyle.CN,
            new DERT61String("Zo\u00eb Latin".getBytes(StandardCharsets.ISO_8859_1)))
        .addRDN(BCStyle.O, new DERBMPString("\u0141\u00f3d\u017a \u6f22\u5b57 Org")).build();
    pki.issue("latin", CertSpec.leaf(latin, rsa("latin")), "root");
    pki.issue("emptysubj", CertSpec.leaf(new X500Name(new RDN[0]), rsa("emptysubj")), "root");
    pki.issue("expired", CertSpec.leaf(CertSpec.dn(
        "/C=FR/O=Test Org/CN=Expired User/emailAddress=expired@example.org"), rsa("expired"))
        .validity(Instant.parse("2020-01-01T00:00:00Z"), Instant.parse("2021-01-01T00:00:00Z")),
        "root");
    pki.issue("future", CertSpec.leaf(CertSpec.dn(
        "/C=FR/O=Test Org/CN=Future User/emailAddress=future@example.org"), rsa("future"))
        .validity(Instant.parse("2040-01-01T00:00:00Z"), Instant.parse("2041-01-01T00:00:00Z")),
        "root");

    pki.bundle("cafile-with-int.pem", "root", "int");
    for (String store : List.of("capath-plain", "capath-hashed", "capath-int")) {
      createDirectories(pki.path(store));
    }
    pki.bundle("capath-plain/root.pem", "root");
    pki.bundle("capath-hashed/root.pem", "root");
    pki.openssl("rehash", "capath-hashed");
    pki.bundle("capath-int/int.pem", "int");

    write(pki.path("entity.txt"), ("Content-Type: text/plain; charset=utf-8\r\n"
        + "Content-Transfer-Encoding: 8bit\r\n\r\nHello world.\r\n"
        + "Second line with trailing space \r\n\r\n-- \r\nsig \u00e9\r\n")
        .getBytes(StandardCharsets.UTF_8));
    write(pki.path("binary.txt"), ("Content-Type: application/octet-stream\r\n"
        + "Content-Transfer-Encoding: binary\r\n\r\nNUL\0byte \u00ff\u00fe 8-bit\r\n"
        + "lone\rCR kept\r\n\0").getBytes(StandardCharsets.ISO_8859_1));

    sign(pki, "alice", "alice");
    sign(pki, "alice-crlf", "alice", "-crlfeol");
    sign(pki, "alice-opaque", "alice", "-nodetach");
    sign(pki, "alice-nocerts", "alice", "-nocerts");
    sign(pki, "alice-sha1", "alice", "-md", "sha1");
    sign(pki, "alice-md5", "alice", "-md", "md5");
    sign(pki, "alice-pss", "alice", "-keyopt", "rsa_padding_mode:pss");
    sign(pki, "chained-certfile", "chained", "-certfile", "int.crt");
    for (String signer : List.of("chained", "ec", "nronly", "anyeku", "serverauth", "enconly",
        "noku", "noext", "untrusted", "expired", "future")) {
      sign(pki, signer, signer);
    }
    pki.openssl("cms", "-sign", "-in", "entity.txt", "-signer", "alice.crt", "-inkey",
        "alice.key", "-signer", "bob.crt", "-inkey", "bob.key", "-out", "two-signers.eml");
    pki.openssl("cms", "-sign", "-binary", "-in", "binary.txt", "-signer", "alice.crt",
        "-inkey", "alice.key", "-out", "binary.eml");
    pki.openssl("cms", "-sign", "-binary", "-nodetach", "-in", "binary.txt", "-signer",
        "alice.crt", "-inkey", "alice.key", "-out", "binary-opaque.eml");
  }

  private static KeyPair rsa(String name) {
    return TestKeys.rsa("SignedMailPki/" + name);
  }

  private static GeneralName email(String address) {
    return new GeneralName(GeneralName.rfc822Name, address);
  }

  /** keyUsage as given, no basicConstraints, and no extendedKeyUsage. */
  private static CertSpec usage(CertSpec leaf, boolean critical, int keyUsage) {
    return leaf.without(Extension.basicConstraints).without(Extension.extendedKeyUsage)
        .with(Extension.keyUsage, critical, new KeyUsage(keyUsage));
  }

  /** keyUsage digitalSignature alone (not critical) and these subjectAltNames. */
  private static CertSpec signing(CertSpec leaf, GeneralName... altNames) {
    return usage(leaf, false, KeyUsage.digitalSignature)
        .with(Extension.subjectAlternativeName, false, new GeneralNames(altNames));
  }

  /** A leaf of O=Test Org ({@code subject} is the rest) issued by the root. */
  private static void leaf(PkiFiles pki, String name, String subject, KeyPair keys,
      UnaryOperator<CertSpec> shape) {
    pki.issue(name, shape.apply(CertSpec.leaf(CertSpec.dn("/C=FR/O=Test Org" + subject), keys)),
        "root");
  }

  /** {@code entity.txt} signed by {@code signer} with {@code openssl cms -sign}, as out.eml. */
  private static void sign(PkiFiles pki, String out, String signer, String... options) {
    List<String> args = new ArrayList<>(List.of("cms", "-sign", "-in", "entity.txt", "-signer",
        signer + ".crt", "-inkey", signer + ".key"));
    args.addAll(List.of(options));
    args.addAll(List.of("-out", out + ".eml"));
    pki.openssl(args.toArray(String[]::new));
  }

  private static void createDirectories(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(Path file, byte[] bytes) {
    try {
      Files.write(file, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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
        + " smime-type=signed-data; name=\"smime.p7m\"\r\n"
        + "Content-Transfer-Encoding: base64\r\n\r\n";
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
