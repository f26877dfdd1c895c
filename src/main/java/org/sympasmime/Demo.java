package org.sympasmime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.sympasmime.methods.Registry;
import org.sympasmime.pki.BcProvider;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.pki.Pem;
import org.sympasmime.rpc.Server;
import org.sympasmime.rpc.Stats;

/**
 * {@code java -jar sympa-smime.jar demo}: a sample list post through the real protocol. A
 * throwaway PKI (root CA, intermediate CA, list, subscriber) is made in memory and written to a
 * temporary directory that is removed at the end; an in-process server with the full method
 * table answers JSON-RPC lines over pipes, exactly as it does for Sympa over stdin/stdout.
 */
public final class Demo {
  private static final String LIST = "demo-list@lists.example.org";
  private static final String SUBSCRIBER = "alice@example.org";
  private static final String LIST_KEY_PASSWORD = "demo-key-password";

  private final PrintStream out;
  private final ObjectMapper json = new ObjectMapper();
  private OutputStream toServer;
  private BufferedReader fromServer;
  private int nextId = 1;
  private int failures;

  private Demo(PrintStream out) {
    this.out = out;
  }

  /** Runs the demo; returns the process exit code (0 when every step succeeded). */
  public static int run(PrintStream out) throws Exception {
    Path dir = Files.createTempDirectory("sympa-smime-demo-");
    // Also on Ctrl-C, which skips the finally block.
    Thread cleanup = new Thread(() -> deleteTree(dir), "demo-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      return new Demo(out).runIn(dir);
    } finally {
      deleteTree(dir);
      Runtime.getRuntime().removeShutdownHook(cleanup);
    }
  }

  private int runIn(Path dir) throws Exception {
    out.println("sympa-smime demo: throwaway PKI in " + dir);
    Pki files = makePki(dir);

    PipedOutputStream requests = new PipedOutputStream();
    PipedInputStream serverIn = new PipedInputStream(requests, 1 << 16);
    PipedInputStream responses = new PipedInputStream(1 << 16);
    PipedOutputStream serverOut = new PipedOutputStream(responses);
    Stats stats = new Stats();
    Server server = new Server(Registry.build(new KeyMaterial(), stats), json, 64 * 1024 * 1024,
        2, System.err, stats);
    Thread serving = new Thread(() -> {
      try {
        server.serve(serverIn, serverOut);
        serverOut.close();
      } catch (Exception e) {
        e.printStackTrace();
      }
    }, "demo-server");
    serving.start();
    toServer = requests;
    fromServer = new BufferedReader(new InputStreamReader(responses, StandardCharsets.UTF_8));
    try {
      post(files);
    } finally {
      requests.close(); // end of input: the server finishes and returns
      serving.join();
    }
    out.println();
    if (failures == 0) {
      out.println("demo: every step succeeded");
      return 0;
    }
    out.println("demo: " + failures + " step(s) failed");
    return 1;
  }

