package org.sympasmime;

/** Version strings reported by {@code service.version} and {@code --version}. */
public final class Version {
  public static final String VERSION = "0.1.0";
  /** Bumped whenever a method's request or result changes incompatibly. */
  public static final int PROTOCOL = 1;

  private Version() {}
}
