package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.Time;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.smime.SMIMECapability;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.mime.LineEnds;
import org.sympasmime.pki.BcProvider;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.testutil.Openssl;

class SignTest {
  /** The multipart/signed layout Crypt::SMIME 0.28 writes, as measured from its output. */
  static final Pattern TEMPLATE = Pattern.compile(
      "MIME-Version: 1\\.0\r\n"
          + "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";"
          + " micalg=\"(sha-256|sha-512)\"; boundary=\"(----[0-9A-F]{32})\"\r\n"
          + "\r\n"
          + "This is an S/MIME signed message\r\n"
          + "\r\n"
          + "--\\2\r\n"
          + "(.*)\r\n"
          + "--\\2\r\n"
          + "Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
          + "Content-Transfer-Encoding: base64\r\n"
          + "Content-Disposition: attachment; filename=\"smime.p7s\"\r\n"
          + "\r\n"
          + "((?:[A-Za-z0-9+/]{64}\r\n)*[A-Za-z0-9+/]{0,63}[A-Za-z0-9+/=]{1,4}\r\n)"
          + "\r\n"
          + "--\\2--\r\n"
          + "\r\n",
      Pattern.DOTALL);

  static final byte[] ENTITY = ("Content-Type: text/plain; charset=utf-8\n"
      + "Content-Transfer-Encoding: 8bit\n"
      + "\n"
      + "Hello world.\n"
      + "Trailing space \n"
      + "\n"
      + "-- \n"
      + "sig\n").getBytes(StandardCharsets.UTF_8);

  @TempDir static Path dir;
  static SignTestPki pki;
  static KeyMaterial keys;

  @BeforeAll
  static void pki() throws Exception {
    pki = new SignTestPki(dir);
    keys = new KeyMaterial();
  }

  /** The parsed output: micalg, first part (the signed bytes) and the SignedData. */
  record Parsed(String micalg, String boundary, byte[] firstPart, CMSSignedData cms) {}

  static Parsed parse(byte[] message) throws Exception {
    Matcher m = TEMPLATE.matcher(new String(message, StandardCharsets.ISO_8859_1));
    assertTrue(m.matches(), "output does not follow the template:\n"
        + new String(message, StandardCharsets.ISO_8859_1));
    byte[] first = m.group(3).getBytes(StandardCharsets.ISO_8859_1);
    byte[] der = Base64.getMimeDecoder().decode(m.group(4));
    return new Parsed(m.group(1), m.group(2), first,
        new CMSSignedData(new CMSProcessableByteArray(first), der));
  }

  private static Sign.Result sign(byte[] entity, String cert, String key, Optional<String> cafile,
      boolean chain) throws SmimeException {
    return new Sign(keys).sign(new Sign.Request(entity, pki.path(cert), pki.path(key),
        Optional.empty(), cafile.map(pki::path), chain));
  }

  private static Sign.Result sign(String cert, String key) throws SmimeException {
    return sign(ENTITY, cert, key, Optional.empty(), true);
  }

  /** {@code openssl cms -verify} of the whole message; returns the content it verified. */
  static Openssl.Run opensslVerify(Path dir, byte[] message, String... extra)
      throws Exception {
    Path in = Files.createTempFile(dir, "signed", ".eml");
    Path out = Files.createTempFile(dir, "content", ".bin");
    Files.write(in, message);
    List<String> args = new java.util.ArrayList<>(List.of("cms", "-verify", "-in",
        in.toString(), "-out", out.toString()));
    args.addAll(List.of(extra));
    Openssl.Run r = Openssl.run(dir, args.toArray(String[]::new));
    return new Openssl.Run(r.exit(), Files.readAllBytes(out), r.stderr(), r.command());
  }

  private static Set<String> subjects(CMSSignedData cms) {
    Collection<X509CertificateHolder> certs = cms.getCertificates().getMatches(null);
    return certs.stream().map(c -> c.getSubject().toString()).collect(Collectors.toSet());
  }

  private static String subject(String pemFile) throws Exception {
    X509Certificate c = keys.certificate(pki.path(pemFile));
    return new X509CertificateHolder(c.getEncoded()).getSubject().toString();
  }

  private static X509CertificateHolder holder(String pemFile) throws Exception {
    return new X509CertificateHolder(keys.certificate(pki.path(pemFile)).getEncoded());
  }

