package org.sympasmime.methods;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.DLSet;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.cms.SignedData;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.sympasmime.Reason;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.rpc.MethodTable;
import org.sympasmime.rpc.Server;
import org.sympasmime.rpc.Stats;
import org.sympasmime.testutil.Openssl;
import org.sympasmime.testutil.TestPki;

/**
 * Throws a thousand broken inputs (truncated, bit-flipped and re-encoded real messages, random
 * bytes, huge headers, deep nesting, endless multiparts) at every method through the real server
 * and registry. Every answer must be a proper result or an error with a reason (never
 * {@code internal}), the batch must finish, and the same method table must still work after it.
 */
class FuzzRpcTest {
  /** {@code -Dfuzz.seed=N -Dfuzz.requests=N} for a longer exploration; the build runs 1,000. */
  private static final long SEED = Long.getLong("fuzz.seed", 0x5EED_2024L);
  private static final int REQUESTS = Integer.getInteger("fuzz.requests", 1000);
  private static final ObjectMapper JSON = Server.jsonFor(64 << 20);
  private static final Set<String> REASONS = Stream.of(Reason.values()).map(Reason::id)
      .collect(Collectors.toSet());
  private static final Set<String> VERIFY_REASONS = Set.of("ok", "not_smime", "bad_signature",
      "unsupported_algorithm", "no_signer_cert", "untrusted_chain", "wrong_usage", "expired",
      "not_yet_valid");
  private static final byte[] ENTITY = ("Content-Type: text/plain; charset=utf-8\n"
      + "Subject: fuzz\n\nHello \u00e9\nsecond line\r\nthird\n").getBytes(StandardCharsets.UTF_8);

  static TestPki pki;
  /** Real messages the mutations start from. */
  static List<byte[]> seeds;
  static byte[] certDer;

  @BeforeAll
  static void setUp() throws Exception {
    assumeTrue(Openssl.available(), "openssl CLI not available");
    pki = TestPki.get();
    MethodTable table = Registry.build(new KeyMaterial(), new Stats());
    seeds = new ArrayList<>();
    seeds.add(sign(table, ENTITY));
    seeds.add(encrypt(table, ENTITY, "aes-128-cbc", "alice"));
    seeds.add(encrypt(table, ENTITY, "aes-256-gcm", "alice"));
    seeds.add(encrypt(table, ENTITY, "aes-256-cbc", "ec256"));
    seeds.add(encrypt(table, ENTITY, "aes-128-gcm", "ec256"));
    Files.write(pki.path("fuzz-entity.txt"), ENTITY);
    seeds.add(Openssl.run(pki.dir(), "smime", "-sign", "-nodetach", "-in", "fuzz-entity.txt",
        "-signer", "alice.crt", "-inkey", "alice.key").check().stdout());
    seeds.add(Openssl.run(pki.dir(), "smime", "-encrypt", "-aes256", "-in", "fuzz-entity.txt",
        "alice.crt").check().stdout());
    String pem = pki.pem("alice");
    certDer = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
  }