  /** The sample post: Alice signs and encrypts to the list, the list re-encrypts to Alice. */
  private void post(Pki f) throws IOException {
    call("service.version", json.createObjectNode()).ifPresent(r ->
        show("%s %s, protocol %s, Bouncy Castle %s", r.path("name").asText(),
            r.path("version").asText(), r.path("protocol").asText(),
            r.path("bouncycastle").asText()));

    byte[] entity = ("Content-Type: text/plain; charset=utf-8\n"
        + "Content-Transfer-Encoding: 8bit\n"
        + "\n"
        + "Hello list,\n"
        + "this post is signed by its author and encrypted to the list. Grüße!\n")
        .getBytes(StandardCharsets.UTF_8);
    String mailHeader = "From: Alice <" + SUBSCRIBER + ">\r\nTo: " + LIST
        + "\r\nSubject: S/MIME demo\r\n";

    ObjectNode sign = json.createObjectNode();
    sign.put("entity_b64", b64(entity));
    sign.put("cert", f.subscriberCert().toString());
    sign.put("key", f.subscriberKey().toString());
    Optional<byte[]> signed = call("smime.sign", sign).map(r -> {
      byte[] message = unb64(r.path("message_b64").asText());
      show("signed by %s: %d bytes, micalg=%s, %d certificate(s) carried", SUBSCRIBER,
          message.length, r.path("micalg").asText(), r.path("certificates").asInt());
      return message;
    });

    if (signed.isPresent()) {
      ObjectNode verify = json.createObjectNode();
      verify.put("message_b64", b64(concat(mailHeader, signed.get())));
      verify.put("cafile", f.rootCert().toString());
      Optional<JsonNode> verified = call("smime.verify", verify);
      if (verified.isPresent()) {
        JsonNode r = verified.get();
        show("signed=%s valid=%s reason=%s format=%s", r.path("signed").asText(),
            r.path("valid").asText(), r.path("reason").asText(), r.path("format").asText());
        show("detail: %s", r.path("detail").asText());
        if (!r.path("valid").asBoolean()) {
          fail("the signature should be valid");
        }
        JsonNode signers = r.path("signers");
        if (signers.isArray() && signers.size() > 0) {
          ObjectNode parse = json.createObjectNode();
          parse.put("pem", signers.get(0).asText());
          call("x509.parse", parse).ifPresent(c -> show(
              "signer: %s, emails %s, purpose sign=%s enc=%s, expires %s",
              c.path("subject").asText(), c.path("emails"), c.path("purpose").path("sign"),
              c.path("purpose").path("enc"), c.path("notAfter").asText()));
        } else {
          fail("no signer certificate in the verify result");
        }
      }
    } else {
      skip("smime.verify", "nothing was signed");
    }

    Optional<byte[]> toList = Optional.empty();
    if (signed.isPresent()) {
      toList = encrypt(signed.get(), f.listCert(), "the list");
    } else {
      skip("smime.encrypt", "nothing was signed");
    }

    Optional<byte[]> atList = Optional.empty();
    if (toList.isPresent()) {
      atList = decrypt(concat(mailHeader, toList.get()), f.listCert(), f.listKey(),
          Optional.of(LIST_KEY_PASSWORD), "the list", signed.get());
    } else {
      skip("smime.decrypt", "nothing was encrypted to the list");
    }

    if (atList.isPresent()) {
      Optional<byte[]> toSubscriber = encrypt(atList.get(), f.subscriberCert(), SUBSCRIBER);
      if (toSubscriber.isPresent()) {
        decrypt(concat("From: " + LIST + "\r\nTo: " + SUBSCRIBER + "\r\n", toSubscriber.get()),
            f.subscriberCert(), f.subscriberKey(), Optional.empty(), SUBSCRIBER, atList.get());
      } else {
        skip("smime.decrypt", "nothing was encrypted to the subscriber");
      }
    } else {
      skip("smime.encrypt", "the list could not decrypt the post");
    }

    listSignsANotice(f);
  }

  /** What Sympa does for a welcome message: the list signs, carrying its intermediate. */
  private void listSignsANotice(Pki f) throws IOException {
    byte[] notice = ("Content-Type: text/plain; charset=utf-8\n\n"
        + "Welcome to " + LIST + ".\n").getBytes(StandardCharsets.UTF_8);
    ObjectNode sign = json.createObjectNode();
    sign.put("entity_b64", b64(notice));
    sign.put("cert", f.listCert().toString());
    sign.put("key", f.listKey().toString());
    sign.put("key_passwd", LIST_KEY_PASSWORD);
    Optional<byte[]> signed = call("smime.sign", sign).map(r -> {
      show("signed by the list: %d certificate(s) carried (the list's and its intermediate)",
          r.path("certificates").asInt());
      return unb64(r.path("message_b64").asText());
    });
    if (signed.isEmpty()) {
      skip("smime.verify", "the list could not sign");
      return;
    }
    ObjectNode verify = json.createObjectNode();
    verify.put("message_b64", b64(concat("From: " + LIST + "\r\n", signed.get())));
    verify.put("cafile", f.rootCert().toString());
    call("smime.verify", verify).ifPresent(r -> {
      show("against the root CA alone: valid=%s reason=%s", r.path("valid").asText(),
          r.path("reason").asText());
      if (!r.path("valid").asBoolean()) {
        fail("the list's signature should verify against the root alone");
      }
    });
  }

