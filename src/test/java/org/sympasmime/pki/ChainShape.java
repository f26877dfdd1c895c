package org.sympasmime.pki;

import org.bouncycastle.cert.X509CertificateHolder;
import java.util.List;
import java.util.function.Supplier;
import org.sympasmime.testutil.CertSpec;
import org.sympasmime.testutil.TestCert;

/**
 * One certificate path situation of the chain matrix: what it is built to test ({@code rule}),
 * the verdict RFC 5280 and our policy call for ({@code intended}), and how to build it.
 * Shapes come in pairs: each invalid case has a valid twin that differs only in the point
 * tested, so a shape that is refused for an unrelated reason shows up as a refused twin.
 */
record ChainShape(String name, String rule, boolean intended, Supplier<Chain> build) {

  /**
   * What a message carries and what the verifier trusts.
   *
   * @param anchors the cafile
   * @param signer the signing certificate and its key
   * @param carried the certificates the message carries besides the signer's, in order
   * @param cmsAlgorithm the SignerInfo's signature algorithm
   */
  record Chain(List<TestCert> anchors, TestCert signer, List<X509CertificateHolder> carried,
      String cmsAlgorithm) {
    Chain {
      anchors = List.copyOf(anchors);
      carried = List.copyOf(carried);
    }

    Chain(List<TestCert> anchors, TestCert signer, List<X509CertificateHolder> carried) {
      this(anchors, signer, carried, CertSpec.defaultAlgorithm(signer.keys().getPrivate()));
    }

    Chain signedWith(String algorithm) {
      return new Chain(anchors, signer, carried, algorithm);
    }
  }
}