  @Test
  void aThousandBrokenInputsGetProperAnswersAndTheServerStillWorks() throws Exception {
    KeyMaterial keys = new KeyMaterial();
    Stats stats = new Stats();
    MethodTable table = Registry.build(keys, stats);
    List<Case> cases = cases(new Random(SEED));
    assertEquals(REQUESTS, cases.size());

    ByteArrayOutputStream log = new ByteArrayOutputStream();
    // Generous: the point is "no hang", not speed.
    Duration limit = Duration.ofSeconds(60L * Math.max(1, REQUESTS / 1000));
    Map<Integer, JsonNode> answers =
        assertTimeoutPreemptively(limit, () -> serve(table, cases, log));
    List<String> problems = new ArrayList<>();
    for (int id = 0; id < cases.size(); id++) {
      Case c = cases.get(id);
      JsonNode a = answers.get(id);
      if (a == null) {
        problems.add(c + ": no answer");
        continue;
      }
      String problem = check(c, a);
      if (problem != null) {
        problems.add(c + ": " + problem + " " + a);
      }
    }
    String stderr = log.toString(StandardCharsets.UTF_8);
    int internal = stderr.indexOf("reason=internal");
    assertTrue(problems.isEmpty(), problems.size() + " bad answers, e.g.\n"
        + String.join("\n", problems.subList(0, Math.min(20, problems.size())))
        + (internal < 0 ? "" : "\nfirst internal error:\n"
            + stderr.substring(internal, Math.min(stderr.length(), internal + 3000))));
    assertFalse(internal >= 0, stderr);

    // The same table, caches and all, still does real work.
    byte[] signed = sign(table, ENTITY);
    JsonNode verified = call(table, "smime.verify", p -> p
        .put("message_b64", b64(signed)).put("cafile", pki.path("ca.crt").toString()));
    assertEquals("ok", verified.get("reason").asText(), verified.toString());
    byte[] encrypted = encrypt(table, ENTITY, "aes-128-cbc", "alice");
    JsonNode decrypted = call(table, "smime.decrypt", p -> {
      p.put("message_b64", b64(encrypted));
      p.putArray("keys").addObject().put("cert", pki.cert("alice").toString())
          .put("key", pki.key("alice").toString());
    });
    assertArrayEquals(new String(ENTITY, StandardCharsets.ISO_8859_1).replace("\r\n", "\n")
        .replace("\n", "\r\n").getBytes(StandardCharsets.ISO_8859_1),
        Base64.getDecoder().decode(decrypted.get("entity_b64").asText()));
    JsonNode parsed = call(table, "x509.parse", p -> p.put("pem", pki.pem("alice")));
    assertEquals("alice@example.org", parsed.get("emails").get(0).asText());
  }

  /** One request: which method, what was done to the input, and its params. */
  record Case(String method, String kind, ObjectNode params) {
    @Override
    public String toString() {
      return method + " " + kind;
    }
  }

  private static String check(Case c, JsonNode a) {
    if (!"2.0".equals(a.path("jsonrpc").asText())) {
      return "no jsonrpc member";
    }
    if (a.has("result") == a.has("error")) {
      return "needs exactly one of result and error";
    }
    if (a.has("error")) {
      JsonNode e = a.get("error");
      String reason = e.path("data").path("reason").asText("");
      if (!REASONS.contains(reason) || reason.equals("internal")
          || e.path("code").asInt() == -32603) {
        return "error without a proper reason";
      }
      return e.path("message").asText("").isBlank() ? "error without a message" : null;
    }
    JsonNode r = a.get("result");
    if (c.method().equals("smime.verify")) {
      if (!VERIFY_REASONS.contains(r.path("reason").asText())
          || !r.path("signed").isBoolean() || !r.path("valid").isBoolean()) {
        return "verify result without a proper reason";
      }
    }
    return null;
  }

