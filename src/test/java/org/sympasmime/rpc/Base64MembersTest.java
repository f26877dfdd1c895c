package org.sympasmime.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Large base64 members decoded from the line's bytes: the same tree as Jackson's, decoded. */
class Base64MembersTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static byte[] bytes(int size) {
    byte[] data = new byte[size];
    new Random(size).nextBytes(data);
    data[0] = 0;
    data[1] = '\r';
    data[2] = '\n';
    return data;
  }

  /** The tree read through Base64Members, with binary nodes printed back as base64 text. */
  private static JsonNode read(String line) throws Exception {
    Base64Members.Split split = Base64Members.split(line.getBytes(StandardCharsets.UTF_8));
    JsonNode tree = JSON.readTree(split.line());
    Base64Members.restore(tree, split.decoded());
    return JSON.readTree(JSON.writeValueAsBytes(tree));
  }

  @Test
  void sameTreeAsJackson() throws Exception {
    String big = Base64.getEncoder().encodeToString(bytes(5000));
    String[] lines = {
      "{\"params\":{\"message_b64\":\"" + big + "\",\"keys\":[{\"cert\":\"/a\"}]},\"id\":1}",
      "{\"a_b64\":\"" + big + "\",\"list\":[{\"b_b64\":\"" + big + "\"}],\"c_b64\":\"QUJD\"}",
      "{\"text\":\"say \\\"x_b64\\\":\\\"" + big + "\\\"\",\"n\":1}",
      "{\"bad_b64\":\"" + big.substring(1) + "\"}",
      "{\"esc_b64\":\"" + big.substring(0, 2000) + "\\/" + "\"}",
      "{\"lf_b64\":\"" + big.substring(0, 2000) + "\\n\"}",
      "[\"x_b64\",\"" + big + "\"]",
    };
    for (String line : lines) {
      assertEquals(JSON.readTree(line), read(line), line.substring(0, 40));
    }
  }

  @Test
  void decodedMembersAreBinary() throws Exception {
    byte[] data = bytes(3000);
    String line = "{\"params\":{\"data_b64\":\"" + Base64.getEncoder().encodeToString(data)
        + "\"}}";
    Base64Members.Split split = Base64Members.split(line.getBytes(StandardCharsets.UTF_8));
    assertTrue(split.line().length < 200, "the member left the line");
    JsonNode tree = JSON.readTree(split.line());
    Base64Members.restore(tree, split.decoded());
    JsonNode member = tree.get("params").get("data_b64");
    assertTrue(member.isBinary());
    assertArrayEquals(data, member.binaryValue());
  }

  @Test
  void smallOrNoMembersLeaveTheLineAlone() {
    byte[] line = "{\"data_b64\":\"QUJD\"}".getBytes(StandardCharsets.UTF_8);
    assertSame(line, Base64Members.split(line).line());
  }
}
