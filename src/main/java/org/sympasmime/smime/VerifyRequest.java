package org.sympasmime.smime;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A signature check.
 *
 * @param message the whole message as received, header and body
 * @param cafile PEM bundle of trust anchors; with {@code capath} absent too, the system store
 * @param capath directory of certificates
 * @param atTime validation time; now when absent
 */
public record VerifyRequest(byte[] message, Optional<Path> cafile, Optional<Path> capath,
    Optional<Instant> atTime) {
  public VerifyRequest {
    Objects.requireNonNull(message);
    Objects.requireNonNull(cafile);
    Objects.requireNonNull(capath);
    Objects.requireNonNull(atTime);
  }
}
