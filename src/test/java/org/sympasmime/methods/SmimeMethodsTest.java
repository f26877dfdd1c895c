package org.sympasmime.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.rpc.Handler;
import org.sympasmime.rpc.MethodTable;
import org.sympasmime.rpc.RpcException;
import org.sympasmime.rpc.Stats;
import org.sympasmime.testutil.Openssl;
import org.sympasmime.testutil.TestPki;

/** The JSON side of smime.encrypt and smime.decrypt, through the registry. */
class SmimeMethodsTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static TestPki pki;
  static Handler encrypt;
  static Handler decrypt;

  @BeforeAll
  static void setUp() {
    assumeTrue(Openssl.available(), "openssl CLI not available");
    pki = TestPki.get();
    MethodTable table = Registry.build(new KeyMaterial(), new Stats());
    encrypt = table.find("smime.encrypt").orElseThrow();
    decrypt = table.find("smime.decrypt").orElseThrow();
  }

  static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  @Test
  void roundTripThroughJson() throws Exception {
    byte[] entity = "Content-Type: text/plain\n\nHi\n".getBytes(StandardCharsets.US_ASCII);
    ObjectNode enc = JSON.createObjectNode();
    enc.put("entity_b64", b64(entity));
    enc.putArray("recipients").addObject().put("path", pki.cert("alice").toString());
    enc.put("cipher", "aes-256-gcm");
    enc.put("key_transport", "rsa-oaep-sha256");
    JsonNode out = encrypt.handle(enc);
    assertEquals("authEnveloped-data", out.get("smime_type").asText());
    byte[] message = Base64.getDecoder().decode(out.get("message_b64").asText());

    ObjectNode dec = JSON.createObjectNode();
    dec.put("message_b64", b64(message));
    ObjectNode pair = dec.putArray("keys").addObject();
    pair.put("cert", pki.cert("alice").toString());
    pair.put("key", pki.path("alice.p8enc.key").toString());
    dec.put("key_passwd", TestPki.PASSWORD);
    JsonNode result = decrypt.handle(dec);
    assertArrayEquals("Content-Type: text/plain\r\n\r\nHi\r\n".getBytes(StandardCharsets.US_ASCII),
        Base64.getDecoder().decode(result.get("entity_b64").asText()));
    assertEquals(pki.cert("alice").toString(), result.get("cert").asText());
    assertEquals("aes-256-gcm", result.get("content_encryption").asText());
    assertTrue(result.get("authenticated").asBoolean());
    assertEquals(4, result.size());
  }

  @Test
  void binaryAndAtTimeAndPem() throws Exception {
    byte[] entity = {'a', '\n', 'b', '\r', 0, (byte) 0xff};
    ObjectNode enc = JSON.createObjectNode();
    enc.put("entity_b64", b64(entity));
    enc.putArray("recipients").addObject().put("pem", pki.pem("expired"));
    enc.put("binary", true);
    enc.put("at_time", 1590969600L); // 2020-06-01, inside the expired certificate's validity
    byte[] message = Base64.getDecoder().decode(encrypt.handle(enc).get("message_b64").asText());
    assertArrayEquals(entity, Openssl.run(pki.dir(), message, "cms", "-decrypt", "-recip",
        "expired.crt", "-inkey", "alice.key").check().stdout());
    enc.remove("at_time");
    assertEquals(Reason.EXPIRED,
        assertThrows(SmimeException.class, () -> encrypt.handle(enc)).reason());
  }

  @Test
  void badParams() {
    ObjectNode enc = JSON.createObjectNode();
    enc.put("entity_b64", b64(new byte[] {'x'}));
    ObjectNode both = enc.putArray("recipients").addObject();
    both.put("path", pki.cert("alice").toString());
    both.put("pem", pki.pem("alice"));
    assertEquals(RpcException.INVALID_PARAMS,
        assertThrows(RpcException.class, () -> encrypt.handle(enc)).errorCode());
    enc.putArray("recipients");
    assertEquals(Reason.NO_RECIPIENTS,
        assertThrows(SmimeException.class, () -> encrypt.handle(enc)).reason());
    enc.putArray("recipients").addObject().put("path", pki.cert("alice").toString());
    enc.put("cipher", "rc2-40-cbc");
    assertEquals(Reason.UNSUPPORTED_ALGORITHM,
        assertThrows(SmimeException.class, () -> encrypt.handle(enc)).reason());

    ObjectNode dec = JSON.createObjectNode();
    dec.put("message_b64", "not base64!");
    dec.putArray("keys");
    assertEquals(RpcException.INVALID_PARAMS,
        assertThrows(RpcException.class, () -> decrypt.handle(dec)).errorCode());
    dec.put("message_b64",
        b64("Content-Type: text/plain\n\nx".getBytes(StandardCharsets.US_ASCII)));
    assertEquals(Reason.NOT_SMIME,
        assertThrows(SmimeException.class, () -> decrypt.handle(dec)).reason());
    dec.putArray("keys").addObject().put("cert", "/x");
    assertFalse(assertThrows(RpcException.class, () -> decrypt.handle(dec)).getMessage().isEmpty());
  }
}
