package org.sympasmime.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sympasmime.testutil.SignedMailPki.bytes;
import static org.sympasmime.testutil.SignedMailPki.path;
import static org.sympasmime.testutil.SignedMailPki.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sympasmime.pki.Crls;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.rpc.Server;
import org.sympasmime.rpc.Stats;
import org.sympasmime.testutil.SignedMailPki;

/** smime.verify and x509.parse through the real JSON-RPC server and the Registry. */
class VerifyAndParseRpcTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Sends the requests, one per line, and returns the answers by id. */
  static Map<Integer, JsonNode> call(List<ObjectNode> requests) throws Exception {
    StringBuilder in = new StringBuilder();
    for (ObjectNode r : requests) {
      in.append(JSON.writeValueAsString(r)).append('\n');
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Stats stats = new Stats();
    new Server(Registry.build(new KeyMaterial(), stats), JSON, 1 << 24, 2,
        new PrintStream(err, true, StandardCharsets.UTF_8), stats)
        .serve(new ByteArrayInputStream(in.toString().getBytes(StandardCharsets.UTF_8)), out);
    Map<Integer, JsonNode> answers = new HashMap<>();
    for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
      JsonNode n = JSON.readTree(line);
      answers.put(n.get("id").asInt(), n);
    }
    return answers;
  }

  static ObjectNode request(int id, String method) {
    ObjectNode r = JSON.createObjectNode();
    r.put("jsonrpc", "2.0").put("id", id).put("method", method);
    r.putObject("params");
    return r;
  }

  static Set<String> names(JsonNode n) {
    Set<String> out = new TreeSet<>();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      out.add(it.next());
    }
    return out;
  }

  @Test
  void algorithmPolicyOverridesOneDefaultAtATime() throws Exception {
    ObjectNode defaults = request(1, "smime.verify");
    ((ObjectNode) defaults.get("params"))
        .put("message_b64", Base64.getEncoder().encodeToString(bytes("alice.eml")))
        .put("cafile", path("root.crt").toString());
    ObjectNode strict = defaults.deepCopy().put("id", 2);
    ((ObjectNode) strict.get("params")).putObject("algorithm_policy").put("min_rsa_bits", 4096);
    ObjectNode bad = defaults.deepCopy().put("id", 3);
    ((ObjectNode) bad.get("params")).putObject("algorithm_policy").put("sha1", "maybe");
    Map<Integer, JsonNode> answers = call(List.of(defaults, strict, bad));
    assertEquals("ok", answers.get(1).at("/result/reason").asText(), answers.get(1).toString());
    assertEquals("unsupported_algorithm", answers.get(2).at("/result/reason").asText());
    assertTrue(answers.get(2).at("/result/detail").asText().contains("at least 4096 bits"),
        answers.get(2).toString());
    assertEquals(-32602, answers.get(3).at("/error/code").asInt(), answers.get(3).toString());
    assertTrue(answers.get(3).at("/error/message").asText()
        .contains("algorithm_policy.sha1 must be refuse, warn or accept"));
  }

  @Test
  void verifyMembers() throws Exception {
    ObjectNode ok = request(1, "smime.verify");
    ((ObjectNode) ok.get("params"))
        .put("message_b64", Base64.getEncoder().encodeToString(bytes("alice.eml")))
        .put("cafile", path("root.crt").toString());
    ObjectNode plain = request(2, "smime.verify");
    ((ObjectNode) plain.get("params")).put("message_b64",
        Base64.getEncoder().encodeToString("Subject: x\n\nhi\n".getBytes(StandardCharsets.UTF_8)))
        .put("cafile", "");
    ObjectNode expired = request(3, "smime.verify");
    ((ObjectNode) expired.get("params"))
        .put("message_b64", Base64.getEncoder().encodeToString(bytes("expired.eml")))
        .put("capath", path("capath-hashed").toString()).put("cafile", "")
        .put("at_time", 1590969600L);
    ObjectNode badStore = request(4, "smime.verify");
    ((ObjectNode) badStore.get("params"))
        .put("message_b64", Base64.getEncoder().encodeToString(bytes("alice.eml")))
        .put("cafile", "/nonexistent/ca.pem");
    ObjectNode malformed = request(5, "smime.verify");
    ((ObjectNode) malformed.get("params")).put("message_b64", Base64.getEncoder()
        .encodeToString(("Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";"
            + " boundary=b\n\n--b\n\nx\n--b\nContent-Type: application/pkcs7-signature\n\n!!\n--b--\n")
            .getBytes(StandardCharsets.UTF_8)));

    Map<Integer, JsonNode> a = call(List.of(ok, plain, expired, badStore, malformed));
    JsonNode r = a.get(1).get("result");
    assertEquals(Set.of("signed", "valid", "reason", "detail", "format", "signers",
        "signers_info", "certificates", "content_b64"), names(r));
    assertTrue(r.get("signed").asBoolean() && r.get("valid").asBoolean());
    assertEquals("ok", r.get("reason").asText());
    assertEquals("multipart/signed", r.get("format").asText());
    assertEquals(text("alice.crt"), r.get("signers").get(0).asText());
    // signers_info: what x509.parse says of each signer, so the client asks no more.
    ObjectNode parse = request(9, "x509.parse");
    ((ObjectNode) parse.get("params")).put("pem", text("alice.crt"));
    assertEquals(call(List.of(parse)).get(9).get("result"), r.get("signers_info").get(0));
    assertEquals(1, r.get("signers_info").size());
    assertEquals(text("entity.txt"), new String(Base64.getDecoder().decode(
        r.get("content_b64").asText()), StandardCharsets.ISO_8859_1));

    JsonNode p = a.get(2).get("result");
    assertEquals(Set.of("signed", "valid", "reason", "detail", "signers", "signers_info",
        "certificates"), names(p));
    assertEquals(0, p.get("signers_info").size());
    assertEquals("not_smime", p.get("reason").asText());
    assertTrue(!p.get("signed").asBoolean() && !p.get("valid").asBoolean());

    assertEquals("ok", a.get(3).get("result").get("reason").asText(),
        a.get(3).get("result").get("detail").asText());

    assertEquals(1106, a.get(4).get("error").get("code").asInt());
    assertEquals("trust_store_unreadable", a.get(4).get("error").get("data").get("reason").asText());
    assertEquals(1000, a.get(5).get("error").get("code").asInt());
    assertEquals("malformed_input", a.get(5).get("error").get("data").get("reason").asText());
  }

  @Test
  void verifyWithCrls(@TempDir Path tmp) throws Exception {
    // An empty CRL of the test root whose nextUpdate has passed: accepted, with a warning.
    String crls = SignedMailPki.files().write(tmp.resolve("expired.crl").toString(),
        SignedMailPki.files().crl("root", Instant.parse("2020-01-01T00:00:00Z"),
            Instant.parse("2020-02-01T00:00:00Z"), List.of())).toString();
    ObjectNode stale = verifyRequest(1, p -> p.put("crls", crls));
    ObjectNode required = verifyRequest(2, p -> p.put("crls", crls).put("crl_required", true));
    ObjectNode requiredAlone = verifyRequest(3, p -> p.put("crl_required", true));
    ObjectNode empty = verifyRequest(4, p -> p.put("crls", ""));
    ObjectNode missing = verifyRequest(5, p -> p.put("crls", "/nonexistent/crls"));
    ObjectNode notBoolean = verifyRequest(6, p -> p.put("crls", crls).put("crl_required", "yes"));

    Map<Integer, JsonNode> a =
        call(List.of(stale, required, requiredAlone, empty, missing, notBoolean));
    assertEquals("ok", a.get(1).at("/result/reason").asText(), a.get(1).toString());
    // The warning goes to the sidecar's log (stderr), one line.
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    new VerifyMethod(new TrustStores(), new Crls(), new PrintStream(err, true,
        StandardCharsets.UTF_8)).handle(stale.get("params"));
    assertEquals(List.of("sympa-smime: warning method=smime.verify: the CRL of C=FR, O=Test Org,"
        + " CN=Test CA, emailAddress=ca@example.org expired 2020-02-01T00:00:00Z; revocation of"
        + " C=FR, O=Test Org, CN=Alice User, emailAddress=Alice@Example.org not checked"),
        err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("warning")).toList());
    assertEquals("revocation_unknown", a.get(2).at("/result/reason").asText());
    assertTrue(!a.get(2).at("/result/valid").asBoolean());
    assertEquals(-32602, a.get(3).at("/error/code").asInt());
    assertEquals("ok", a.get(4).at("/result/reason").asText(), "empty crls: no checking");
    assertEquals(1004, a.get(5).at("/error/code").asInt());
    assertEquals("file_unreadable", a.get(5).at("/error/data/reason").asText());
    assertEquals(-32602, a.get(6).at("/error/code").asInt());
  }

  /** smime.verify of alice.eml against the test root, with more params. */
  private static ObjectNode verifyRequest(int id, Consumer<ObjectNode> params) {
    ObjectNode r = request(id, "smime.verify");
    ObjectNode p = ((ObjectNode) r.get("params"))
        .put("message_b64", Base64.getEncoder().encodeToString(bytes("alice.eml")))
        .put("cafile", path("root.crt").toString());
    params.accept(p);
    return r;
  }

  @Test
  void parseMembers() throws Exception {
    ObjectNode byPath = request(1, "x509.parse");
    ((ObjectNode) byPath.get("params")).put("path", path("ec.crt").toString());
    ObjectNode byPem = request(2, "x509.parse");
    ((ObjectNode) byPem.get("params")).put("pem", text("noku.crt"));
    ObjectNode none = request(3, "x509.parse");
    ObjectNode missing = request(4, "x509.parse");
    ((ObjectNode) missing.get("params")).put("path", "/nonexistent.pem");
    ObjectNode garbage = request(5, "x509.parse");
    ((ObjectNode) garbage.get("params")).put("pem", "garbage");

    Map<Integer, JsonNode> a = call(List.of(byPath, byPem, none, missing, garbage));
    JsonNode ec = a.get(1).get("result");
    assertEquals(Set.of("subject", "issuer", "notBefore", "notAfter", "emails", "purpose",
        "legacy_purpose", "key_usage", "extended_key_usage", "serial", "fingerprint_sha256",
        "fingerprint_sha1", "key_algorithm", "key_size", "curve", "pem"), names(ec));
    assertEquals("C=FR, O=Test Org, CN=EC User, emailAddress=ec@example.org",
        ec.get("subject").asText());
    assertEquals("ec@example.org", ec.get("emails").get(0).asText());
    assertTrue(ec.get("purpose").get("sign").asBoolean() && ec.get("purpose").get("enc").asBoolean());
    assertTrue(!ec.get("legacy_purpose").get("enc").asBoolean());
    assertTrue(ec.get("key_usage").get("keyAgreement").asBoolean());
    assertEquals(9, ec.get("key_usage").size());
    assertEquals("emailProtection", ec.get("extended_key_usage").get(0).asText());
    assertEquals("prime256v1", ec.get("curve").asText());
    assertEquals(text("ec.crt"), ec.get("pem").asText());

    JsonNode noku = a.get(2).get("result");
    assertTrue(!noku.has("key_usage") && !noku.has("extended_key_usage") && !noku.has("curve"));
    assertTrue(noku.get("purpose").get("sign").asBoolean());

    assertEquals("bad_certificate", a.get(3).get("error").get("data").get("reason").asText());
    assertEquals("file_unreadable", a.get(4).get("error").get("data").get("reason").asText());
    assertEquals("bad_certificate", a.get(5).get("error").get("data").get("reason").asText());
  }
}
