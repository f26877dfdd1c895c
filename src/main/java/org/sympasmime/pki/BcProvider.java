package org.sympasmime.pki;

import java.security.Provider;
import java.security.Security;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The one Bouncy Castle provider of the process. Our code passes this instance explicitly, so
 * nothing depends on someone having registered it first; it is registered with the JCA as well,
 * for the library code that looks providers up by name.
 */
public final class BcProvider {
  private static final Provider INSTANCE = register();

  private BcProvider() {}

  public static Provider get() {
    return INSTANCE;
  }

  private static Provider register() {
    Provider existing = Security.getProvider(BouncyCastleProvider.PROVIDER_NAME);
    if (existing != null) {
      return existing;
    }
    Provider bc = new BouncyCastleProvider();
    Security.addProvider(bc);
    return bc;
  }
}
