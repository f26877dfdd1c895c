package org.sympasmime.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.junit.jupiter.api.Test;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;

class PemTest {
  @Test
  void aClearKeyThatDoesNotDecodeIsMalformedNotABadPassword() throws Exception {
    PrivateKeyInfo unknown = new PrivateKeyInfo(
        new AlgorithmIdentifier(new ASN1ObjectIdentifier("1.2.3.4.5")),
        new DEROctetString(new byte[] {1, 2, 3}));
    byte[] pem = Pem.encode("PRIVATE KEY", unknown.getEncoded())
        .getBytes(StandardCharsets.US_ASCII);
    for (Optional<String> password : java.util.List.of(Optional.<String>empty(),
        Optional.of("x"))) {
      SmimeException e = assertThrows(SmimeException.class, () -> Pem.privateKey(pem, password));
      assertEquals(Reason.MALFORMED_INPUT, e.reason(), e.getMessage());
    }
  }

  @Test
  void anEncryptedKeyThatDoesNotOpenIsABadPassword() {
    // An ENCRYPTED PRIVATE KEY block whose content is not a valid encryption: the password
    // cannot be told from the corruption, and a wrong password is by far the likelier.
    byte[] pem = ("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        + "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n"
        + "AAAAAAAAAAAAAAAAAAAAAA==\n-----END RSA PRIVATE KEY-----\n")
        .getBytes(StandardCharsets.US_ASCII);
    SmimeException e = assertThrows(SmimeException.class,
        () -> Pem.privateKey(pem, Optional.of("hunter2")));
    assertEquals(Reason.BAD_PASSWORD, e.reason());
    assertEquals("the private key does not open with key_passwd", e.getMessage());
  }
}