  private static List<Case> cases(Random random) {
    List<Case> cases = new ArrayList<>();
    // Structural monsters, each at verify and decrypt.
    Map<String, byte[]> monsters = new HashMap<>();
    monsters.put("folded header of a million lines", foldedHeader());
    monsters.put("4 MB header line", longHeaderLine());
    monsters.put("multipart nested 5,000 deep", nestedMultipart(5000));
    monsters.put("multipart/signed with 10,000 parts", manyParts(10_000));
    monsters.put("boundary that never closes", unclosed());
    monsters.put("ASN.1 nested 100,000 deep (indefinite)", pkcs7(deepAsn1(100_000, false)));
    monsters.put("ASN.1 nested 20,000 deep (definite)", pkcs7(deepAsn1(20_000, true)));
    monsters.put("ASN.1 claiming 2 GB", pkcs7(new byte[] {0x30, (byte) 0x84, 0x7f, -1, -1, -1, 2}));
    monsters.put("detached signature nested deep", detachedSignature(deepAsn1(100_000, false)));
    monsters.put("empty", new byte[0]);
    for (Map.Entry<String, byte[]> m : monsters.entrySet()) {
      cases.add(verify(m.getKey(), m.getValue()));
      cases.add(decrypt(m.getKey(), m.getValue()));
    }
    cases.add(sign("4 MB header line as entity", longHeaderLine()));
    cases.add(encrypt("4 MB header line as entity", longHeaderLine()));
    cases.add(x509("ASN.1 nested deep as certificate", pem(deepAsn1(100_000, false))));
    cases.add(check("ASN.1 nested deep as certificate", pem(deepAsn1(100_000, false))));

    while (cases.size() < REQUESTS) {
      int dice = random.nextInt(100);
      byte[] seed = seeds.get(random.nextInt(seeds.size()));
      if (dice < 80) {
        String kind;
        byte[] input;
        switch (random.nextInt(5)) {
          case 0 -> {
            input = Arrays.copyOf(seed, random.nextInt(seed.length));
            kind = "truncated to " + input.length;
          }
          case 1 -> {
            input = flip(seed, 1 + random.nextInt(8), random);
            kind = "bit flips";
          }
          case 2, 3 -> {
            input = mutateBody(seed, random);
            kind = "mutated DER";
          }
          default -> {
            input = random(random, random.nextInt(4096));
            kind = "random bytes";
          }
        }
        cases.add(random.nextBoolean() ? verify(kind, input) : decrypt(kind, input));
      } else if (dice < 86) {
        cases.add(sign("random entity", random(random, random.nextInt(2048))));
      } else if (dice < 92) {
        cases.add(encrypt("random entity", random(random, random.nextInt(2048))));
      } else {
        byte[] der = mutate(certDer, random);
        cases.add(random.nextBoolean()
            ? x509("mutated certificate", pem(der)) : check("mutated certificate", pem(der)));
      }
    }
    return cases.subList(0, REQUESTS);
  }

  private static Case verify(String kind, byte[] message) {
    ObjectNode p = JSON.createObjectNode();
    p.put("message_b64", b64(message)).put("cafile", pki.path("ca.crt").toString());
    return new Case("smime.verify", kind, p);
  }

  private static Case decrypt(String kind, byte[] message) {
    ObjectNode p = JSON.createObjectNode();
    p.put("message_b64", b64(message));
    var keys = p.putArray("keys");
    keys.addObject().put("cert", pki.cert("alice").toString())
        .put("key", pki.key("alice").toString());
    keys.addObject().put("cert", pki.cert("ec256").toString())
        .put("key", pki.key("ec256").toString());
    return new Case("smime.decrypt", kind, p);
  }

  private static Case sign(String kind, byte[] entity) {
    ObjectNode p = JSON.createObjectNode();
    p.put("entity_b64", b64(entity)).put("cert", pki.cert("alice").toString())
        .put("key", pki.key("alice").toString());
    return new Case("smime.sign", kind, p);
  }

  private static Case encrypt(String kind, byte[] entity) {
    ObjectNode p = JSON.createObjectNode();
    p.put("entity_b64", b64(entity));
    p.putArray("recipients").addObject().put("path", pki.cert("alice").toString());
    return new Case("smime.encrypt", kind, p);
  }

  private static Case x509(String kind, String pem) {
    ObjectNode p = JSON.createObjectNode();
    p.put("pem", pem);
    return new Case("x509.parse", kind, p);
  }

  private static Case check(String kind, String pem) {
    ObjectNode p = JSON.createObjectNode();
    p.put("pem", pem).put("cafile", pki.path("ca.crt").toString());
    return new Case("x509.check", kind, p);
  }

