package org.sympasmime.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sympasmime.testutil.SignedMailPki.bytes;
import static org.sympasmime.testutil.SignedMailPki.text;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.smime.Verify;
import org.sympasmime.testutil.SignedMailPki;

/**
 * x509.parse formats, checked byte for byte against the real Crypt::OpenSSL::X509 (run with
 * perl at test time) on the test PKI and on every certificate of the corpus.
 */
class CertificateInfoTest {
  private static final String PERL = String.join("\n",
      "use strict; use warnings; use Crypt::OpenSSL::X509; binmode STDOUT;",
      "my @ku = ('Digital Signature','Non Repudiation','Key Encipherment','Data Encipherment',",
      "  'Key Agreement','Certificate Sign','CRL Sign','Encipher Only','Decipher Only');",
      "for my $arg (@ARGV) {",
      "  my ($fmt, $f) = split /:/, $arg, 2;",
      "  my $x = eval { $fmt eq 'der'",
      "    ? Crypt::OpenSSL::X509->new_from_file($f, Crypt::OpenSSL::X509::FORMAT_ASN1)",
      "    : Crypt::OpenSSL::X509->new_from_file($f) };",
      "  my @v = ('ERROR');",
      "  if ($x) {",
      "    @v = ($x->subject, $x->issuer, $x->notBefore, $x->notAfter, $x->email // '',",
      "      $x->serial, $x->fingerprint_sha1, $x->fingerprint_sha256);",
      "    my $exts = eval { $x->extensions_by_name };",
      "    my $bits = '-';",
      "    if ($exts && $exts->{keyUsage}) {",
      "      my %h = $exts->{keyUsage}->hash_bit_string; $bits = join '', map { $h{$_} } @ku; }",
      "    push @v, $bits;",
      "  }",
      "  for (@v) { utf8::encode($_) if utf8::is_utf8($_) }",
      "  print join(\"\\x1f\", @v), \"\\x1e\";",
      "}");

  /** One certificate file as Crypt::OpenSSL::X509 reads it. */
  record Source(Path file, boolean der) {}