  @Test
  void rsaSignatureWithChainFromCertPemVerifiesAgainstTheRootAlone() throws Exception {
    Sign.Result r = sign("rsa-chain.pem", "rsa.key");
    assertEquals("sha-256", r.micalg());
    assertEquals(2, r.certificates());
    Parsed p = parse(r.message());
    assertEquals(Set.of(subject("rsa.pem"), subject("int.pem")), subjects(p.cms()));

    Openssl.Run v = opensslVerify(dir, r.message(), "-CAfile", "root.pem");
    assertEquals(0, v.exit(), v.stderr());
    assertArrayEquals(LineEnds.bareLfToCrlf(ENTITY), v.stdout(), "openssl verified other bytes");
    assertArrayEquals(LineEnds.bareLfToCrlf(ENTITY), p.firstPart());
  }

  @Test
  void ecdsaSignerChainsThroughCafilePickingTheIntermediateWhoseKeySigned() throws Exception {
    // cafile.pem lists intB (same DN as int, other key) before int.
    Sign.Result r = sign(ENTITY, "ec.pem", "ec.key", Optional.of("cafile.pem"), true);
    assertEquals(2, r.certificates());
    Parsed p = parse(r.message());
    Set<X509CertificateHolder> carried = Set.copyOf(p.cms().getCertificates().getMatches(null));
    assertEquals(Set.of(holder("ec.pem"), holder("int.pem")), carried);
    SignerInformation signer = p.cms().getSignerInfos().getSigners().iterator().next();
    assertEquals("1.2.840.10045.4.3.2", signer.getEncryptionAlgOID(), "ecdsa-with-SHA256");

    Openssl.Run v = opensslVerify(dir, r.message(), "-CAfile", "root.pem");
    assertEquals(0, v.exit(), v.stderr());
  }

  @Test
  void reKeyedIntermediateIsToldApartBySignatureNotByName() throws Exception {
    // cafileB.pem lists int before intB; viaB was issued by intB.
    Sign.Result r = sign(ENTITY, "viaB.pem", "viaB.key", Optional.of("cafileB.pem"), true);
    Parsed p = parse(r.message());
    assertEquals(Set.of(holder("viaB.pem"), holder("intB.pem")),
        Set.copyOf(p.cms().getCertificates().getMatches(null)));
    assertEquals(0, opensslVerify(dir, r.message(), "-CAfile", "root.pem").exit());
  }

  @Test
  void theRootIsNeverCarried() throws Exception {
    Sign.Result r = sign(ENTITY, "direct.pem", "direct.key", Optional.of("cafile.pem"), true);
    assertEquals(1, r.certificates());
    assertEquals(Set.of(subject("direct.pem")), subjects(parse(r.message()).cms()));
    assertEquals(0, opensslVerify(dir, r.message(), "-CAfile", "root.pem").exit());
  }

  @Test
  void withoutChainOnlyTheSignerIsCarried() throws Exception {
    Sign.Result r = sign(ENTITY, "rsa-chain.pem", "rsa.key", Optional.of("cafile.pem"), false);
    assertEquals(1, r.certificates());
    assertEquals(Set.of(subject("rsa.pem")), subjects(parse(r.message()).cms()));
    Openssl.Run alone = opensslVerify(dir, r.message(), "-CAfile", "root.pem");
    assertNotEquals(0, alone.exit(), "the intermediate should be missing");
    // openssl cms has no -untrusted: a CAfile holding the intermediate stands in for it.
    Openssl.Run helped = opensslVerify(dir, r.message(), "-CAfile", "cafileB.pem");
    assertEquals(0, helped.exit(), helped.stderr());
  }

  @Test
  void signedDataHasCryptSmimeShapeWithOurCapabilities() throws Exception {
    Instant before = Instant.now().minusSeconds(1);
    Parsed p = parse(sign("rsa-chain.pem", "rsa.key").message());
    CMSSignedData cms = p.cms();
    assertTrue(cms.isDetachedSignature());
    assertEquals(1, cms.getVersion());
    assertEquals(PKCSObjectIdentifiers.data, cms.getSignedContentType());
    assertTrue(cms.getCRLs().getMatches(null).isEmpty());
    Collection<SignerInformation> signers = cms.getSignerInfos().getSigners();
    assertEquals(1, signers.size());
    SignerInformation s = signers.iterator().next();
    assertEquals(1, s.getVersion(), "issuerAndSerialNumber gives SignerInfo version 1");
    X509CertificateHolder leaf = holder("rsa.pem");
    assertEquals(leaf.getIssuer(), s.getSID().getIssuer());
    assertEquals(leaf.getSerialNumber(), s.getSID().getSerialNumber());
    assertEquals("2.16.840.1.101.3.4.2.1", s.getDigestAlgOID());
    assertEquals(PKCSObjectIdentifiers.rsaEncryption.getId(), s.getEncryptionAlgOID());
    assertEquals(null, s.getUnsignedAttributes());
    assertTrue(s.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider(BcProvider.get()).build(leaf)));

