package org.sympasmime.methods;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BinaryNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.sympasmime.rpc.RpcException;

/**
 * Typed access to a request's {@code params}. Every failure is an invalid-params error that names
 * the member, so a client sees exactly which argument was wrong.
 */
public final class Params {
  private final JsonNode node;

  public Params(JsonNode node) {
    this.node = node;
  }

  public String requireText(String name) throws RpcException {
    return optionalText(name).orElseThrow(() -> missing(name));
  }

  public Optional<String> optionalText(String name) throws RpcException {
    JsonNode value = node.get(name);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isTextual()) {
      throw RpcException.invalidParams(name + " must be a string");
    }
    return Optional.of(value.asText());
  }

  /** A non-empty path string. Empty strings count as absent, as Sympa's unset settings are. */
  public Optional<Path> optionalPath(String name) throws RpcException {
    Optional<String> text = optionalText(name);
    return text.filter(s -> !s.isEmpty()).map(Path::of);
  }

  public Path requirePath(String name) throws RpcException {
    return optionalPath(name).orElseThrow(() -> missing(name));
  }

  /**
   * Bytes travel as standard base64 (RFC 4648, with padding), so any byte sequence survives. The
   * server hands large members over already decoded ({@link
   * org.sympasmime.rpc.Base64Members}).
   */
  public byte[] requireBytes(String name) throws RpcException {
    JsonNode value = node.get(name);
    if (value != null && value.isBinary()) {
      return ((BinaryNode) value).binaryValue();
    }
    String text = requireText(name);
    try {
      return Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw RpcException.invalidParams(name + " is not valid base64");
    }
  }

  /**
   * Puts bytes in an answer, as standard base64 with padding and without line breaks: Jackson's
   * default variant writes them straight into its output, where a base64 String would be made
   * first, then copied and scanned for characters to escape (about 3 ms of a 2 MB answer).
   */
  public static void putBytes(ObjectNode out, String name, byte[] bytes) {
    out.put(name, bytes);
  }

  public Optional<Long> optionalLong(String name) throws RpcException {
    JsonNode value = node.get(name);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw RpcException.invalidParams(name + " must be an integer");
    }
    return Optional.of(value.asLong());
  }

  public boolean optionalBoolean(String name, boolean fallback) throws RpcException {
    JsonNode value = node.get(name);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.isBoolean()) {
      throw RpcException.invalidParams(name + " must be true or false");
    }
    return value.asBoolean();
  }

  /** An object, handed back as its own {@link Params}; empty when absent or null. */
  public Optional<Params> optionalObject(String name) throws RpcException {
    JsonNode value = node.get(name);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isObject()) {
      throw RpcException.invalidParams(name + " must be an object");
    }
    return Optional.of(new Params(value));
  }

  /** An array of objects; each element is handed back as its own {@link Params}. */
  public List<Params> requireObjects(String name) throws RpcException {
    JsonNode value = node.get(name);
    if (value == null || !value.isArray()) {
      throw RpcException.invalidParams(name + " must be an array");
    }
    List<Params> out = new ArrayList<>();
    for (JsonNode element : value) {
      if (!element.isObject()) {
        throw RpcException.invalidParams(name + " must hold objects");
      }
      out.add(new Params(element));
    }
    return out;
  }

  private static RpcException missing(String name) {
    return RpcException.invalidParams("missing parameter: " + name);
  }
}
