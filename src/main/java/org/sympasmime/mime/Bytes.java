package org.sympasmime.mime;

/** Byte-array searches the JDK lacks. */
public final class Bytes {
  private Bytes() {}

  /** Whether {@code needle} occurs anywhere in {@code haystack}. */
  public static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