  private Optional<byte[]> encrypt(byte[] entity, Path recipient, String who) throws IOException {
    ObjectNode params = json.createObjectNode();
    params.put("entity_b64", b64(entity));
    params.putArray("recipients").addObject().put("path", recipient.toString());
    return call("smime.encrypt", params).map(r -> {
      byte[] message = unb64(r.path("message_b64").asText());
      show("encrypted to %s: %d bytes, smime-type=%s", who, message.length,
          r.path("smime_type").asText());
      return message;
    });
  }

  private Optional<byte[]> decrypt(byte[] message, Path cert, Path key, Optional<String> password,
      String who, byte[] expected) throws IOException {
    ObjectNode params = json.createObjectNode();
    params.put("message_b64", b64(message));
    params.putArray("keys").addObject().put("cert", cert.toString()).put("key", key.toString());
    password.ifPresent(p -> params.put("key_passwd", p));
    return call("smime.decrypt", params).map(r -> {
      byte[] entity = unb64(r.path("entity_b64").asText());
      show("decrypted by %s: %d bytes, %s%s", who, entity.length,
          r.path("content_encryption").asText(),
          r.path("authenticated").asBoolean() ? " (authenticated)" : "");
      boolean same = Arrays.equals(entity, expected);
      show("identical to what was encrypted: %s", same ? "yes" : "NO");
      if (!same) {
        fail("the decrypted entity differs from the encrypted one");
      }
      for (String line : firstTextBody(entity)) {
        show("  | %s", line);
      }
      return entity;
    });
  }

  /** Sends one request and waits for its answer; the result, or empty after printing why not. */
  private Optional<JsonNode> call(String method, ObjectNode params) throws IOException {
    int id = nextId++;
    ObjectNode request = json.createObjectNode();
    request.put("jsonrpc", "2.0");
    request.put("id", id);
    request.put("method", method);
    request.set("params", params);
    out.println();
    out.println("--> " + method);
    toServer.write(json.writeValueAsBytes(request));
    toServer.write('\n');
    toServer.flush();
    String line = fromServer.readLine();
    if (line == null) {
      fail("the server closed its output");
      return Optional.empty();
    }
    JsonNode response = json.readTree(line);
    if (response.path("id").asInt(-1) != id) {
      fail("answer for id " + response.path("id") + ", expected " + id);
      return Optional.empty();
    }
    if (response.has("error")) {
      JsonNode error = response.get("error");
      fail(String.format("error %d: %s%s", error.path("code").asInt(),
          error.path("message").asText(),
          error.path("data").has("reason")
              ? " (reason " + error.path("data").path("reason").asText() + ")" : ""));
      return Optional.empty();
    }
    return Optional.of(response.path("result"));
  }

  private void show(String format, Object... args) {
    out.println("<-- " + String.format(format, args));
  }

  private void fail(String why) {
    failures++;
    out.println("<-- FAILED: " + why);
  }

  private void skip(String method, String why) {
    failures++;
    out.println();
    out.println("--> " + method + " skipped: " + why);
  }

