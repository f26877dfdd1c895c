package org.sympasmime.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sympasmime.Reason;
import org.sympasmime.methods.Registry;
import org.sympasmime.pki.KeyMaterial;

/** The JSON-RPC layer with the real method table, in process: framing and error answers. */
class ServerProtocolTest {
  private static final ObjectMapper JSON = Server.jsonFor(64 << 20);

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();

  /** Feeds {@code input} to a fresh server and returns every answer line, parsed. */
  private List<JsonNode> serve(byte[] input, int maxLineBytes) throws Exception {
    Stats stats = new Stats();
    Server server = new Server(Registry.build(new KeyMaterial(), stats), JSON, maxLineBytes, 2,
        new PrintStream(log, true, StandardCharsets.UTF_8), stats);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    server.serve(new ByteArrayInputStream(input), out);
    List<JsonNode> answers = new ArrayList<>();
    String text = out.toString(StandardCharsets.UTF_8);
    if (!text.isEmpty()) {
      assertTrue(text.endsWith("\n"), "every answer ends with LF");
      for (String line : text.substring(0, text.length() - 1).split("\n", -1)) {
        JsonNode answer = JSON.readTree(line);
        assertTrue(answer.isObject(), line);
        assertEquals("2.0", answer.path("jsonrpc").asText(), line);
        answers.add(answer);
      }
    }
    return answers;
  }

  private List<JsonNode> serve(String input) throws Exception {
    return serve(input.getBytes(StandardCharsets.UTF_8), 1 << 20);
  }

  private static String echo(Object id, byte[] data) throws Exception {
    ObjectNode request = JSON.createObjectNode();
    request.put("jsonrpc", "2.0");
    if (id instanceof Integer i) {
      request.put("id", i);
    } else if (id != null) {
      request.put("id", id.toString());
    }
    request.put("method", "service.echo");
    request.putObject("params").put("data_b64", Base64.getEncoder().encodeToString(data));
    return JSON.writeValueAsString(request) + "\n";
  }

  private static void assertError(JsonNode answer, int code, JsonNode expectedId) {
    assertEquals(code, answer.path("error").path("code").asInt(), answer.toString());
    assertEquals(expectedId, answer.get("id"), answer.toString());
    assertTrue(answer.path("error").path("message").isTextual());
  }