    AttributeTable attrs = s.getSignedAttributes();
    List<ASN1ObjectIdentifier> types = List.of(s.toASN1Structure().getAuthenticatedAttributes().toArray()).stream()
        .map(a -> Attribute.getInstance(a).getAttrType()).toList();
    assertEquals(Set.of(CMSAttributes.contentType, CMSAttributes.signingTime,
        CMSAttributes.messageDigest, PKCSObjectIdentifiers.pkcs_9_at_smimeCapabilities),
        Set.copyOf(types));
    assertEquals(4, types.size());
    Instant signingTime = Time.getInstance(
        attrs.get(CMSAttributes.signingTime).getAttrValues().getObjectAt(0)).getDate().toInstant();
    assertFalse(signingTime.isBefore(before.truncatedTo(java.time.temporal.ChronoUnit.SECONDS)));
    assertFalse(signingTime.isAfter(Instant.now()));

    ASN1Sequence caps = ASN1Sequence.getInstance(
        attrs.get(PKCSObjectIdentifiers.pkcs_9_at_smimeCapabilities).getAttrValues()
            .getObjectAt(0));
    List<String> capIds = List.of(caps.toArray()).stream()
        .map(c -> SMIMECapability.getInstance(c).getCapabilityID().getId()).toList();
    assertEquals(List.of(
        "2.16.840.1.101.3.4.1.46", // aes256-GCM
        "2.16.840.1.101.3.4.1.6", // aes128-GCM
        "2.16.840.1.101.3.4.1.42", // aes256-CBC
        "2.16.840.1.101.3.4.1.22", // aes192-CBC
        "2.16.840.1.101.3.4.1.2", // aes128-CBC
        "1.2.840.113549.3.7", // des-ede3-cbc
        "1.2.840.113549.1.1.7"), // RSAES-OAEP
        capIds);
    ASN1Encodable oaepParams = SMIMECapability.getInstance(caps.getObjectAt(6)).getParameters();
    assertEquals(0, ASN1Sequence.getInstance(oaepParams).size(), "OAEP default parameters");
  }

  @Test
  void headerTemplateIsCryptSmimesByteForByte() throws Exception {
    byte[] message = sign("rsa.pem", "rsa.key").message();
    Parsed p = parse(message);
    String text = new String(message, StandardCharsets.ISO_8859_1);
    // Every line ends in CRLF, no bare LF or CR anywhere in the generated framing.
    assertFalse(Pattern.compile("[^\r]\n").matcher(text).find());
    assertTrue(text.endsWith("--" + p.boundary() + "--\r\n\r\n"));
    int contentTypeLines = text.split("\r\n\r\n", 2)[0].split("\r\n").length;
    assertEquals(2, contentTypeLines, "MIME-Version and one unfolded Content-Type");
    // Two signatures never share a boundary.
    assertNotEquals(p.boundary(), parse(sign("rsa.pem", "rsa.key").message()).boundary());
  }

  @Test
  void lfAndCrlfInputGiveTheSameFirstPart() throws Exception {
    byte[] crlf = new String(ENTITY, StandardCharsets.UTF_8).replace("\n", "\r\n")
        .getBytes(StandardCharsets.UTF_8);
    byte[] fromLf = parse(sign(ENTITY, "rsa.pem", "rsa.key", Optional.empty(), true).message())
        .firstPart();
    byte[] fromCrlf = parse(sign(crlf, "rsa.pem", "rsa.key", Optional.empty(), true).message())
        .firstPart();
    assertArrayEquals(crlf, fromLf);
    assertArrayEquals(crlf, fromCrlf);
  }

  @Test
  void contentWithoutFinalNewlineIsSignedWithoutOne() throws Exception {
    byte[] entity = "Content-Type: text/plain\n\nno newline at the end"
        .getBytes(StandardCharsets.US_ASCII);
    byte[] message = sign(entity, "rsa-chain.pem", "rsa.key", Optional.empty(), true).message();
    Parsed p = parse(message);
    byte[] expected = "Content-Type: text/plain\r\n\r\nno newline at the end"
        .getBytes(StandardCharsets.US_ASCII);
    assertArrayEquals(expected, p.firstPart());
    Openssl.Run v = opensslVerify(dir, message, "-CAfile", "root.pem");
    assertEquals(0, v.exit(), v.stderr());
    assertArrayEquals(expected, v.stdout());
  }

  @Test
  void emptyEntityGivesAnEmptyFirstPart() throws Exception {
    byte[] message = sign(new byte[0], "rsa-chain.pem", "rsa.key", Optional.empty(), true)
        .message();
    assertEquals(0, parse(message).firstPart().length);
    assertEquals(0, opensslVerify(dir, message, "-CAfile", "root.pem").exit());
  }

  @Test
  void encryptedKeysOpenWithThePassword() throws Exception {
    for (String key : List.of("rsa-pkcs8-enc.key", "rsa-trad-enc.key")) {
      Sign.Result r = new Sign(keys).sign(new Sign.Request(ENTITY, pki.path("rsa-chain.pem"),
          pki.path(key), Optional.of(SignTestPki.PASSWORD), Optional.empty(), true));
      Openssl.Run v = opensslVerify(dir, r.message(), "-CAfile", "root.pem");
      assertEquals(0, v.exit(), key + ": " + v.stderr());
    }
  }

  @Test
  void wrongOrMissingPasswordIsBadPassword() {
    for (Optional<String> pw : List.of(Optional.of("wrong"), Optional.<String>empty())) {
      for (String key : List.of("rsa-pkcs8-enc.key", "rsa-trad-enc.key")) {
        SmimeException e = assertThrows(SmimeException.class, () -> new Sign(keys).sign(
            new Sign.Request(ENTITY, pki.path("rsa.pem"), pki.path(key), pw, Optional.empty(),
                true)));
        assertEquals(Reason.BAD_PASSWORD, e.reason(), key);
        assertFalse(e.getMessage().contains(SignTestPki.PASSWORD));
      }
    }
  }

  @Test
  void aKeyOfAnotherCertificateIsKeyMismatch() throws Exception {
    pki.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-out", "other-ec.key");
    for (String[] pair : List.of(new String[] {"rsa.pem", "direct.key"},
        new String[] {"ec.pem", "other-ec.key"}, new String[] {"rsa.pem", "ec.key"},
        new String[] {"ec.pem", "rsa.key"}, new String[] {"ed25519.pem", "rsa.key"})) {
      SmimeException e = assertThrows(SmimeException.class,
          () -> sign(pair[0], pair[1]), String.join(" with ", pair));
      assertEquals(Reason.KEY_MISMATCH, e.reason(), String.join(" with ", pair));
    }
  }

  @Test
  void unreadableOrCertificatelessFiles() throws Exception {
    Files.writeString(dir.resolve("garbage.pem"), "not a certificate\n");
    assertEquals(Reason.FILE_UNREADABLE, assertThrows(SmimeException.class,
        () -> sign("missing.pem", "rsa.key")).reason());
    assertEquals(Reason.FILE_UNREADABLE, assertThrows(SmimeException.class,
        () -> sign("rsa.pem", "missing.key")).reason());
    assertEquals(Reason.BAD_CERTIFICATE, assertThrows(SmimeException.class,
        () -> sign("garbage.pem", "rsa.key")).reason());
  }

  @Test
  void aCafileThatCannotBeReadOnlyCarriesNothingAndWarns() throws Exception {
    Files.writeString(dir.resolve("garbage-ca.pem"), "not a certificate\n");
    Sign.Result withCafile =
        sign(ENTITY, "rsa.pem", "rsa.key", Optional.of("cafile.pem"), true);
    assertEquals(List.of(), withCafile.warnings());
    assertEquals(2, withCafile.certificates(), "the signer and its intermediate from cafile");
    for (String cafile : List.of("missing-ca.pem", "garbage-ca.pem")) {
      Sign.Result r = sign(ENTITY, "rsa.pem", "rsa.key", Optional.of(cafile), true);
      assertEquals(1, r.warnings().size(), cafile);
      assertTrue(r.warnings().get(0).startsWith("cafile not used"), r.warnings().get(0));
      assertTrue(r.warnings().get(0).contains(cafile), r.warnings().get(0));
      assertEquals(1, r.certificates(), cafile + ": the signer alone");
    }
  }

  @Test
  void signerOutsideItsValidityIsRefusedAndNearExpiryIsWarned() throws Exception {
    X509Certificate leaf = keys.certificate(pki.path("rsa.pem"));
    Sign.Request request = new Sign.Request(ENTITY, pki.path("rsa.pem"), pki.path("rsa.key"),
        Optional.empty(), Optional.empty(), true);
    Instant notAfter = leaf.getNotAfter().toInstant();
    Instant notBefore = leaf.getNotBefore().toInstant();

    SmimeException expired = assertThrows(SmimeException.class,
        () -> new Sign(keys, at(notAfter.plusSeconds(1))).sign(request));
    assertEquals(Reason.EXPIRED, expired.reason());
    SmimeException early = assertThrows(SmimeException.class,
        () -> new Sign(keys, at(notBefore.minusSeconds(1))).sign(request));
    assertEquals(Reason.NOT_YET_VALID, early.reason());

    Sign.Result soon = new Sign(keys, at(notAfter.minus(Duration.ofDays(3)))).sign(request);
    assertEquals(1, soon.warnings().size());
    assertTrue(soon.warnings().get(0).contains("expires"), soon.warnings().get(0));
    assertEquals(List.of(), new Sign(keys, at(notBefore.plus(Duration.ofDays(1))))
        .sign(request).warnings());
  }

  private static Clock at(Instant instant) {
    return Clock.fixed(instant, ZoneOffset.UTC);
  }

  @Test
  void usageThatForbidsSigningIsRefused() {
    assertEquals(Reason.WRONG_USAGE, assertThrows(SmimeException.class,
        () -> sign("encOnly.pem", "encOnly.key")).reason());
    assertEquals(Reason.WRONG_USAGE, assertThrows(SmimeException.class,
        () -> sign("server.pem", "server.key")).reason());
  }

  @Test
  void ed25519SignsWithSha512AsRfc8419Says() throws Exception {
    Sign.Result r = sign(ENTITY, "ed25519.pem", "ed25519.key", Optional.of("cafile.pem"), true);
    assertEquals("sha-512", r.micalg());
    Parsed p = parse(r.message());
    assertEquals("sha-512", p.micalg());
    SignerInformation s = p.cms().getSignerInfos().getSigners().iterator().next();
    assertEquals("2.16.840.1.101.3.4.2.3", s.getDigestAlgOID());
    assertEquals("1.3.101.112", s.getEncryptionAlgOID());
    assertTrue(s.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider(BcProvider.get())
        .build(holder("ed25519.pem"))));
    assertEquals(Set.of(holder("ed25519.pem"), holder("int.pem")),
        Set.copyOf(p.cms().getCertificates().getMatches(null)));
  }

  @Test
  void everyByteValueSurvivesAndOpensslVerifiesIt() throws Exception {
    ByteArrayOutputStream entity = new ByteArrayOutputStream();
    entity.writeBytes("Content-Type: application/octet-stream\n\n"
        .getBytes(StandardCharsets.US_ASCII));
    for (int i = 0; i < 256; i++) {
      entity.write(i);
    }
    byte[] message = sign(entity.toByteArray(), "rsa-chain.pem", "rsa.key", Optional.empty(),
        true).message();
    byte[] first = parse(message).firstPart();
    assertArrayEquals(LineEnds.bareLfToCrlf(entity.toByteArray()), first);
    assertEquals(entity.size() + 3, first.length, "three bare LF became CRLF, nothing else");
    Openssl.Run v = opensslVerify(dir, message, "-CAfile", "root.pem");
    assertEquals(0, v.exit(), v.stderr());
    assertArrayEquals(first, v.stdout());
  }

  /**
   * The engine we replace, Crypt::SMIME (installed with Sympa), accepts what we sign. Its
   * {@code check} reads the message the way Sympa hands it over (LF line ends).
   */
  @Test
  void cryptSmimeChecksOurSignature() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(perlHasCryptSmime(),
        "Crypt::SMIME is not installed");
    for (String[] signer : List.of(new String[] {"rsa-chain.pem", "rsa.key"},
        new String[] {"ec.pem", "ec.key"})) {
      byte[] message = sign(ENTITY, signer[0], signer[1], Optional.of("cafile.pem"), true)
          .message();
      byte[] lf = new String(message, StandardCharsets.ISO_8859_1).replace("\r\n", "\n")
          .getBytes(StandardCharsets.ISO_8859_1);
      Path file = Files.createTempFile(dir, "perl", ".eml");
      Files.write(file, lf);
      Process p = new ProcessBuilder("perl", "-MCrypt::SMIME", "-e",
          "local $/; open my $f, '<', $ARGV[0] or die; my $m = <$f>;"
              + " my $s = Crypt::SMIME->new; $s->setPublicKeyStore($ARGV[1]);"
              + " my $c = $s->check($m); print length($c), ' ',"
              + " scalar @{Crypt::SMIME::getSigners($m)}, \"\\n\";",
          file.toString(), pki.path("root.pem").toString())
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      assertEquals(0, p.waitFor(), signer[0] + ": " + out);
      // check() returns the first part; one signer.
      assertEquals(LineEnds.bareLfToCrlf(ENTITY).length + " 1", out, signer[0]);
    }
  }

  private static boolean perlHasCryptSmime() throws Exception {
    try {
      return new ProcessBuilder("perl", "-MCrypt::SMIME", "-e", "1").start().waitFor() == 0;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