  /** The body lines of the first text part, for showing what the reader would see. */
  private static List<String> firstTextBody(byte[] entity) {
    String text = new String(entity, StandardCharsets.UTF_8).replace("\r\n", "\n");
    int start = text.indexOf("Content-Type: text/plain");
    if (start < 0) {
      return List.of();
    }
    int body = text.indexOf("\n\n", start);
    if (body < 0) {
      return List.of();
    }
    List<String> lines = new ArrayList<>();
    for (String line : text.substring(body + 2).split("\n")) {
      if (line.startsWith("--")) {
        break;
      }
      lines.add(line);
    }
    while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
      lines.remove(lines.size() - 1);
    }
    return lines;
  }

  private record Pki(Path rootCert, Path listCert, Path listKey, Path subscriberCert,
      Path subscriberKey) {}

  private Pki makePki(Path dir) throws Exception {
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA", BcProvider.get());
    rsa.initialize(2048, new SecureRandom());
    Instant now = Instant.now();
    KeyPair rootKeys = rsa.generateKeyPair();
    X500Name rootName = name("Sympa S/MIME Demo Root CA", Optional.empty());
    X509Certificate root = certificate(rootName, rootKeys, rootName, rootKeys.getPrivate(),
        Optional.empty(), now, true);
    // The list's certificate comes from an intermediate CA, as commercial ones do: its
    // cert.pem holds both, and its signatures must carry the intermediate.
    KeyPair interKeys = rsa.generateKeyPair();
    X500Name interName = name("Sympa S/MIME Demo Intermediate CA", Optional.empty());
    X509Certificate inter = certificate(interName, interKeys, rootName, rootKeys.getPrivate(),
        Optional.empty(), now, true);
    KeyPair listKeys = rsa.generateKeyPair();
    X509Certificate list = certificate(name("demo-list", Optional.of(LIST)), listKeys, interName,
        interKeys.getPrivate(), Optional.of(LIST), now, false);
    KeyPair aliceKeys = rsa.generateKeyPair();
    X509Certificate alice = certificate(name("Alice Subscriber", Optional.of(SUBSCRIBER)),
        aliceKeys, rootName, rootKeys.getPrivate(), Optional.of(SUBSCRIBER), now, false);

    Pki f = new Pki(dir.resolve("ca.pem"), dir.resolve("list/cert.pem"),
        dir.resolve("list/private_key"), dir.resolve("alice/cert.pem"),
        dir.resolve("alice/private_key"));
    Files.createDirectories(f.listCert().getParent());
    Files.createDirectories(f.subscriberCert().getParent());
    Files.writeString(f.rootCert(), Pem.encode(root));
    Files.writeString(f.listCert(), Pem.encode(list) + Pem.encode(inter));
    Files.writeString(f.subscriberCert(), Pem.encode(alice));
    OutputEncryptor encryptor = new JceOpenSSLPKCS8EncryptorBuilder(
        PKCS8Generator.AES_256_CBC).setProvider(BcProvider.get())
        .setPassword(LIST_KEY_PASSWORD.toCharArray()).build();
    Files.writeString(f.listKey(), pem(new JcaPKCS8Generator(listKeys.getPrivate(), encryptor)));
    Files.writeString(f.subscriberKey(), pem(new JcaPKCS8Generator(aliceKeys.getPrivate(), null)));
    out.println("  root CA        " + f.rootCert().getFileName());
    out.println("  intermediate   in the list's cert.pem, after the list's certificate");
    out.println("  list           " + LIST + " (private key encrypted, key_passwd set)");
    out.println("  subscriber     " + SUBSCRIBER);
    return f;
  }

  private static X500Name name(String cn, Optional<String> email) {
    X500NameBuilder b = new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.C, "FR").addRDN(BCStyle.O, "Sympa S/MIME Demo").addRDN(BCStyle.CN, cn);
    email.ifPresent(e -> b.addRDN(BCStyle.EmailAddress, e));
    return b.build();
  }

  private static X509Certificate certificate(X500Name subject, KeyPair keys, X500Name issuer,
      PrivateKey issuerKey, Optional<String> email, Instant now, boolean ca) throws Exception {
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer,
        new BigInteger(64, new SecureRandom()).add(BigInteger.ONE),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(365))),
        subject, keys.getPublic());
    JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
    b.addExtension(Extension.subjectKeyIdentifier, false,
        ext.createSubjectKeyIdentifier(keys.getPublic()));
    if (ca) {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    } else {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      b.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(KeyPurposeId.id_kp_emailProtection));
      b.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(new GeneralName(GeneralName.rfc822Name, email.orElseThrow())));
    }
    return new JcaX509CertificateConverter().setProvider(BcProvider.get()).getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withRSA").setProvider(BcProvider.get())
            .build(issuerKey)));
  }

  private static String pem(JcaPKCS8Generator generator) throws IOException {
    StringWriter s = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(s)) {
      w.writeObject(generator);
    }
    return s.toString();
  }

  private static byte[] concat(String header, byte[] body) {
    byte[] h = header.getBytes(StandardCharsets.US_ASCII);
    byte[] all = Arrays.copyOf(h, h.length + body.length);
    System.arraycopy(body, 0, all, h.length, body.length);
    return all;
  }

  private static String b64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

  private static byte[] unb64(String text) {
    return Base64.getDecoder().decode(text);
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      System.err.println("sympa-smime demo: cannot remove " + dir + ": " + e);
    }
  }
}
