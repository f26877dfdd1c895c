package org.sympasmime.smime;

import java.util.Optional;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

/**
 * The content-encryption algorithms we open, by the names of the protocol (OpenSSL's names).
 * CBC ciphers belong in EnvelopedData, GCM only in AuthEnvelopedData: GCM inside EnvelopedData
 * would drop the authentication tag.
 */
public enum ContentCipher {
  AES_128_CBC("aes-128-cbc", NISTObjectIdentifiers.id_aes128_CBC, 16, false, true),
  AES_192_CBC("aes-192-cbc", NISTObjectIdentifiers.id_aes192_CBC, 24, false, true),
  AES_256_CBC("aes-256-cbc", NISTObjectIdentifiers.id_aes256_CBC, 32, false, true),
  DES_EDE3_CBC("des-ede3-cbc", PKCSObjectIdentifiers.des_EDE3_CBC, 24, false, false),
  AES_128_GCM("aes-128-gcm", NISTObjectIdentifiers.id_aes128_GCM, 16, true, true),
  AES_192_GCM("aes-192-gcm", NISTObjectIdentifiers.id_aes192_GCM, 24, true, false),
  AES_256_GCM("aes-256-gcm", NISTObjectIdentifiers.id_aes256_GCM, 32, true, true);

  /** Ciphers we refuse by name, with the reason given to the client. */
  private static final ASN1ObjectIdentifier DES_CBC = new ASN1ObjectIdentifier("1.3.14.3.2.7");
  private static final ASN1ObjectIdentifier CHACHA20_POLY1305 =
      new ASN1ObjectIdentifier("1.2.840.113549.1.9.16.3.18");

  private final String id;
  private final ASN1ObjectIdentifier oid;
  private final int keyBytes;
  private final boolean aead;
  private final boolean encryptable;

  ContentCipher(String id, ASN1ObjectIdentifier oid, int keyBytes, boolean aead,
      boolean encryptable) {
    this.id = id;
    this.oid = oid;
    this.keyBytes = keyBytes;
    this.aead = aead;
    this.encryptable = encryptable;
  }

  /** The protocol name, e.g. {@code aes-128-cbc}. */
  public String id() {
    return id;
  }

  public ASN1ObjectIdentifier oid() {
    return oid;
  }

  /** The content-encryption key length the OID promises. */
  public int keyBytes() {
    return keyBytes;
  }

  /** True for the AEAD ciphers, which live in AuthEnvelopedData. */
  public boolean aead() {
    return aead;
  }

  /** The cipher {@code smime.encrypt} offers under the protocol name. */
  public static ContentCipher forEncryption(String name) throws SmimeException {
    for (ContentCipher c : values()) {
      if (c.encryptable && c.id.equals(name)) {
        return c;
      }
    }
    throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM, "cipher " + name
        + " is not offered; use aes-128-cbc, aes-192-cbc, aes-256-cbc, aes-128-gcm or aes-256-gcm");
  }

  /**
   * The cipher a received message names, checked against the structure that carries it.
   *
   * @param authenticated true for AuthEnvelopedData
   */
  public static ContentCipher forDecryption(ASN1ObjectIdentifier oid, boolean authenticated)
      throws SmimeException {
    Optional<ContentCipher> known = byOid(oid);
    if (known.isEmpty()) {
      throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM, refusal(oid));
    }
    ContentCipher c = known.get();
    if (c.aead != authenticated) {
      throw new SmimeException(Reason.UNSUPPORTED_ALGORITHM, authenticated
          ? "AuthEnvelopedData with the non-AEAD cipher " + c.id + " is refused"
          : "EnvelopedData with the AEAD cipher " + c.id
              + " is refused (GCM belongs in AuthEnvelopedData)");
    }
    return c;
  }

  private static Optional<ContentCipher> byOid(ASN1ObjectIdentifier oid) {
    for (ContentCipher c : values()) {
      if (c.oid.equals(oid)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }

  private static String refusal(ASN1ObjectIdentifier oid) {
    if (PKCSObjectIdentifiers.RC2_CBC.equals(oid)) {
      return "content cipher RC2-CBC is refused: it is weak and obsolete";
    }
    if (DES_CBC.equals(oid)) {
      return "content cipher DES-CBC (single DES) is refused: its 56-bit key is broken";
    }
    if (CHACHA20_POLY1305.equals(oid)) {
      return "content cipher ChaCha20-Poly1305 is not supported";
    }
    return "content cipher " + oid.getId() + " is not supported";
  }
}