  private static Map<Integer, JsonNode> serve(MethodTable table, List<Case> cases,
      ByteArrayOutputStream log) throws Exception {
    ByteArrayOutputStream in = new ByteArrayOutputStream();
    for (int id = 0; id < cases.size(); id++) {
      ObjectNode r = JSON.createObjectNode();
      r.put("jsonrpc", "2.0").put("id", id).put("method", cases.get(id).method());
      r.set("params", cases.get(id).params());
      in.writeBytes(JSON.writeValueAsBytes(r));
      in.write('\n');
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Stats stats = new Stats();
    new Server(table, JSON, 64 << 20, 2, new PrintStream(log, true, StandardCharsets.UTF_8), stats)
        .serve(new ByteArrayInputStream(in.toByteArray()), out);
    Map<Integer, JsonNode> answers = new HashMap<>();
    for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
      JsonNode n = JSON.readTree(line);
      answers.put(n.path("id").asInt(-1), n);
    }
    return answers;
  }

  /** One request through a server on {@code table}; its result, failing on an error. */
  private static JsonNode call(MethodTable table, String method, Consumer<ObjectNode> params)
      throws Exception {
    JsonNode answer = answer(table, method, params);
    assertTrue(answer.has("result"), answer.toString());
    return answer.get("result");
  }

  /** One request through a server on {@code table}; the whole answer. */
  private static JsonNode answer(MethodTable table, String method, Consumer<ObjectNode> params)
      throws Exception {
    ObjectNode p = JSON.createObjectNode();
    params.accept(p);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    JsonNode answer = serve(table, List.of(new Case(method, "one", p)), log).get(0);
    assertFalse(log.toString(StandardCharsets.UTF_8).contains("reason=internal"),
        log.toString(StandardCharsets.UTF_8));
    return answer;
  }

  // ---- what the batch found, as fixed cases ------------------------------------------------

  /** Bouncy Castle decodes a certificate's key only on use, and then throws unchecked. */
  @Test
  void aCertificateWhoseKeyDoesNotDecodeIsABadCertificate() throws Exception {
    ASN1Sequence spki = ASN1Sequence.getInstance(tbs(certDer).getObjectAt(6));
    byte[] broken = replaceTbs(certDer, 6, new DERSequence(new ASN1Encodable[] {
        spki.getObjectAt(0), new DERBitString(new byte[] {1, 2, 3})}));
    MethodTable table = Registry.build(new KeyMaterial(), new Stats());
    JsonNode parsed = answer(table, "x509.parse", p -> p.put("pem", pem(broken)));
    assertEquals("bad_certificate", parsed.at("/error/data/reason").asText(), parsed.toString());
    JsonNode encrypted = answer(table, "smime.encrypt", p -> {
      p.put("entity_b64", b64(ENTITY));
      p.putArray("recipients").addObject().put("pem", pem(broken));
    });
    assertEquals("bad_certificate", encrypted.at("/error/data/reason").asText(),
        encrypted.toString());
  }

  /** The carried certificates are decoded lazily too: an undecodable one is malformed input. */
  @Test
  void aCarriedCertificateWithAnUndecodableExtensionListIsMalformedInput() throws Exception {
    byte[] broken = replaceTbs(certDer, 7,
        new DERTaggedObject(true, 3, new DERSequence(new DERIA5String("not an extension"))));
    MethodTable table = Registry.build(new KeyMaterial(), new Stats());
    byte[] message = withCertificates(sign(table, ENTITY), broken);
    JsonNode a = answer(table, "smime.verify", p -> p.put("message_b64", b64(message))
        .put("cafile", pki.path("ca.crt").toString()));
    assertEquals("malformed_input", a.at("/error/data/reason").asText(), a.toString());
  }

