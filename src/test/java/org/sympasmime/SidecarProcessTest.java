package org.sympasmime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sympasmime.smime.SignTestPki;
import org.sympasmime.testutil.Openssl;

/**
 * The sidecar as Sympa runs it: a separate JVM reading stdin and writing stdout. Checks what only
 * the real process shows: exit status, stdout purity, end-of-input handling, the line limit set
 * by a system property.
 */
class SidecarProcessTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static SignTestPki pki;

  @BeforeAll
  static void pki() throws Exception {
    pki = new SignTestPki(dir);
  }

  /** What the process wrote and how it ended. */
  record Run(int exit, List<JsonNode> answers, String stderr) {
    Map<String, JsonNode> byId() {
      Map<String, JsonNode> map = new HashMap<>();
      for (JsonNode a : answers) {
        assertEquals(null, map.put(a.path("id").asText(), a), "answered twice: " + a);
      }
      return map;
    }
  }

  /**
   * Starts {@code org.sympasmime.Main}, writes {@code input} then closes stdin, and collects
   * every stdout line, failing if one of them is not a JSON-RPC answer object.
   */
  private static Run run(byte[] input, String... jvmProperties) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(jvmProperties));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "org.sympasmime.Main"));
    Process p = new ProcessBuilder(command).start();
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    Thread out = pump(p.getInputStream(), stdout);
    Thread err = pump(p.getErrorStream(), stderr);
    try (OutputStream stdin = p.getOutputStream()) {
      stdin.write(input);
    }
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the sidecar did not exit at end of input");
    out.join();
    err.join();
    String text = stdout.toString(StandardCharsets.UTF_8);
    List<JsonNode> answers = new ArrayList<>();
    if (!text.isEmpty()) {
      assertTrue(text.endsWith("\n"));
      for (String line : text.substring(0, text.length() - 1).split("\n", -1)) {
        JsonNode answer = JSON.readTree(line);
        assertTrue(answer.isObject() && "2.0".equals(answer.path("jsonrpc").asText())
            && (answer.has("result") ^ answer.has("error")), "not a JSON-RPC answer: " + line);
        answers.add(answer);
      }
    }
    return new Run(p.exitValue(), answers, stderr.toString(StandardCharsets.UTF_8));
  }

  private static Thread pump(InputStream in, ByteArrayOutputStream to) {
    Thread t = new Thread(() -> {
      try {
        in.transferTo(to);
      } catch (IOException e) {
        // the process died; the assertions on its output will say so
      }
    });
    t.start();
    return t;
  }

  private static String request(Object id, String method, ObjectNode params) throws Exception {
    ObjectNode r = JSON.createObjectNode();
    r.put("jsonrpc", "2.0");
    if (id != null) {
      r.put("id", id.toString());
    }
    r.put("method", method);
    r.set("params", params);
    return JSON.writeValueAsString(r) + "\n";
  }

  private static ObjectNode echoParams(byte[] data) {
    ObjectNode p = JSON.createObjectNode();
    p.put("data_b64", Base64.getEncoder().encodeToString(data));
    return p;
  }

  private static ObjectNode signParams(byte[] entity) {
    ObjectNode p = JSON.createObjectNode();
    p.put("entity_b64", Base64.getEncoder().encodeToString(entity));
    p.put("cert", pki.path("rsa-chain.pem").toString());
    p.put("key", pki.path("rsa.key").toString());
    return p;
  }

  private static byte[] allBytes() {
    byte[] all = new byte[256];
    for (int i = 0; i < 256; i++) {
      all[i] = (byte) i;
    }
    return all;
  }

  @Test
  void endOfInputFinishesInFlightRequestsThenExitsZeroWithOnlyJsonOnStdout() throws Exception {
    StringBuilder input = new StringBuilder();
    byte[] entity = "Content-Type: text/plain\n\nhello\n".getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < 20; i++) {
      input.append(request("sign-" + i, "smime.sign", signParams(entity)));
      input.append(request("echo-" + i, "service.echo", echoParams(new byte[] {(byte) i})));
      input.append("garbage line ").append(i).append('\n');
    }
    input.append(request(null, "service.echo", echoParams(new byte[] {1})));
    // The input ends right after the last request: it is still in flight.
    input.append(request("last", "smime.sign", signParams(entity)));
    Run run = run(input.toString().getBytes(StandardCharsets.UTF_8));

    assertEquals(0, run.exit(), run.stderr());
    assertEquals(20 + 20 + 20 + 1, run.answers().size());
    Map<String, JsonNode> byId = new HashMap<>();
    for (JsonNode a : run.answers()) {
      if (!a.path("id").isNull()) {
        byId.put(a.path("id").asText(), a);
      } else {
        assertEquals(-32700, a.path("error").path("code").asInt());
      }
    }
    for (int i = 0; i < 20; i++) {
      assertEquals("sha-256", byId.get("sign-" + i).path("result").path("micalg").asText());
      assertEquals(2, byId.get("sign-" + i).path("result").path("certificates").asInt());
      assertArrayEquals(new byte[] {(byte) i}, Base64.getDecoder().decode(
          byId.get("echo-" + i).path("result").path("data_b64").asText()));
    }
    assertTrue(byId.get("last").has("result"));
    // Diagnostics went to stderr, one line per failure.
    assertEquals(20, run.stderr().lines().filter(l -> l.startsWith("sympa-smime: error")
        && l.contains("reason=malformed_input")).count(), run.stderr());
  }

  @Test
  void lineLimitFromSystemPropertySkipsTheLongLineAndServesTheNext() throws Exception {
    String input = request("long", "service.echo", echoParams(new byte[10_000]))
        + request("short", "service.echo", echoParams(new byte[] {42}));
    Run run = run(input.getBytes(StandardCharsets.US_ASCII), "-Dsympa.smime.maxLineBytes=4096");
    assertEquals(0, run.exit(), run.stderr());
    assertEquals(2, run.answers().size());
    Map<String, JsonNode> byId = run.byId();
    // The id comes before the long parameter, so the refusal can name it.
    JsonNode tooLarge = byId.get("long");
    assertEquals(-32600, tooLarge.path("error").path("code").asInt());
    assertEquals("too_large", tooLarge.path("error").path("data").path("reason").asText());
    assertArrayEquals(new byte[] {42}, Base64.getDecoder().decode(
        byId.get("short").path("result").path("data_b64").asText()));
  }

  @Test
  void everyByteValueSurvivesEchoAndSignAndOpensslVerifiesTheSignature() throws Exception {
    ByteArrayOutputStream entity = new ByteArrayOutputStream();
    entity.writeBytes("Content-Type: application/octet-stream\n\n"
        .getBytes(StandardCharsets.US_ASCII));
    entity.writeBytes(allBytes());
    String input = request("echo", "service.echo", echoParams(allBytes()))
        + request("sign", "smime.sign", signParams(entity.toByteArray()));
    Run run = run(input.getBytes(StandardCharsets.US_ASCII));
    assertEquals(0, run.exit(), run.stderr());
    Map<String, JsonNode> byId = run.byId();
    assertArrayEquals(allBytes(), Base64.getDecoder().decode(
        byId.get("echo").path("result").path("data_b64").asText()));

    byte[] message = Base64.getDecoder().decode(
        byId.get("sign").path("result").path("message_b64").asText());
    // The first part is the input with each bare LF turned into CRLF and nothing else.
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    byte[] in = entity.toByteArray();
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) {
        expected.write('\r');
      }
      expected.write(in[i]);
    }
    String text = new String(message, StandardCharsets.ISO_8859_1);
    String boundary = text.replaceFirst("(?s).*?boundary=\"([^\"]+)\".*", "$1");
    String delimiter = "\r\n--" + boundary + "\r\n";
    int start = text.indexOf(delimiter) + delimiter.length();
    int end = text.indexOf(delimiter, start);
    byte[] firstPart = text.substring(start, end).getBytes(StandardCharsets.ISO_8859_1);
    assertArrayEquals(expected.toByteArray(), firstPart);

    Path file = dir.resolve("binary-signed.eml");
    Files.write(file, message);
    Path content = dir.resolve("binary-content.bin");
    Openssl.Run v = Openssl.run(dir, "cms", "-verify", "-in", file.toString(),
        "-CAfile", "root.pem", "-out", content.toString());
    assertEquals(0, v.exit(), v.stderr());
    assertArrayEquals(firstPart, Files.readAllBytes(content));
  }
}