  @Test
  void aBugIsAnInternalErrorWhoseLogHasTheTraceButNoExceptionMessage() throws Exception {
    MethodTable table = MethodTable.builder().add("test.bug", params -> {
      throw new IllegalStateException("key bytes 3082025c",
          new ArithmeticException("more key bytes 02818100"));
    }).build();
    Stats stats = new Stats();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new Server(table, JSON, 1 << 20, 2, new PrintStream(log, true, StandardCharsets.UTF_8), stats)
        .serve(new ByteArrayInputStream(
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.bug\"}\n"
                .getBytes(StandardCharsets.UTF_8)), out);
    JsonNode answer = JSON.readTree(out.toByteArray());
    assertError(answer, RpcException.INTERNAL_ERROR, JSON.getNodeFactory().numberNode(1));
    assertEquals("internal", answer.at("/error/data/reason").asText());
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("reason=internal: java.lang.IllegalStateException"), text);
    assertTrue(text.contains("Caused by: java.lang.ArithmeticException"), text);
    assertTrue(text.contains("\tat org.sympasmime.rpc."), text);
    assertFalse(text.contains("key bytes") || answer.toString().contains("key bytes"), text);
  }

  @Test
  void garbageLinesAreParseErrorsWithNullId() throws Exception {
    byte[] garbage = {'h', 'e', 'l', 'l', 'o', '\n', '{', '\n', (byte) 0xff, 0, (byte) 0xfe, '\n',
        '{', '"', 'a', '"', ':', '\n'};
    List<JsonNode> answers = serve(garbage, 1 << 20);
    assertEquals(4, answers.size());
    for (JsonNode a : answers) {
      assertError(a, -32700, JsonNodeFactory.instance.nullNode());
    }
  }

  @Test
  void jsonThatIsNotARequestIsAnInvalidRequestWithNullId() throws Exception {
    // The last two have no id but are no notifications: an Invalid Request is answered.
    List<JsonNode> answers = serve("[]\n[1,2]\n42\n\"text\"\ntrue\nnull\n"
        + "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"service.version\"}]\n"
        + "{\"jsonrpc\":\"1.0\",\"method\":\"service.version\"}\n"
        + "{\"jsonrpc\":\"2.0\",\"method\":5}\n");
    assertEquals(9, answers.size());
    for (JsonNode a : answers) {
      assertError(a, -32600, JsonNodeFactory.instance.nullNode());
    }
  }

  @Test
  void missingOrWrongJsonrpcMemberIsAnInvalidRequestKeepingTheId() throws Exception {
    List<JsonNode> answers = serve("{\"id\":1,\"method\":\"service.version\"}\n");
    assertError(answers.get(0), -32600, JsonNodeFactory.instance.numberNode(1));
    answers = serve("{\"jsonrpc\":\"1.0\",\"id\":\"x\",\"method\":\"service.version\"}\n");
    assertError(answers.get(0), -32600, JsonNodeFactory.instance.textNode("x"));
    answers = serve("{\"jsonrpc\":\"2.0\",\"id\":3}\n");
    assertError(answers.get(0), -32600, JsonNodeFactory.instance.numberNode(3));
  }

  @Test
  void unknownMethodIsMethodNotFound() throws Exception {
    List<JsonNode> answers = serve(
        "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"smime.nonesuch\",\"params\":{}}\n");
    assertError(answers.get(0), -32601, JsonNodeFactory.instance.textNode("abc"));
  }

  @Test
  void invalidParamsNameTheMember() throws Exception {
    List<JsonNode> answers = serve(
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"service.echo\",\"params\":{\"data_b64\":\"!!not base64\"}}\n"
            + "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"service.echo\",\"params\":{}}\n"
            + "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"service.echo\",\"params\":[1]}\n"
            + "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"smime.sign\",\"params\":"
            + "{\"entity_b64\":\"%%%\",\"cert\":\"/nonexistent\",\"key\":\"/nonexistent\"}}\n"
            + "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"smime.sign\",\"params\":"
            + "{\"entity_b64\":\"\",\"cert\":\"/c\",\"key\":\"/k\",\"include_chain\":\"yes\"}}\n");
    Map<Integer, JsonNode> byId = byIntId(answers);
    assertEquals(5, byId.size());
    for (int id = 1; id <= 5; id++) {
      assertError(byId.get(id), -32602, JsonNodeFactory.instance.numberNode(id));
      assertEquals("malformed_input", byId.get(id).path("error").path("data").path("reason")
          .asText());
    }
    assertTrue(byId.get(1).path("error").path("message").asText().contains("data_b64"));
    assertTrue(byId.get(4).path("error").path("message").asText().contains("entity_b64"));
  }

  @Test
  void anOverlongLineIsSkippedAndTheNextRequestAnswered() throws Exception {
    ByteArrayOutputStream input = new ByteArrayOutputStream();
    byte[] huge = echo(1, new byte[5000]).getBytes(StandardCharsets.US_ASCII);
    input.writeBytes(huge);
    input.writeBytes(echo(2, "after".getBytes(StandardCharsets.US_ASCII))
        .getBytes(StandardCharsets.US_ASCII));
    List<JsonNode> answers = serve(input.toByteArray(), 1024);
    assertEquals(2, answers.size());
    JsonNode tooLarge = answers.stream().filter(a -> a.has("error")).findFirst().orElseThrow();
    // The id comes before the large member, so the refusal can name it.
    assertError(tooLarge, -32600, JsonNodeFactory.instance.numberNode(1));
    assertEquals("too_large", tooLarge.path("error").path("data").path("reason").asText());
    JsonNode ok = answers.stream().filter(a -> a.has("result")).findFirst().orElseThrow();
    assertEquals(2, ok.path("id").asInt());
    assertEquals("after", new String(Base64.getDecoder().decode(
        ok.path("result").path("data_b64").asText()), StandardCharsets.US_ASCII));
  }

  @Test
  void everyByteValueRoundTripsThroughEcho() throws Exception {
    byte[] all = new byte[256];
    for (int i = 0; i < 256; i++) {
      all[i] = (byte) i;
    }
    List<JsonNode> answers = serve(echo(1, all));
    assertArrayEquals(all,
        Base64.getDecoder().decode(answers.get(0).path("result").path("data_b64").asText()));
  }

  @Test
  void hundredPipelinedRequestsAreAllAnsweredWithTheirIds() throws Exception {
    StringBuilder input = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      input.append(echo(i, ("payload " + i).getBytes(StandardCharsets.US_ASCII)));
    }
    Map<Integer, JsonNode> byId = byIntId(serve(input.toString()));
    assertEquals(100, byId.size());
    for (int i = 0; i < 100; i++) {
      byte[] data = Base64.getDecoder().decode(byId.get(i).path("result").path("data_b64")
          .asText());
      assertEquals("payload " + i, new String(data, StandardCharsets.US_ASCII));
    }
  }

  @Test
  void aThousandMalformedInputsDoNotStopTheServer() throws Exception {
    String[] bad = {
      "not json at all",
      "{\"jsonrpc\":\"2.0\",\"id\":",
      "[1,2,3]",
      "{\"jsonrpc\":\"2.0\",\"id\":{\"nested\":1},\"method\":\"service.version\",\"x\":",
      "{\"id\":5,\"method\":\"service.version\"}",
      "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":42}",
      "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"no.such.method\"}",
      "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"service.echo\",\"params\":{\"data_b64\":7}}",
      "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"smime.sign\",\"params\":\"x\"}",
      "\u0000\u0001\u0002",
    };
    StringBuilder input = new StringBuilder();
    for (int i = 0; i < 1000; i++) {
      input.append(bad[i % bad.length]).append('\n');
    }
    input.append(echo("last", "still alive".getBytes(StandardCharsets.US_ASCII)));
    List<JsonNode> answers = serve(input.toString());
    assertEquals(1001, answers.size());
    assertEquals(1000, answers.stream().filter(a -> a.has("error")).count());
    JsonNode last = answers.stream().filter(a -> a.has("result")).findFirst().orElseThrow();
    assertEquals("last", last.path("id").asText());
    assertEquals("still alive", new String(Base64.getDecoder().decode(
        last.path("result").path("data_b64").asText()), StandardCharsets.US_ASCII));
  }

  @Test
  void successfulNotificationsGetNoAnswer() throws Exception {
    List<JsonNode> answers = serve(echo(null, "one".getBytes(StandardCharsets.US_ASCII))
        + "{\"jsonrpc\":\"2.0\",\"method\":\"service.version\"}\n"
        + echo(9, "two".getBytes(StandardCharsets.US_ASCII)));
    assertEquals(1, answers.size());
    assertEquals(9, answers.get(0).path("id").asInt());
  }

  @Test
  void failedNotificationsGetNoAnswerEitherButALogLine() throws Exception {
    List<JsonNode> answers = serve(
        "{\"jsonrpc\":\"2.0\",\"method\":\"no.such.method\"}\n"
            + "{\"jsonrpc\":\"2.0\",\"method\":\"service.echo\",\"params\":{}}\n"
            + "{\"jsonrpc\":\"2.0\",\"method\":\"service.echo\",\"params\":[1]}\n"
            + echo(7, new byte[0]));
    assertEquals(1, answers.size(), answers.toString());
    assertEquals(7, answers.get(0).path("id").asInt());
    String logged = log.toString(StandardCharsets.UTF_8);
    assertTrue(logged.contains("method=no.such.method id=- reason=unknown_method"), logged);
    assertEquals(3, logged.lines().filter(l -> l.contains("id=- reason=")).count(), logged);
  }

  @Test
  void everyErrorCarriesAReasonFromTheOneTable() throws Exception {
    Set<String> reasons = new HashSet<>();
    for (Reason reason : Reason.values()) {
      reasons.add(reason.id());
    }
    for (ProtocolReason reason : ProtocolReason.values()) {
      assertTrue(reasons.contains(reason.id()), reason.id() + " is not in Reason");
    }
    List<JsonNode> answers = serve("garbage\n[1]\n"
        + "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}\n"
        + "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"service.echo\",\"params\":[]}\n"
        + "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"smime.decrypt\","
        + "\"params\":{\"message_b64\":\"AAAA\",\"keys\":[]}}\n");
    assertEquals(5, answers.size());
    for (JsonNode answer : answers) {
      String reason = answer.path("error").path("data").path("reason").asText("");
      assertTrue(reasons.contains(reason), answer.toString());
    }
  }

  @Test
  void stringAndIntegerIdsAreEchoedAsSentOthersAsNull() throws Exception {
    List<JsonNode> answers = serve(
        "{\"jsonrpc\":\"2.0\",\"id\":\"a-1\",\"method\":\"service.version\"}\n"
            + "{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"service.version\"}\n"
            + "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"service.version\"}\n"
            + "{\"jsonrpc\":\"2.0\",\"id\":9007199254740993,\"method\":\"service.version\"}\n"
            + "{\"jsonrpc\":\"2.0\",\"id\":-7,\"method\":\"no.such\"}\n"
            + "{\"jsonrpc\":\"2.0\",\"id\":{\"x\":1},\"method\":\"service.version\"}\n");
    assertEquals(6, answers.size());
    List<String> ids = new ArrayList<>();
    for (JsonNode answer : answers) {
      ids.add(answer.get("id").toString());
    }
    ids.sort(null);
    // Echoed as sent, type included: "42" would not match a client's 42.
    assertEquals(List.of("\"\"", "\"a-1\"", "-7", "42", "9007199254740993", "null"), ids);
  }

  @Test
  void blankLinesAreIgnored() throws Exception {
    List<JsonNode> answers = serve("\n\r\n  \n" + echo(1, new byte[0]) + "\n");
    assertEquals(1, answers.size());
  }

  private static Map<Integer, JsonNode> byIntId(List<JsonNode> answers) {
    Map<Integer, JsonNode> byId = new HashMap<>();
    for (JsonNode a : answers) {
      assertEquals(null, byId.put(a.path("id").asInt(), a), "id answered twice: " + a);
    }
    return byId;
  }

  @Test
  void aMessageLargerThanJacksonsDefaultStringLimitRoundTrips() throws Exception {
    byte[] data = new byte[24 << 20]; // base64: 32 MiB, over Jackson's 20 MB default
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 31);
    }
    List<JsonNode> answers =
        serve(echo(1, data).getBytes(StandardCharsets.UTF_8), 64 << 20);
    assertEquals(1, answers.size());
    assertArrayEquals(data,
        Base64.getDecoder().decode(answers.get(0).path("result").path("data_b64").asText()),
        answers.get(0).toString().substring(0, Math.min(300, answers.get(0).toString().length())));
  }
}
