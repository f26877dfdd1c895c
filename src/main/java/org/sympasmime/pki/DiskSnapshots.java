package org.sympasmime.pki;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.sympasmime.SmimeException;

/**
 * The one disk-keyed cache, under certificates, private keys, trust stores and CRLs. Values read
 * from a file, or from every regular file of a directory, cached under a key made of
 * what is on disk: a file's path, modification time and size; for a directory, the name, time
 * and size of each file in it (links followed, as {@code c_rehash} makes them). Adding,
 * replacing or removing a file therefore makes a new key, and the next call reads the files
 * again; nothing is ever invalidated by hand. Thread-safe.
 *
 * @param <V> what the files are read into
 */
final class DiskSnapshots<V> {
  /** The regular files of one path as they are now, and the key that names that state. */
  record Snapshot(boolean directory, List<Path> files, Object key) {}

  /** Reads the files of a snapshot (in name order for a directory) into one value. */
  interface Reader<V> {
    V read(Snapshot snapshot) throws SmimeException;
  }

  private record FileKey(Path path, long mtime, long size) {}

  private record DirKey(Path path, Map<String, List<Long>> listing) {}

  /** A state of the disk read in one way among several (a key file opened with a password). */
  private record VariantKey(Object snapshot, String variant) {}

  private final int maxEntries;
  private final Map<Object, V> cache = new ConcurrentHashMap<>();
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();

  DiskSnapshots(int maxEntries) {
    this.maxEntries = maxEntries;
  }

  /** The state of {@code path} now: a regular file or a directory, else an IOException. */
  static Snapshot snapshot(Path path) throws IOException {
    BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
    Path absolute = path.toAbsolutePath().normalize();
    if (a.isRegularFile()) {
      return new Snapshot(false, List.of(path),
          new FileKey(absolute, a.lastModifiedTime().toMillis(), a.size()));
    }
    if (!a.isDirectory()) {
      throw new IOException("not a file or directory");
    }
    Map<String, List<Long>> listing = new TreeMap<>();
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(path)) {
      for (Path p : stream) {
        BasicFileAttributes f;
        try {
          f = Files.readAttributes(p, BasicFileAttributes.class);
        } catch (IOException e) {
          continue; // a dangling link holds nothing
        }
        if (f.isRegularFile()) {
          listing.put(p.getFileName().toString(),
              List.of(f.lastModifiedTime().toMillis(), f.size()));
          files.add(p);
        }
      }
    }
    files.sort(null);
    return new Snapshot(true, List.copyOf(files), new DirKey(absolute, listing));
  }

  /** The cached value for this state of the disk, read on first use. */
  V get(Snapshot snapshot, Reader<V> reader) throws SmimeException {
    return get(snapshot.key(), snapshot, reader);
  }

  /**
   * The same, for one {@code variant} of reading it: values read with different variants never
   * stand in for each other (a key cached under one password is not found under another).
   */
  V get(Snapshot snapshot, String variant, Reader<V> reader) throws SmimeException {
    return get(new VariantKey(snapshot.key(), variant), snapshot, reader);
  }

  private V get(Object key, Snapshot snapshot, Reader<V> reader) throws SmimeException {
    V cached = cache.get(key);
    if (cached != null) {
      hits.increment();
      return cached;
    }
    misses.increment();
    V value = reader.read(snapshot);
    if (cache.size() >= maxEntries) {
      cache.clear();
    }
    cache.put(key, value);
    return value;
  }

  long hits() {
    return hits.sum();
  }

  long misses() {
    return misses.sum();
  }

  int size() {
    return cache.size();
  }

  /** A short, key-free description of why a path could not be read. */
  static String why(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file or directory";
    }
    return e.getMessage() != null && e.getClass() == IOException.class
        ? e.getMessage() : e.getClass().getSimpleName();
  }
}