  /**
   * A signer certificate whose authorityKeyIdentifier is not one: the signature still verifies
   * (the key and the issuer and serial are intact), the path does not, as with OpenSSL.
   */
  @Test
  void aMalformedExtensionOnThePathIsAnUntrustedChain() throws Exception {
    Extensions extensions = Extensions.getInstance(
        ASN1TaggedObject.getInstance(tbs(certDer).getObjectAt(7)).getExplicitBaseObject());
    List<Extension> replaced = new ArrayList<>();
    for (ASN1ObjectIdentifier oid : extensions.getExtensionOIDs()) {
      Extension e = extensions.getExtension(oid);
      replaced.add(oid.equals(Extension.authorityKeyIdentifier)
          ? new Extension(oid, false, new DEROctetString(new ASN1Integer(7))) : e);
    }
    byte[] broken = replaceTbs(certDer, 7, new DERTaggedObject(true, 3,
        new Extensions(replaced.toArray(Extension[]::new))));
    MethodTable table = Registry.build(new KeyMaterial(), new Stats());
    byte[] message = withCertificates(sign(table, ENTITY), broken);
    JsonNode r = call(table, "smime.verify", p -> p.put("message_b64", b64(message))
        .put("cafile", pki.path("ca.crt").toString()));
    assertEquals("untrusted_chain", r.get("reason").asText(), r.toString());
    assertTrue(r.get("signed").asBoolean());
  }

  /**
   * Each SignerInfo costs a digest of the whole content, each certificate a place in the path
   * search: a message of thousands of either kept a worker busy for minutes.
   */
  @Test
  void moreThanSixteenSignerInfosOrSixtyFourCertificatesAreTooLarge() throws Exception {
    MethodTable table = Registry.build(new KeyMaterial(), new Stats());
    byte[] signed = sign(table, ENTITY);
    Map<String, byte[]> cases = Map.of(
        "ok", withCopies(signed, 16, 64),
        "too_large signers", withCopies(signed, 17, 1),
        "too_large certificates", withCopies(signed, 1, 65));
    for (Map.Entry<String, byte[]> c : cases.entrySet()) {
      JsonNode a = answer(table, "smime.verify", p -> p.put("message_b64", b64(c.getValue()))
          .put("cafile", pki.path("ca.crt").toString()));
      String got = a.has("result") ? a.at("/result/reason").asText()
          : a.at("/error/data/reason").asText();
      assertEquals(c.getKey().split(" ")[0], got, c.getKey() + ": " + a);
    }
  }

  private static ASN1Sequence tbs(byte[] cert) {
    return ASN1Sequence.getInstance(ASN1Sequence.getInstance(cert).getObjectAt(0));
  }

  /** The certificate with one TBSCertificate element replaced; its signature no longer fits. */
  private static byte[] replaceTbs(byte[] cert, int index, ASN1Encodable element)
      throws Exception {
    ASN1Sequence outer = ASN1Sequence.getInstance(cert);
    ASN1Sequence tbs = tbs(cert);
    ASN1EncodableVector v = new ASN1EncodableVector();
    for (int i = 0; i < tbs.size(); i++) {
      v.add(i == index ? element : tbs.getObjectAt(i));
    }
    return new DERSequence(new ASN1Encodable[] {new DERSequence(v), outer.getObjectAt(1),
        outer.getObjectAt(2)}).getEncoded(ASN1Encoding.DER);
  }

  /** A signed message of ours whose SignedData carries {@code cert} instead of its own. */
  private static byte[] withCertificates(byte[] message, byte[] cert) throws Exception {
    ASN1Primitive c = ASN1Primitive.fromByteArray(cert);
    return withSignedData(message, sd -> new SignedData(sd.getDigestAlgorithms(),
        sd.getEncapContentInfo(), new DERSet(c), sd.getCRLs(), sd.getSignerInfos()));
  }

  /** {@code n} copies of the first SignerInfo and of the first certificate. */
  private static byte[] withCopies(byte[] message, int signerInfos, int certificates)
      throws Exception {
    return withSignedData(message, sd -> new SignedData(sd.getDigestAlgorithms(),
        sd.getEncapContentInfo(), copies(sd.getCertificates().getObjectAt(0), certificates),
        sd.getCRLs(), copies(sd.getSignerInfos().getObjectAt(0), signerInfos)));
  }

  private static DLSet copies(ASN1Encodable e, int n) {
    ASN1EncodableVector v = new ASN1EncodableVector();
    for (int i = 0; i < n; i++) {
      v.add(e);
    }
    return new DLSet(v);
  }

