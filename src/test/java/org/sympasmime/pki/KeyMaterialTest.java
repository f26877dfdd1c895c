package org.sympasmime.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sympasmime.Reason;
import org.sympasmime.SmimeException;
import org.sympasmime.testutil.TestPki;

/** Keys and certificates through the one disk-keyed cache. */
class KeyMaterialTest {
  private final TestPki pki = TestPki.get();
  private final KeyMaterial material = new KeyMaterial();

  @Test
  void aCertificateIsParsedOnceUntilItsFileChanges(@TempDir Path dir) throws Exception {
    Path cert = Files.copy(pki.cert("alice"), dir.resolve("cert.pem"));
    X509Certificate first = material.certificate(cert);
    assertSame(first, material.certificate(cert));
    assertEquals(1, material.misses());
    assertEquals(1, material.hits());

    Files.write(cert, Files.readAllBytes(pki.cert("bob")));
    X509Certificate replaced = material.certificate(cert);
    assertNotEquals(first.getSubjectX500Principal(), replaced.getSubjectX500Principal());
    assertEquals(2, material.misses());
  }

  @Test
  void aKeyCachedUnderOnePasswordIsNotFoundUnderAnother() throws Exception {
    Path key = pki.path("alice.p8enc.key");
    PrivateKey opened = material.privateKey(key, Optional.of(TestPki.PASSWORD));
    assertSame(opened, material.privateKey(key, Optional.of(TestPki.PASSWORD)));
    SmimeException wrong = assertThrows(SmimeException.class,
        () -> material.privateKey(key, Optional.of("not the password")));
    assertEquals(Reason.BAD_PASSWORD, wrong.reason());
    assertThrows(SmimeException.class, () -> material.privateKey(key, Optional.empty()));
    assertTrue(!wrong.getMessage().contains(TestPki.PASSWORD), wrong.getMessage());
  }

  @Test
  void aDirectoryOrAPipeIsUnreadableAtOnce(@TempDir Path dir) throws Exception {
    SmimeException directory =
        assertThrows(SmimeException.class, () -> material.certificate(dir));
    assertEquals(Reason.FILE_UNREADABLE, directory.reason());
    Path fifo = dir.resolve("fifo");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertEquals(0, mkfifo.waitFor());
    // Reading a FIFO nobody writes to would block the worker for ever.
    SmimeException pipe = assertTimeoutPreemptively(Duration.ofSeconds(10),
        () -> assertThrows(SmimeException.class, () -> material.privateKey(fifo,
            Optional.empty())));
    assertEquals(Reason.FILE_UNREADABLE, pipe.reason());
  }
}
