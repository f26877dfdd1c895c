package org.sympasmime.methods;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.sympasmime.Version;
import org.sympasmime.pki.BcProvider;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.rpc.RpcException;
import org.sympasmime.rpc.Stats;

/**
 * {@code service.*}: what the client needs to know the sidecar is the one it expects, and alive.
 */
final class ServiceMethods {
  private final KeyMaterial keys;
  private final Stats stats;

  ServiceMethods(KeyMaterial keys, Stats stats) {
    this.keys = keys;
    this.stats = stats;
  }

  JsonNode version(JsonNode params) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("name", "sympa-smime");
    out.put("version", Version.VERSION);
    out.put("protocol", Version.PROTOCOL);
    out.put("java", System.getProperty("java.version"));
    out.put("bouncycastle", BcProvider.get().getVersionStr());
    // What "cafile and capath unset" means, for tools that report it (the doctor).
    out.put("system_trust_store", TrustStores.SYSTEM_CA_FILE.toString());
    return out;
  }

  JsonNode health(JsonNode params) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("status", "ok");
    out.put("uptime_ms", stats.uptimeMillis());
    out.put("workers", Runtime.getRuntime().availableProcessors());
    return out;
  }

  /** Hands {@code data_b64} back unchanged, so a client can test the framing with any bytes. */
  JsonNode echo(JsonNode params) throws RpcException {
    byte[] data = new Params(params).requireBytes("data_b64");
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    Params.putBytes(out, "data_b64", data);
    return out;
  }

  JsonNode stats(JsonNode params) {
    ObjectNode out = stats.toJson();
    ObjectNode cache = out.putObject("cache");
    cache.put("entries", keys.size());
    cache.put("hits", keys.hits());
    cache.put("misses", keys.misses());
    Runtime rt = Runtime.getRuntime();
    out.put("heap_used_bytes", rt.totalMemory() - rt.freeMemory());
    return out;
  }
}
