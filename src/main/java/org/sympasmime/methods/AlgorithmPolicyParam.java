package org.sympasmime.methods;

import java.util.Locale;
import java.util.Optional;
import org.sympasmime.pki.AlgorithmPolicy;
import org.sympasmime.rpc.RpcException;

/**
 * The optional {@code algorithm_policy} object of {@code smime.verify} and {@code smime.sign}:
 * each member overrides one default of {@link AlgorithmPolicy#defaults()}, so the defaults
 * live in one place, on this side.
 */
final class AlgorithmPolicyParam {
  private AlgorithmPolicyParam() {}

  static AlgorithmPolicy read(Params params) throws RpcException {
    Optional<Params> given = params.optionalObject("algorithm_policy");
    AlgorithmPolicy d = AlgorithmPolicy.defaults();
    if (given.isEmpty()) {
      return d;
    }
    Params p = given.get();
    try {
      return new AlgorithmPolicy(
          treatment(p, "md5", d.md5()),
          treatment(p, "sha1", d.sha1()),
          treatment(p, "dsa", d.dsa()),
          bits(p, "min_rsa_bits", d.minRsaBits()),
          bits(p, "strong_rsa_bits", Math.max(d.strongRsaBits(),
              bits(p, "min_rsa_bits", d.minRsaBits()))),
          bits(p, "min_ec_bits", d.minEcBits()));
    } catch (IllegalArgumentException e) {
      throw RpcException.invalidParams("algorithm_policy: " + e.getMessage());
    }
  }

  private static AlgorithmPolicy.Treatment treatment(Params p, String name,
      AlgorithmPolicy.Treatment fallback) throws RpcException {
    Optional<String> text = p.optionalText(name);
    if (text.isEmpty()) {
      return fallback;
    }
    try {
      return AlgorithmPolicy.Treatment.valueOf(text.get().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw RpcException.invalidParams("algorithm_policy." + name
          + " must be refuse, warn or accept");
    }
  }

  private static int bits(Params p, String name, int fallback) throws RpcException {
    Optional<Long> value = p.optionalLong(name);
    if (value.isPresent() && (value.get() < 1 || value.get() > 65536)) {
      throw RpcException.invalidParams("algorithm_policy." + name + " is out of range");
    }
    return value.map(Long::intValue).orElse(fallback);
  }
}