  /** A signed message of ours with its SignedData changed by {@code change}. */
  private static byte[] withSignedData(byte[] message, UnaryOperator<SignedData> change)
      throws Exception {
    String text = new String(message, StandardCharsets.ISO_8859_1);
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("\r\n\r\n((?:[A-Za-z0-9+/=]+\r\n)+)\r\n--").matcher(text);
    assertTrue(m.find());
    ContentInfo info = ContentInfo.getInstance(Base64.getMimeDecoder().decode(m.group(1)));
    SignedData changed = change.apply(SignedData.getInstance(info.getContent()));
    byte[] der = new ContentInfo(CMSObjectIdentifiers.signedData, changed)
        .getEncoded(ASN1Encoding.DL);
    return ascii(text.substring(0, m.start(1))
        + Base64.getMimeEncoder(64, new byte[] {'\r', '\n'}).encodeToString(der) + "\r\n"
        + text.substring(m.end(1)));
  }

  private static byte[] sign(MethodTable table, byte[] entity) throws Exception {
    JsonNode r = call(table, "smime.sign", p -> p.put("entity_b64", b64(entity))
        .put("cert", pki.cert("alice").toString()).put("key", pki.key("alice").toString()));
    return Base64.getDecoder().decode(r.get("message_b64").asText());
  }

  private static byte[] encrypt(MethodTable table, byte[] entity, String cipher, String to)
      throws Exception {
    JsonNode r = call(table, "smime.encrypt", p -> {
      p.put("entity_b64", b64(entity)).put("cipher", cipher);
      p.putArray("recipients").addObject().put("path", pki.cert(to).toString());
    });
    return Base64.getDecoder().decode(r.get("message_b64").asText());
  }

