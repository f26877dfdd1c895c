package org.sympasmime.methods;

import org.sympasmime.pki.Crls;
import org.sympasmime.pki.KeyMaterial;
import org.sympasmime.pki.TrustStores;
import org.sympasmime.rpc.MethodTable;
import org.sympasmime.rpc.Stats;

/**
 * Wires every protocol method to its adapter, one line each, all in the same form. The method
 * names are the protocol.
 */
public final class Registry {
  private Registry() {}

  public static MethodTable build(KeyMaterial keys, Stats stats) {
    ServiceMethods service = new ServiceMethods(keys, stats);
    // One cache of trust stores and CRLs for the verifier and the inventory's checks.
    TrustStores trustStores = new TrustStores();
    Crls crls = new Crls();
    return MethodTable.builder()
        .add("service.version", service::version)
        .add("service.health", service::health)
        .add("service.stats", service::stats)
        .add("service.echo", service::echo)
        .add("smime.decrypt", new DecryptMethod(keys)::handle)
        .add("smime.encrypt", new EncryptMethod(keys)::handle)
        .add("smime.sign", new SignMethod(keys)::handle)
        .add("smime.verify", new VerifyMethod(trustStores, crls)::handle)
        .add("x509.parse", new X509ParseMethod()::handle)
        .add("x509.check", new X509CheckMethod(trustStores, crls, keys)::handle)
        .build();
  }
}
