package org.sympasmime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class DemoTest {
  private static final List<String> STEPS =
      List.of("smime.sign", "smime.verify", "x509.parse", "smime.encrypt", "smime.decrypt");

  @Test
  void demoRunsThePostThroughTheProtocolAndCleansUp() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int exit = Demo.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String out = bytes.toString(StandardCharsets.UTF_8);

    assertTrue(out.contains("--> smime.sign"), out);
    assertTrue(out.contains("<-- signed by alice@example.org"), out);
    assertTrue(out.contains("<-- signed by the list: 2 certificate(s) carried"), out);
    assertTrue(out.contains("<-- against the root CA alone: valid=true reason=ok"), out);
    Matcher m = Pattern.compile("throwaway PKI in (\\S+)").matcher(out);
    assertTrue(m.find(), out);
    assertFalse(Files.exists(Path.of(m.group(1))), "the demo PKI must be deleted");

    assertEquals(0, exit, out);
    assertTrue(out.contains("demo: every step succeeded"), out);
    for (String step : STEPS) {
      assertTrue(out.contains("--> " + step), step + " missing from:\n" + out);
    }
  }
}
