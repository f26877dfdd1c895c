package org.sympasmime.smime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.mail.Session;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JceKeyTransEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyTransRecipientId;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.mail.smime.SMIMEEnveloped;
import org.bouncycastle.mail.smime.SMIMESigned;
import org.bouncycastle.util.Store;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.testutil.TestPki;

/**
 * What {@code smime.sign} and {@code smime.encrypt} write, read back by an independent S/MIME
 * stack: Jakarta Mail (Angus) parses the MIME, Bouncy Castle's S/MIME-for-Jakarta-Mail
 * ({@code bcjmail}) checks the signature and opens the envelope. Neither shares code with our
 * template writer or our MIME reader, so a structure only we can read fails here.
 */
class IndependentMimeReaderTest {
  private static final byte[] ENTITY = ("Content-Type: text/plain; charset=utf-8\r\n"
      + "Content-Transfer-Encoding: 8bit\r\n"
      + "\r\n"
      + "Hello from the list, caf\u00e9.\r\n").getBytes(StandardCharsets.UTF_8);

  @TempDir static Path dir;
  private static SignTestPki signing;
  private static final KeyMaterial KEYS = new KeyMaterial();

  @BeforeAll
  static void pki() throws Exception {
    signing = new SignTestPki(dir);
  }

  private static MimeMessage read(byte[] message) throws Exception {
    return new MimeMessage(Session.getInstance(new Properties()),
        new ByteArrayInputStream(message));
  }

  @Test
  void aListSignatureVerifiesWithJakartaMailAndBcjmail() throws Exception {
    Sign.Result signed = new Sign(KEYS).sign(new Sign.Request(ENTITY,
        signing.path("rsa-chain.pem"), signing.path("rsa.key"), Optional.empty(),
        Optional.empty(), true));
    MimeMessage message = read(signed.message());
    assertTrue(message.isMimeType("multipart/signed"), message.getContentType());
    SMIMESigned smime = new SMIMESigned((MimeMultipart) message.getContent());

    Store<X509CertificateHolder> certs = smime.getCertificates();
    Collection<SignerInformation> signers = smime.getSignerInfos().getSigners();
    assertEquals(1, signers.size());
    for (SignerInformation signer : signers) {
      @SuppressWarnings("unchecked")
      X509CertificateHolder cert =
          (X509CertificateHolder) certs.getMatches(signer.getSID()).iterator().next();
      assertTrue(signer.verify(new JcaSimpleSignerInfoVerifierBuilder().build(cert)));
    }
    MimeBodyPart content = smime.getContent();
    ByteArrayOutputStream written = new ByteArrayOutputStream();
    content.writeTo(written);
    assertArrayEquals(ENTITY, written.toByteArray());
  }

  @Test
  void anEncryptedCopyOpensWithJakartaMailAndBcjmail() throws Exception {
    TestPki pki = TestPki.get();
    Encrypt.Result encrypted = new Encrypt(KEYS).encrypt(Encrypt.Request.of(ENTITY,
        List.of(new Encrypt.FromPath(pki.cert("alice")))));
    SMIMEEnveloped enveloped = new SMIMEEnveloped(read(encrypted.message()));

    X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(Files.newInputStream(pki.cert("alice")));
    PrivateKey key = KEYS.privateKey(pki.key("alice"), Optional.empty());
    RecipientInformation recipient =
        enveloped.getRecipientInfos().get(new JceKeyTransRecipientId(cert));
    byte[] opened = recipient.getContent(new JceKeyTransEnvelopedRecipient(key));
    assertArrayEquals(ENTITY, opened);
  }
}