  static List<List<String>> perl(List<Source> sources) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("perl", "-e", PERL));
    for (Source s : sources) {
      cmd.add((s.der() ? "der:" : "pem:") + s.file());
    }
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertEquals(0, p.waitFor(), "perl Crypt::OpenSSL::X509 failed");
    List<List<String>> records = new ArrayList<>();
    for (String rec : new String(out, StandardCharsets.UTF_8).split("\u001e", -1)) {
      if (!rec.isEmpty() || records.size() < sources.size()) {
        records.add(List.of(rec.split("\u001f", -1)));
      }
    }
    return records.subList(0, sources.size());
  }

  static CertificateInfo ours(Source s) throws Exception {
    byte[] bytes = Files.readAllBytes(s.file());
    X509Certificate cert = s.der() ? Pem.certificates(bytes).get(0) : X509Reader.first(bytes);
    return CertificateInfo.of(cert);
  }

  static void assertSameAsPerl(List<Source> sources) throws Exception {
    List<List<String>> expected = perl(sources);
    for (int i = 0; i < sources.size(); i++) {
      Source s = sources.get(i);
      List<String> want = expected.get(i);
      String where = s.file().toString();
      assertFalse(want.get(0).equals("ERROR"), "perl could not read " + where);
      CertificateInfo got = ours(s);
      assertEquals(want.get(0), got.subject(), "subject " + where);
      assertEquals(want.get(1), got.issuer(), "issuer " + where);
      assertEquals(want.get(2), got.notBefore(), "notBefore " + where);
      assertEquals(want.get(3), got.notAfter(), "notAfter " + where);
      if (!s.file().getFileName().toString().equals("mbox.crt")) {
        assertEquals(want.get(4), String.join(" ", got.emails()), "email " + where);
      }
      assertEquals(want.get(5), got.serial(), "serial " + where);
      assertEquals(want.get(6), got.fingerprintSha1(), "sha1 " + where);
      assertEquals(want.get(7), got.fingerprintSha256(), "sha256 " + where);
      String bits = got.keyUsage().map(ku -> {
        StringBuilder b = new StringBuilder();
        ku.values().forEach(v -> b.append(v ? '1' : '0'));
        return b.toString();
      }).orElse("-");
      assertEquals(want.get(8), bits, "keyUsage " + where);
      if (!bits.equals("-")) {
        assertEquals(bits.charAt(0) == '1', got.legacyPurpose().sign(), where);
        assertEquals(bits.charAt(2) == '1', got.legacyPurpose().enc(), where);
      }
    }
  }

  @Test
  void testPkiMatchesCryptOpensslX509() throws Exception {
    List<Source> sources = new ArrayList<>();
    try (Stream<Path> s = Files.list(SignedMailPki.dir())) {
      s.filter(p -> p.toString().endsWith(".crt")).sorted()
          .forEach(p -> sources.add(new Source(p, false)));
    }
    assertTrue(sources.size() >= 25, "test PKI certificates: " + sources.size());
    assertSameAsPerl(sources);
  }

  @Test
  void corpusMatchesCryptOpensslX509(@TempDir Path tmp) throws Exception {
    String dir = System.getProperty("corpus.dir");
    org.junit.jupiter.api.Assumptions.assumeTrue(dir != null && Files.isDirectory(Path.of(dir)));
    List<Source> sources = new ArrayList<>();
    List<Path> messages = new ArrayList<>();
    try (Stream<Path> s = Files.walk(Path.of(dir))) {
      for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
        String name = p.getFileName().toString();
        byte[] b = Files.readAllBytes(p);
        String text = new String(b, StandardCharsets.ISO_8859_1);
        if (name.matches(".*\\.(crt|cer|pem)")) {
          if (text.contains("-----BEGIN CERTIFICATE-----")) {
            sources.add(new Source(p, false));
          } else if (name.endsWith(".cer") && b.length > 0 && b[0] == 0x30) {
            sources.add(new Source(p, true));
          }
        } else if (name.endsWith(".eml") || name.endsWith(".message")) {
          messages.add(p);
        }
      }
    }
    // Certificates carried by the signed messages.
    Verify verifier = new Verify(new TrustStores());
    Map<String, Path> embedded = new LinkedHashMap<>();
    for (Path m : messages) {
      Verify.Result r;
      try {
        r = verifier.verify(new Verify.Request(Files.readAllBytes(m),
            Optional.of(SignedMailPki.path("root.crt")), Optional.empty(), Optional.empty()));
      } catch (SmimeException e) {
        continue;
      }
      for (X509Certificate c : r.certificates()) {
        String pem = Pem.encode(c);
        embedded.computeIfAbsent(pem, k -> {
          Path f = tmp.resolve("embedded-" + embedded.size() + ".pem");
          write(f, k);
          return f;
        });
      }
    }
    embedded.values().forEach(f -> sources.add(new Source(f, false)));
    assertTrue(sources.size() >= 60, "corpus certificates: " + sources.size());
    assertSameAsPerl(sources);
  }

  private static void write(Path f, String s) {
    try {
      Files.writeString(f, s);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void formatsFromTheBehaviourDocument() throws Exception {
    CertificateInfo uni = CertificateInfo.of(X509Reader.first(bytes("uni.crt")));
    assertEquals("C=FR, OU=Dépt + O=Université, Test, CN=Zoë Ünicode, emailAddress=zoe@example.org",
        uni.subject());
    CertificateInfo attrs = CertificateInfo.of(X509Reader.first(bytes("attrs.crt")));
    assertEquals("DC=org, DC=example, C=FR, ST=Ile-de-France, L=Paris, street=1 rue X,"
        + " postalCode=75001, O=Org, Inc., OU=Unit A, OU=Unit B, title=Dr, GN=Jean, SN=Dupont,"
        + " serialNumber=12345, UID=jdupont, CN=Jean \"JD\" Dupont, emailAddress=jd@example.org",
        attrs.subject());
    assertEquals(List.of("jd@example.org", "JD@example.org"), attrs.emails());
    assertEquals(List.of("alice@example.org", "bob@example.org", "zed@example.org",
        "carol@example.org"), info("order.crt").emails());
    assertEquals(List.of("zed@example.org", "bob@example.org"), info("order2.crt").emails());
    assertEquals(List.of("Multi@Example.org", "Second@Example.org", "multi@example.org",
        "third@example.org", "not-an-email"), info("multi.crt").emails());
    assertEquals("Jan  1 00:00:00 2021 GMT", info("expired.crt").notAfter());
    assertEquals("", info("emptysubj.crt").subject());
  }

  @Test
  void smtpUtf8MailboxComesLast() throws Exception {
    assertEquals(List.of("ascii@example.org", "jöe@exämple.org"), info("mbox.crt").emails());
  }

  @Test
  void purposes() throws Exception {
    record Case(String cert, boolean sign, boolean enc, boolean legacySign, boolean legacyEnc) {}
    for (Case c : List.of(
        new Case("alice.crt", true, true, true, true),
        new Case("ec.crt", true, true, true, false),
        new Case("ed.crt", true, false, true, false),
        new Case("nronly.crt", true, false, false, false),
        new Case("enconly.crt", false, true, false, true),
        new Case("noku.crt", true, true, false, false),
        new Case("noext.crt", true, true, false, false),
        new Case("root.crt", false, false, false, false))) {
      CertificateInfo i = info(c.cert());
      assertEquals(new CertificateInfo.Purpose(c.sign(), c.enc()), i.purpose(), c.cert());
      assertEquals(new CertificateInfo.Purpose(c.legacySign(), c.legacyEnc()),
          i.legacyPurpose(), c.cert());
    }
    assertTrue(info("noku.crt").keyUsage().isEmpty());
    assertTrue(info("noext.crt").extendedKeyUsage().isEmpty());
    assertEquals(List.of("emailProtection"), info("alice.crt").extendedKeyUsage().orElseThrow());
    assertEquals(List.of("serverAuth"), info("serverauth.crt").extendedKeyUsage().orElseThrow());
    assertEquals(List.of("anyExtendedKeyUsage"), info("anyeku.crt").extendedKeyUsage().get());
    Map<String, Boolean> ku = info("ec.crt").keyUsage().orElseThrow();
    assertEquals(List.copyOf(CertificateInfo.KEY_USAGE_NAMES), List.copyOf(ku.keySet()));
    assertTrue(ku.get("digitalSignature") && ku.get("keyAgreement") && !ku.get("keyEncipherment"));
  }

  @Test
  void keysAndPem() throws Exception {
    CertificateInfo alice = info("alice.crt");
    assertEquals("RSA", alice.keyAlgorithm());
    assertEquals(2048, alice.keySize());
    assertTrue(alice.curve().isEmpty());
    assertEquals(text("alice.crt"), alice.pem());
    CertificateInfo ec = info("ec.crt");
    assertEquals("EC", ec.keyAlgorithm());
    assertEquals(256, ec.keySize());
    assertEquals("prime256v1", ec.curve().orElseThrow());
    assertEquals("Ed25519", info("ed.crt").keyAlgorithm());
  }

  @Test
  void readerTakesTheFirstCertificateBlockOnly() throws Exception {
    String two = "junk before\r\n" + text("bob.crt").replace("\n", "\r\n") + text("alice.crt");
    assertEquals(info("bob.crt").subject(), CertificateInfo.of(X509Reader.first(
        two.getBytes(StandardCharsets.US_ASCII))).subject());
    byte[] der = Pem.certificates(bytes("alice.crt")).get(0).getEncoded();
    for (byte[] bad : List.of(der, "garbage".getBytes(StandardCharsets.US_ASCII),
        text("alice.crt").replace("CERTIFICATE", "TRUSTED CERTIFICATE")
            .getBytes(StandardCharsets.US_ASCII),
        bytes("alice.key"))) {
      SmimeException e = assertThrows(SmimeException.class, () -> X509Reader.first(bad));
      assertEquals(Reason.BAD_CERTIFICATE, e.reason());
    }
  }

  static CertificateInfo info(String name) throws Exception {
    return CertificateInfo.of(X509Reader.first(bytes(name)));
  }
}
