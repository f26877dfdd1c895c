package org.sympasmime.pki;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CRLException;
import java.security.cert.CertificateException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.X509TrustedCertificateBlock;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.mime.MimeBase64;

/**
 * Reading and writing PEM as OpenSSL does: certificates and private keys in any of the forms
 * Sympa admins have on disk (PKCS#8, traditional, encrypted or not), and certificates written
 * back byte-identical to {@code openssl x509} (LF, 64-column base64).
 */
public final class Pem {
  private Pem() {}

  /**
   * Every certificate in {@code bytes}, in file order. PEM blocks {@code CERTIFICATE},
   * {@code X509 CERTIFICATE} and {@code TRUSTED CERTIFICATE} are read and other blocks skipped;
   * input without any PEM block is tried as one DER certificate.
   */
  public static List<X509Certificate> certificates(byte[] bytes) throws SmimeException {
    List<X509Certificate> out = new ArrayList<>();
    boolean sawPem = false;
    try (PEMParser parser = parser(bytes)) {
      Object o;
      while ((o = readObject(parser)) != null) {
        sawPem = true;
        if (o instanceof X509CertificateHolder holder) {
          out.add(convert(holder));
        } else if (o instanceof X509TrustedCertificateBlock trusted) {
          out.add(convert(trusted.getCertificateHolder()));
        }
      }
    } catch (IOException e) {
      // Not the parser's message: the file may hold a private key next to the certificate.
      throw new SmimeException(Reason.BAD_CERTIFICATE, "cannot read certificate: corrupt PEM");
    }
    if (!sawPem && bytes.length > 0 && bytes[0] == 0x30) {
      try {
        out.add(convert(new X509CertificateHolder(bytes)));
      } catch (IOException | RuntimeException e) {
        throw new SmimeException(Reason.BAD_CERTIFICATE, "not a PEM or DER certificate");
      }
    }
    return out;
  }

  /**
   * Every CRL in {@code bytes}, in file order: PEM {@code X509 CRL} blocks (other blocks are
   * skipped), or, without any PEM block, one DER CRL. Bytes that are neither give an empty list;
   * a CRL block that does not decode is {@code malformed_input}.
   */
  public static List<X509CRL> crls(byte[] bytes) throws SmimeException {
    List<X509CRL> out = new ArrayList<>();
    boolean sawPem = false;
    try (PEMParser parser = parser(bytes)) {
      Object o;
      while ((o = readObject(parser)) != null) {
        sawPem = true;
        if (o instanceof X509CRLHolder holder) {
          out.add(convert(holder));
        }
      }
    } catch (IOException e) {
      throw new SmimeException(Reason.MALFORMED_INPUT, "corrupt PEM block");
    }
    if (!sawPem && bytes.length > 0 && bytes[0] == 0x30) {
      X509CRLHolder holder;
      try {
        holder = new X509CRLHolder(bytes);
      } catch (IOException | RuntimeException e) {
        return out; // DER, but not a CRL: a certificate, a key...
      }
      out.add(convert(holder));
    }
    return out;
  }

  /**
   * The first private key in {@code bytes}. Encrypted keys (PKCS#8 or OpenSSL's
   * {@code Proc-Type: 4,ENCRYPTED}) are opened with {@code password}; without one the empty
   * password is tried, as Crypt::SMIME does. A password given for a clear key is ignored.
   */
  public static PrivateKey privateKey(byte[] bytes, Optional<String> password)
      throws SmimeException {
    char[] pw = password.orElse("").toCharArray();
    boolean sawPem = false;
    try (PEMParser parser = parser(bytes)) {
      Object o;
      while ((o = readObject(parser)) != null) {
        sawPem = true;
        if (o instanceof PrivateKeyInfo info) {
          return convert(info);
        } else if (o instanceof PEMKeyPair pair) {
          return convert(pair.getPrivateKeyInfo());
        } else if (o instanceof PEMEncryptedKeyPair encrypted) {
          return convert(decrypt(() -> encrypted.decryptKeyPair(
              new JcePEMDecryptorProviderBuilder().setProvider(BcProvider.get()).build(pw))
              .getPrivateKeyInfo(), password));
        } else if (o instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
          return convert(decrypt(() -> encrypted.decryptPrivateKeyInfo(
              new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BcProvider.get())
                  .build(pw)), password));
        }
      }
    } catch (IOException e) {
      throw new SmimeException(Reason.MALFORMED_INPUT, "cannot read private key");
    }
    if (!sawPem && bytes.length > 0 && bytes[0] == 0x30) {
      try {
        return convert(PrivateKeyInfo.getInstance(bytes));
      } catch (RuntimeException e) {
        throw new SmimeException(Reason.MALFORMED_INPUT, "not a PEM or DER private key");
      }
    }
    throw new SmimeException(Reason.MALFORMED_INPUT, "no private key found");
  }

  @FunctionalInterface
  private interface Decryption {
    PrivateKeyInfo run() throws Exception;
  }

  /** Opens an encrypted key; any failure there means the password does not fit. */
  private static PrivateKeyInfo decrypt(Decryption decryption, Optional<String> password)
      throws SmimeException {
    try {
      return decryption.run();
    } catch (Exception e) {
      // Deliberately no cause and no detail: the message of a failed decryption can carry
      // fragments of key material.
      throw new SmimeException(Reason.BAD_PASSWORD, password.isPresent()
          ? "the private key does not open with key_passwd"
          : "the private key is encrypted and no key_passwd is set");
    }
  }

  /** A clear key that does not convert is corrupt, not a password problem. */
  private static PrivateKey convert(PrivateKeyInfo info) throws SmimeException {
    try {
      return new JcaPEMKeyConverter().setProvider(BcProvider.get()).getPrivateKey(info);
    } catch (PEMException | RuntimeException e) {
      throw new SmimeException(Reason.MALFORMED_INPUT, "the private key does not decode");
    }
  }

  /** PEM exactly as {@code openssl x509} writes it: LF line ends, 64 columns, final LF. */
  public static String encode(X509Certificate cert) {
    try {
      return encode("CERTIFICATE", cert.getEncoded());
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("a parsed certificate cannot be re-encoded", e);
    }
  }

  public static String encode(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n" + MimeBase64.encode(der, "\n")
        + "-----END " + label + "-----\n";
  }

  private static PEMParser parser(byte[] bytes) {
    Reader reader =
        new InputStreamReader(new ByteArrayInputStream(bytes), StandardCharsets.ISO_8859_1);
    return new PEMParser(reader);
  }

  /** PEMParser throws on a corrupt block; treat that block as unreadable, not the whole file. */
  private static Object readObject(PEMParser parser) throws IOException {
    try {
      return parser.readObject();
    } catch (RuntimeException e) {
      throw new IOException("corrupt PEM block", e);
    }
  }

  private static X509CRL convert(X509CRLHolder holder) throws SmimeException {
    try {
      X509CRL crl = new JcaX509CRLConverter().setProvider(BcProvider.get()).getCRL(holder);
      // Entries and extensions decode lazily and throw unchecked: decode them here, once.
      crl.getRevokedCertificates();
      crl.getCriticalExtensionOIDs();
      return crl;
    } catch (CRLException | RuntimeException e) {
      throw new SmimeException(Reason.MALFORMED_INPUT, "cannot decode CRL");
    }
  }

  private static X509Certificate convert(X509CertificateHolder holder) throws SmimeException {
    try {
      return new JcaX509CertificateConverter().setProvider(BcProvider.get()).getCertificate(holder);
    } catch (CertificateException e) {
      throw new SmimeException(Reason.BAD_CERTIFICATE, "cannot decode certificate");
    }
  }
}
