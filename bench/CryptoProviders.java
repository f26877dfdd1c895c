// The bulk work of a 2 MB message in each provider: AES-128-CBC, SHA-256, base64, and the
// RSA-2048 private-key operation of every decryption and signature. Why BulkCrypto takes
// ciphers and digests from the JDK (docs/performance.md).
//
//   java -cp target/sympa-smime.jar bench/CryptoProviders.java
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Provider;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

public class CryptoProviders {
  public static void main(String[] args) throws Exception {
    Provider bc = new BouncyCastleProvider();
    byte[] data = new byte[2_000_000];
    new SecureRandom().nextBytes(data);
    SecretKeySpec key = new SecretKeySpec(new byte[16], "AES");
    IvParameterSpec iv = new IvParameterSpec(new byte[16]);
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", bc);
    g.initialize(2048);
    KeyPair rsa = g.generateKeyPair();
    Cipher wrap = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    wrap.init(Cipher.ENCRYPT_MODE, rsa.getPublic());
    byte[] wrapped = wrap.doFinal(new byte[16]);
    System.out.println("ms per 2 MB (RSA: ms per operation); the last rounds count");
    for (int round = 1; round <= 30; round++) {
      Cipher e = Cipher.getInstance("AES/CBC/PKCS5Padding", bc);
      e.init(Cipher.ENCRYPT_MODE, key, iv);
      byte[] ct = e.doFinal(data);
      long t0 = System.nanoTime();
      Cipher d = Cipher.getInstance("AES/CBC/PKCS5Padding", bc);
      d.init(Cipher.DECRYPT_MODE, key, iv);
      d.doFinal(ct);
      long t1 = System.nanoTime();
      Cipher j = Cipher.getInstance("AES/CBC/PKCS5Padding", "SunJCE");
      j.init(Cipher.DECRYPT_MODE, key, iv);
      j.doFinal(ct);
      long t2 = System.nanoTime();
      MessageDigest.getInstance("SHA-256", bc).digest(data);
      long t3 = System.nanoTime();
      MessageDigest.getInstance("SHA-256", "SUN").digest(data);
      long t4 = System.nanoTime();
      String b64 = Base64.getEncoder().encodeToString(data);
      long t5 = System.nanoTime();
      Base64.getDecoder().decode(b64);
      long t6 = System.nanoTime();
      for (int i = 0; i < 20; i++) {
        Cipher r = Cipher.getInstance("RSA/ECB/PKCS1Padding", bc);
        r.init(Cipher.DECRYPT_MODE, rsa.getPrivate());
        r.doFinal(wrapped);
      }
      long t7 = System.nanoTime();
      for (int i = 0; i < 20; i++) {
        Cipher r = Cipher.getInstance("RSA/ECB/PKCS1Padding", "SunJCE");
        r.init(Cipher.DECRYPT_MODE, rsa.getPrivate());
        r.doFinal(wrapped);
      }
      long t8 = System.nanoTime();
      if (round % 10 == 0) {
        System.out.printf("AES-CBC decrypt BC %.1f JDK %.1f | SHA-256 BC %.1f JDK %.1f"
            + " | base64 enc %.1f dec %.1f | RSA-2048 private BC %.2f JDK %.2f%n",
            (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t4 - t3) / 1e6,
            (t5 - t4) / 1e6, (t6 - t5) / 1e6, (t7 - t6) / 20e6, (t8 - t7) / 20e6);
      }
    }
  }
}
