package org.sympasmime.testutil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.SignerInfoGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.sympasmime.pki.BcProvider;

/** multipart/signed messages made with Bouncy Castle from {@link TestCert}s. */
public final class SignedMessages {
  /** The signed entity of every message here: small, already in canonical CRLF form. */
  public static final byte[] ENTITY = ("Content-Type: text/plain; charset=us-ascii\r\n\r\n"
      + "Please post this to the list.\r\n").getBytes(StandardCharsets.US_ASCII);

  private SignedMessages() {}

  /**
   * {@link #ENTITY} signed by {@code signer} with the default algorithm of its key, carrying
   * the signer's certificate and then {@code carried} (intermediates) in that order.
   */
  public static byte[] multipartSigned(TestCert signer, List<X509CertificateHolder> carried) {
    return multipartSigned(signer, carried,
        CertSpec.defaultAlgorithm(signer.keys().getPrivate()), 1);
  }

  /**
   * As above with the SignerInfo's algorithm named, and {@code signerInfos} identical
   * SignerInfos (each a separate signature over the same content).
   */
  public static byte[] multipartSigned(TestCert signer, List<X509CertificateHolder> carried,
      String algorithm, int signerInfos) {
    return SignedMailPki.multipartSigned(ENTITY, cms(signer, carried, algorithm, signerInfos));
  }

  /** The detached CMS SignedData (DER ContentInfo) of {@link #multipartSigned}. */
  public static byte[] cms(TestCert signer, List<X509CertificateHolder> carried,
      String algorithm, int signerInfos) {
    try {
      CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
      for (int i = 0; i < signerInfos; i++) {
        SignerInfoGenerator sig = new JcaSignerInfoGeneratorBuilder(
            new JcaDigestCalculatorProviderBuilder().setProvider(BcProvider.get()).build())
            .build(new JcaContentSignerBuilder(algorithm).setProvider(BcProvider.get())
                .build(signer.keys().getPrivate()), signer.holder());
        gen.addSignerInfoGenerator(sig);
      }
      gen.addCertificate(signer.holder());
      for (X509CertificateHolder c : carried) {
        gen.addCertificate(c);
      }
      return gen.generate(new CMSProcessableByteArray(ENTITY), false).getEncoded();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (OperatorCreationException | CMSException e) {
      throw new IllegalStateException(e);
    }
  }
}
