package org.sympasmime.smime;

import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAESOAEPparams;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/** How {@code smime.encrypt} wraps the content key for an RSA recipient. */
public enum KeyTransport {
  /** RSA PKCS#1 v1.5, what Crypt::SMIME and every S/MIME client use. */
  RSA_PKCS1("rsa-pkcs1",
      new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE)),
  /** RSA-OAEP with SHA-1 and MGF1-SHA-1: the RFC 3560 defaults, written as empty parameters. */
  RSA_OAEP("rsa-oaep",
      new AlgorithmIdentifier(PKCSObjectIdentifiers.id_RSAES_OAEP, new RSAESOAEPparams())),
  /**
   * RSA-OAEP with SHA-256 and MGF1-SHA-256, which is what {@code openssl cms -keyopt
   * rsa_oaep_md:sha256} writes; the SHA-256 identifiers carry no parameters, as OpenSSL's do.
   */
  RSA_OAEP_SHA256("rsa-oaep-sha256",
      new AlgorithmIdentifier(PKCSObjectIdentifiers.id_RSAES_OAEP, new RSAESOAEPparams(
          new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256),
          new AlgorithmIdentifier(PKCSObjectIdentifiers.id_mgf1,
              new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256)),
          RSAESOAEPparams.DEFAULT_P_SOURCE_ALGORITHM)));

  private final String id;
  private final AlgorithmIdentifier algorithm;

  KeyTransport(String id, AlgorithmIdentifier algorithm) {
    this.id = id;
    this.algorithm = algorithm;
  }

  public String id() {
    return id;
  }

  /** The keyEncryptionAlgorithm written into the KeyTransRecipientInfo. */
  public AlgorithmIdentifier algorithm() {
    return algorithm;
  }

  public static KeyTransport forName(String name) throws SmimeException {
    for (KeyTransport k : values()) {
      if (k.id.equals(name)) {
        return k;
      }
    }
    throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM, "key transport " + name
        + " is not offered; use rsa-pkcs1, rsa-oaep or rsa-oaep-sha256");
  }
}
