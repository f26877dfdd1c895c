package org.sympasmime.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache under trust stores and CRLs: read once per state of the disk, again on change. */
class DiskSnapshotsTest {
  private final AtomicInteger reads = new AtomicInteger();
  private final DiskSnapshots<String> cache = new DiskSnapshots<>(8);

  private String get(Path path) throws Exception {
    return cache.get(DiskSnapshots.snapshot(path), s -> {
      reads.incrementAndGet();
      StringBuilder out = new StringBuilder();
      try {
        for (Path p : s.files()) {
          out.append(p.getFileName()).append('=').append(Files.readString(p)).append(';');
        }
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      return out.toString();
    });
  }

  @Test
  void aFileIsReadAgainOnlyWhenItChanges(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("ca.pem"), "one");
    assertEquals("ca.pem=one;", get(file));
    assertEquals("ca.pem=one;", get(file));
    assertEquals(1, reads.get());

    Files.writeString(file, "two!");
    assertEquals("ca.pem=two!;", get(file));
    // Same size, new time: still a new state.
    Files.writeString(file, "six!");
    Files.setLastModifiedTime(file, FileTime.fromMillis(1_000_000));
    assertEquals("ca.pem=six!;", get(file));
    assertEquals(3, reads.get());
  }

  @Test
  void aDirectoryIsReadAgainWhenAFileComesOrGoes(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("b.pem"), "B");
    Files.writeString(dir.resolve("a.pem"), "A");
    Files.createSymbolicLink(dir.resolve("dangling.0"), dir.resolve("nowhere"));
    Files.createDirectory(dir.resolve("sub"));
    assertEquals("a.pem=A;b.pem=B;", get(dir), "regular files only, in name order");
    assertEquals("a.pem=A;b.pem=B;", get(dir));
    assertEquals(1, reads.get());

    Files.createSymbolicLink(dir.resolve("1a2b3c4d.0"), dir.resolve("a.pem"));
    assertEquals("1a2b3c4d.0=A;a.pem=A;b.pem=B;", get(dir), "links are followed");
    Files.delete(dir.resolve("b.pem"));
    assertEquals("1a2b3c4d.0=A;a.pem=A;", get(dir));
    assertEquals(3, reads.get());

    DiskSnapshots.Snapshot snapshot = DiskSnapshots.snapshot(dir);
    assertTrue(snapshot.directory());
    assertFalse(DiskSnapshots.snapshot(dir.resolve("a.pem")).directory());
    assertEquals(List.of(dir.resolve("1a2b3c4d.0"), dir.resolve("a.pem")), snapshot.files());
  }

  @Test
  void aMissingPathIsAnIoErrorWithAPlainReason(@TempDir Path dir) {
    IOException e = assertThrows(NoSuchFileException.class,
        () -> DiskSnapshots.snapshot(dir.resolve("missing")));
    assertEquals("no such file or directory", DiskSnapshots.why(e));
  }

  @Test
  void variantsOfOneFileAreCachedApart(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("private_key"), "k");
    AtomicInteger opened = new AtomicInteger();
    DiskSnapshots.Reader<String> reader = s -> "read " + opened.incrementAndGet();
    DiskSnapshots.Snapshot snapshot = DiskSnapshots.snapshot(file);
    assertEquals("read 1", cache.get(snapshot, "password A", reader));
    assertEquals("read 2", cache.get(snapshot, "password B", reader));
    assertEquals("read 1", cache.get(DiskSnapshots.snapshot(file), "password A", reader));
    assertEquals(2, cache.misses());
    assertEquals(1, cache.hits());
  }
}
