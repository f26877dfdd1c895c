package org.sympasmime.testutil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.sympasmime.pki.BcProvider;
import org.sympasmime.pki.Pem;

/**
 * A certificate made by {@link CertSpec} and the key pair it certifies. Kept as Bouncy Castle's
 * holder, which does not decode extensions: a certificate with a malformed keyUsage or
 * basicConstraints is exactly what some tests need, and the JCA form refuses to exist then.
 */
public record TestCert(X509CertificateHolder holder, KeyPair keys) {
  public X500Name subject() {
    return holder.getSubject();
  }

  /** The JCA certificate; fails on certificates the JCA cannot decode. */
  public X509Certificate cert() {
    try {
      return new JcaX509CertificateConverter().setProvider(BcProvider.get()).getCertificate(holder);
    } catch (CertificateException e) {
      throw new IllegalStateException(e);
    }
  }

  public byte[] der() {
    try {
      return holder.getEncoded();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String pem() {
    return Pem.encode("CERTIFICATE", der());
  }

  /** The PEM bundle of {@code certs}, in order. */
  public static String pems(List<TestCert> certs) {
    StringBuilder s = new StringBuilder();
    certs.forEach(c -> s.append(c.pem()));
    return s.toString();
  }
}
