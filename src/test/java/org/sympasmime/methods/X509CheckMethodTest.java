package org.sympasmime.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.Crls;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.rpc.RpcException;
import org.sympasmime.testutil.CertSpec;
import org.sympasmime.testutil.TestCert;
import org.sympasmime.testutil.TestKeys;

/** x509.check: the verifier's path validation and the encryptor's recipient check, per file. */
class X509CheckMethodTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static TestCert root;
  static Path cafile;

  @BeforeAll
  static void pki() throws Exception {
    root = CertSpec.ca("Check Root", TestKeys.rsa("check-root")).selfSigned();
    cafile = write("root.pem", root.pem());
  }

  private static Path write(String name, String text) throws Exception {
    return Files.writeString(dir.resolve(name), text, StandardCharsets.US_ASCII);
  }

  private static JsonNode check(Path file, String... extra) throws Exception {
    ObjectNode params = JSON.createObjectNode().put("path", file.toString())
        .put("cafile", cafile.toString());
    for (int i = 0; i < extra.length; i += 2) {
      params.put(extra[i], extra[i + 1]);
    }
    return new X509CheckMethod(new TrustStores(), new Crls(), new KeyMaterial()).handle(params);
  }

  @Test
  void aCertificateOfTheStoreSignsAndReceives() throws Exception {
    TestCert alice = CertSpec.leaf("Alice", "alice@example.org", TestKeys.rsa("check-alice"))
        .issuedBy(root);
    JsonNode out = check(write("alice", alice.pem()));
    assertEquals("sign", out.get("usage").asText());
    assertTrue(out.get("chain").get("valid").asBoolean(), out.toString());
    assertTrue(out.get("encrypt").get("usable").asBoolean(), out.toString());
    assertEquals("alice@example.org", out.get("certificate").get("emails").get(0).asText());
  }

  @Test
  void anotherRootIsUntrustedButStillReceives() throws Exception {
    TestCert other = CertSpec.ca("Other Root", TestKeys.rsa("check-other")).selfSigned();
    TestCert bob = CertSpec.leaf("Bob", "bob@example.org", TestKeys.rsa("check-bob"))
        .issuedBy(other);
    JsonNode out = check(write("bob", bob.pem()));
    assertFalse(out.get("chain").get("valid").asBoolean());
    assertEquals("untrusted_chain", out.get("chain").get("reason").asText());
    // smime.encrypt never asked for a trusted path, and neither does its verdict here.
    assertTrue(out.get("encrypt").get("usable").asBoolean());
  }

  @Test
  void anExpiredCertificateIsRefusedByBoth() throws Exception {
    Instant now = Instant.now();
    TestCert old = CertSpec.leaf("Old", "old@example.org", TestKeys.rsa("check-old"))
        .validity(now.minus(Duration.ofDays(400)), now.minus(Duration.ofDays(2)))
        .issuedBy(root);
    JsonNode out = check(write("old", old.pem()));
    assertEquals("expired", out.get("chain").get("reason").asText());
    assertEquals("expired", out.get("encrypt").get("reason").asText());
  }

  @Test
  void anEncryptionOnlyCertificateIsJudgedAsARecipient() throws Exception {
    TestCert enc = CertSpec.leaf("Enc", "enc@example.org", TestKeys.rsa("check-enc"))
        .with(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyEncipherment))
        .issuedBy(root);
    Path file = write("enc", enc.pem());
    JsonNode out = check(file);
    assertEquals("encrypt", out.get("usage").asText());
    assertTrue(out.get("chain").get("valid").asBoolean(), out.toString());
    assertTrue(out.get("encrypt").get("usable").asBoolean());
    // As a signer, the verifier's usage rule refuses it.
    JsonNode asSigner = check(file, "usage", "sign");
    assertEquals("wrong_usage", asSigner.get("chain").get("reason").asText());
  }

  @Test
  void aRecipientStillNeedsEmailProtection() throws Exception {
    TestCert server = CertSpec.leaf("Server", "server@example.org", TestKeys.rsa("check-srv"))
        .with(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyEncipherment))
        .with(Extension.extendedKeyUsage, false,
            new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
        .issuedBy(root);
    JsonNode out = check(write("server", server.pem()));
    assertEquals("encrypt", out.get("usage").asText());
    assertEquals("wrong_usage", out.get("chain").get("reason").asText());
    assertTrue(out.get("chain").get("detail").asText().contains("emailProtection"),
        out.toString());
  }

  @Test
  void aSignOnlyCertificateCannotReceive() throws Exception {
    TestCert sign = CertSpec.leaf("Sign", "sign@example.org", TestKeys.rsa("check-sign"))
        .with(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
        .issuedBy(root);
    JsonNode out = check(write("sign", sign.pem()));
    assertTrue(out.get("chain").get("valid").asBoolean());
    assertEquals("wrong_usage", out.get("encrypt").get("reason").asText());
  }

  @Test
  void badInputIsAnError() throws Exception {
    Path empty = write("empty", "no certificate here\n");
    SmimeException e = assertThrows(SmimeException.class, () -> check(empty));
    assertEquals("bad_certificate", e.reason().id());
    assertThrows(RpcException.class, () -> check(empty, "usage", "both"));
    assertThrows(RpcException.class, () -> new X509CheckMethod(new TrustStores(), new Crls(),
        new KeyMaterial()).handle(JSON.createObjectNode()));
  }
}
