package org.sympasmime.testutil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.sympasmime.pki.BcProvider;

/**
 * Certificates no well-behaved builder makes: a {@link TestCert}'s TBSCertificate edited field
 * by field and signed again, for what {@link CertSpec} cannot express (serial numbers of zero,
 * negative or over 20 octets; an extension present twice; a public key that does not decode;
 * a signature that is not one). The result is kept as raw DER inside the holder, so it is
 * exactly what a message would carry.
 */
public final class RawCerts {
  private RawCerts() {}

  /** TBSCertificate field indexes of a v3 certificate (field 0 is the [0] version). */
  public static final int SERIAL = 1;
  public static final int ISSUER = 3;
  public static final int SUBJECT = 5;
  public static final int SUBJECT_PUBLIC_KEY_INFO = 6;

  /**
   * {@code cert} with its TBSCertificate fields changed by {@code change} and signed again by
   * {@code signingKey} with {@code jcaAlgorithm} (which must match the signature field).
   */
  public static TestCert resign(TestCert cert, PrivateKey signingKey, String jcaAlgorithm,
      UnaryOperator<List<ASN1Encodable>> change) {
    try {
      return new TestCert(new X509CertificateHolder(
          resignedDer(cert, signingKey, jcaAlgorithm, change)), cert.keys());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * As {@link #resign}, as DER only: for certificates Bouncy Castle refuses to hold (an
   * extension twice).
   */
  public static byte[] resignedDer(TestCert cert, PrivateKey signingKey, String jcaAlgorithm,
      UnaryOperator<List<ASN1Encodable>> change) {
    try {
      ASN1Sequence tbs = ASN1Sequence.getInstance(
          cert.holder().toASN1Structure().getTBSCertificate().getEncoded(ASN1Encoding.DER));
      List<ASN1Encodable> fields = new ArrayList<>();
      tbs.forEach(fields::add);
      List<ASN1Encodable> changed = change.apply(fields);
      byte[] tbsDer = new DERSequence(changed.toArray(ASN1Encodable[]::new))
          .getEncoded(ASN1Encoding.DER);
      Signature sig = Signature.getInstance(jcaAlgorithm, BcProvider.get());
      sig.initSign(signingKey);
      sig.update(tbsDer);
      return assembleDer(tbsDer, AlgorithmIdentifier.getInstance(changed.get(2)), sig.sign());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * {@code cert} with the outer signatureAlgorithm replaced by {@code alg}, the TBSCertificate's
   * left as it is (RFC 5280 4.1.1.2: the two MUST be equal).
   */
  public static TestCert withAlgorithm(TestCert cert, AlgorithmIdentifier alg) {
    try {
      byte[] tbsDer = cert.holder().toASN1Structure().getTBSCertificate()
          .getEncoded(ASN1Encoding.DER);
      return assemble(tbsDer, alg, cert.holder().getSignature(), cert);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code cert} with its signature value replaced by {@code signature}, as given. */
  public static TestCert withSignature(TestCert cert, byte[] signature) {
    try {
      byte[] tbsDer = cert.holder().toASN1Structure().getTBSCertificate()
          .getEncoded(ASN1Encoding.DER);
      return assemble(tbsDer, cert.holder().getSignatureAlgorithm(), signature, cert);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A serial number change for {@link #resign}. */
  public static UnaryOperator<List<ASN1Encodable>> serial(java.math.BigInteger serial) {
    return fields -> {
      fields.set(SERIAL, new ASN1Integer(serial));
      return fields;
    };
  }

  /** A change of one TBSCertificate field for {@link #resign}. */
  public static UnaryOperator<List<ASN1Encodable>> field(int index, ASN1Encodable value) {
    return fields -> {
      fields.set(index, value);
      return fields;
    };
  }

  /** An extensions change for {@link #resign}: the extension at {@code index} appears twice. */
  public static UnaryOperator<List<ASN1Encodable>> duplicateExtension(int index) {
    return fields -> {
      int last = fields.size() - 1;
      ASN1TaggedObject tagged = ASN1TaggedObject.getInstance(fields.get(last));
      ASN1Sequence exts = ASN1Sequence.getInstance(tagged.getExplicitBaseObject());
      ASN1EncodableVector v = new ASN1EncodableVector();
      exts.forEach(v::add);
      v.add(exts.getObjectAt(index));
      fields.set(last, new DERTaggedObject(true, 3, new DERSequence(v)));
      return fields;
    };
  }

  /**
   * A CMS ContentInfo (SignedData) whose certificate {@code oldDer} is replaced by the raw
   * bytes {@code newDer}, which need not decode as a certificate Bouncy Castle accepts (a
   * certificate with an extension twice, say). The SignerInfos are left as they are.
   */
  public static byte[] replaceCertificate(byte[] contentInfo, byte[] oldDer, byte[] newDer) {
    try {
      ASN1Sequence ci = ASN1Sequence.getInstance(contentInfo);
      ASN1TaggedObject content = ASN1TaggedObject.getInstance(ci.getObjectAt(1));
      ASN1Sequence sd = ASN1Sequence.getInstance(content.getExplicitBaseObject());
      ASN1EncodableVector fields = new ASN1EncodableVector();
      boolean replaced = false;
      for (ASN1Encodable f : sd) {
        if (f instanceof ASN1TaggedObject t && t.getTagNo() == 0) {
          ASN1EncodableVector certs = new ASN1EncodableVector();
          for (ASN1Encodable c : org.bouncycastle.asn1.ASN1Set.getInstance(t, false)) {
            if (java.util.Arrays.equals(c.toASN1Primitive().getEncoded(ASN1Encoding.DER),
                oldDer)) {
              certs.add(org.bouncycastle.asn1.ASN1Primitive.fromByteArray(newDer));
              replaced = true;
            } else {
              certs.add(c);
            }
          }
          fields.add(new org.bouncycastle.asn1.DLTaggedObject(false, 0,
              new org.bouncycastle.asn1.DLSet(certs)));
        } else {
          fields.add(f);
        }
      }
      if (!replaced) {
        throw new IllegalArgumentException("certificate not in the SignedData");
      }
      ASN1EncodableVector out = new ASN1EncodableVector();
      out.add(ci.getObjectAt(0));
      out.add(new org.bouncycastle.asn1.DLTaggedObject(true, 0,
          new org.bouncycastle.asn1.DLSequence(fields)));
      return new org.bouncycastle.asn1.DLSequence(out).getEncoded(ASN1Encoding.DL);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static TestCert assemble(byte[] tbsDer, AlgorithmIdentifier alg, byte[] signature,
      TestCert like) throws IOException {
    return new TestCert(new X509CertificateHolder(assembleDer(tbsDer, alg, signature)),
        like.keys());
  }

  private static byte[] assembleDer(byte[] tbsDer, AlgorithmIdentifier alg, byte[] signature)
      throws IOException {
    ASN1EncodableVector v = new ASN1EncodableVector();
    v.add(ASN1Sequence.getInstance(tbsDer));
    v.add(alg);
    v.add(new DERBitString(signature));
    return new DERSequence(v).getEncoded(ASN1Encoding.DER);
  }
}