  // ---- inputs -------------------------------------------------------------------------------

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static byte[] random(Random random, int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private static byte[] flip(byte[] in, int flips, Random random) {
    byte[] out = in.clone();
    for (int i = 0; i < flips && out.length > 0; i++) {
      int at = random.nextInt(out.length);
      out[at] ^= (byte) (1 << random.nextInt(8));
    }
    return out;
  }

  /** A DER mutation: flips, a cut, an insertion, a forged length, or a duplicated slice. */
  private static byte[] mutate(byte[] der, Random random) {
    return switch (random.nextInt(5)) {
      case 0 -> flip(der, 1 + random.nextInt(4), random);
      case 1 -> Arrays.copyOf(der, random.nextInt(der.length));
      case 2 -> {
        int at = random.nextInt(der.length);
        yield concat(Arrays.copyOf(der, at), random(random, 1 + random.nextInt(16)),
            Arrays.copyOfRange(der, at, der.length));
      }
      case 3 -> {
        byte[] out = der.clone();
        int at = 1 + random.nextInt(Math.max(1, out.length - 6));
        out[at] = (byte) (0x81 + random.nextInt(4));
        out[at + 1] = (byte) random.nextInt(256);
        yield out;
      }
      default -> {
        int from = random.nextInt(der.length);
        int to = Math.min(der.length, from + random.nextInt(256));
        int at = random.nextInt(der.length);
        yield concat(Arrays.copyOf(der, at), Arrays.copyOfRange(der, from, to),
            Arrays.copyOfRange(der, at, der.length));
      }
    };
  }

  /**
   * Mutates the DER inside a message's base64 (the last base64 block: the body of a
   * pkcs7-mime, the signature of a multipart/signed) and puts it back, so the mutation reaches
   * the ASN.1 and CMS parsers rather than the base64 decoder.
   */
  private static byte[] mutateBody(byte[] message, Random random) {
    String text = new String(message, StandardCharsets.ISO_8859_1);
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("\r?\n\r?\n((?:[A-Za-z0-9+/=]+\r?\n)+)").matcher(text);
    int start = -1;
    int end = -1;
    while (m.find()) {
      start = m.start(1);
      end = m.end(1);
    }
    if (start < 0) {
      return flip(message, 4, random);
    }
    byte[] der = Base64.getMimeDecoder().decode(text.substring(start, end));
    String body = Base64.getMimeEncoder(64, new byte[] {'\r', '\n'})
        .encodeToString(mutate(der, random)) + "\r\n";
    return ascii(text.substring(0, start) + body + text.substring(end));
  }

  private static byte[] foldedHeader() {
    StringBuilder s = new StringBuilder("Content-Type: multipart/signed;"
        + " protocol=\"application/pkcs7-signature\"; boundary=b\n");
    for (int i = 0; i < 1_000_000; i++) {
      s.append(" x").append(i).append("=y;\n");
    }
    s.append("\n--b\nhello\n--b\nContent-Type: application/pkcs7-signature\n\nMIIB\n--b--\n");
    return ascii(s.toString());
  }

  private static byte[] longHeaderLine() {
    return ascii("Subject: " + "x".repeat(4 << 20) + "\nContent-Type: application/pkcs7-mime\n\n"
        + "MIIB\n");
  }

  private static byte[] nestedMultipart(int depth) {
    StringBuilder s = new StringBuilder("Content-Type: multipart/signed;"
        + " protocol=\"application/pkcs7-signature\"; boundary=top\n\n--top\n");
    for (int i = 0; i < depth; i++) {
      s.append("Content-Type: multipart/mixed; boundary=b").append(i).append("\n\n--b")
          .append(i).append('\n');
    }
    s.append("\nhello\n");
    for (int i = depth - 1; i >= 0; i--) {
      s.append("--b").append(i).append("--\n");
    }
    s.append("--top\nContent-Type: application/pkcs7-signature\n\nMIIB\n--top--\n");
    return ascii(s.toString());
  }

  private static byte[] manyParts(int parts) {
    StringBuilder s = new StringBuilder("Content-Type: multipart/signed;"
        + " protocol=\"application/pkcs7-signature\"; boundary=b\n\n");
    for (int i = 0; i < parts; i++) {
      s.append("--b\nContent-Type: application/pkcs7-signature\n\nMIIB").append(i % 10)
          .append('\n');
    }
    return ascii(s.append("--b--\n").toString());
  }

  private static byte[] unclosed() {
    return ascii("Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";"
        + " boundary=b\n\n--b\nhello\n--b\nContent-Type: application/pkcs7-signature\n\n"
        + "MIIB\n" + "more\n".repeat(100_000));
  }

  /** SEQUENCEs nested {@code depth} deep: definite lengths, or indefinite ones (BER). */
  private static byte[] deepAsn1(int depth, boolean definite) {
    if (!definite) {
      byte[] out = new byte[depth * 4];
      for (int i = 0; i < depth; i++) {
        out[2 * i] = 0x30;
        out[2 * i + 1] = (byte) 0x80;
      }
      return out; // the end-of-contents octets are the trailing zeros
    }
    byte[] inner = {0x05, 0x00};
    for (int i = 0; i < depth; i++) {
      int n = inner.length;
      byte[] len = n < 128 ? new byte[] {(byte) n}
          : n < 256 ? new byte[] {(byte) 0x81, (byte) n}
          : n < 65536 ? new byte[] {(byte) 0x82, (byte) (n >> 8), (byte) n}
          : new byte[] {(byte) 0x83, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
      inner = concat(new byte[] {0x30}, len, inner);
    }
    return inner;
  }

  private static byte[] pkcs7(byte[] der) {
    return concat(ascii("Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n"
        + "Content-Transfer-Encoding: base64\n\n"),
        ascii(Base64.getMimeEncoder().encodeToString(der) + "\n"));
  }

  private static byte[] detachedSignature(byte[] der) {
    return ascii("Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";"
        + " boundary=b\n\n--b\nhello\n--b\nContent-Type: application/pkcs7-signature\n\n"
        + Base64.getMimeEncoder().encodeToString(der) + "\n--b--\n");
  }

  private static String pem(byte[] der) {
    return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'})
        .encodeToString(der) + "\n-----END CERTIFICATE-----\n";
  }
}
